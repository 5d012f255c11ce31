package receiver

import (
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer string
		forwarded  []string
		want       string
	}{
		{"no header", "203.0.113.9:4000", nil, "203.0.113.9"},
		{"untrusted peer", "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer", "10.1.1.1:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted address", "192.0.2.1:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"address next to a trusted one", "192.0.2.2:4000", []string{"198.51.100.1"}, "192.0.2.2"},
		{"spoofed left-most entry", "10.1.1.1:4000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"chain of proxies", "10.1.1.1:4000", []string{"6.6.6.6, 198.51.100.1, 10.2.2.2", "10.3.3.3"}, "198.51.100.1"},
		{"only proxies", "10.1.1.1:4000", []string{"10.2.2.2"}, "10.2.2.2"},
		{"garbage entry", "10.1.1.1:4000", []string{"198.51.100.1, not-an-address, 10.2.2.2"}, "10.2.2.2"},
		{"empty header", "10.1.1.1:4000", []string{""}, "10.1.1.1"},
		{"mapped IPv4 peer", "[::ffff:10.1.1.1]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv6", "[2001:db8::1]:4000", []string{"2001:db9::7"}, "2001:db9::7"},
	}
	for _, tc := range cases {
		if got := clientAddress(tc.peer, tc.forwarded, proxies); got != tc.want {
			t.Errorf("%s: %q", tc.name, got)
		}
	}
	if got := clientAddress("10.1.1.1:4000", []string{"198.51.100.1"}, nil); got != "10.1.1.1" {
		t.Errorf("without trusted proxies: %q", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.1.2.3/8 ,,::ffff:192.0.2.1")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,ingress"); err == nil {
		t.Error("a name was accepted")
	}
	if got, err := ParseTrustedProxies(""); err != nil || got != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
}
