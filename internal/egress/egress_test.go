package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func mustRules(t *testing.T, list string) []Rule {
	t.Helper()
	r, err := ParseRules("--egress-allow", list)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseIPForms(t *testing.T) {
	cases := map[string]string{
		"127.1":            "127.0.0.1",
		"2130706433":       "127.0.0.1",
		"0x7f.1":           "127.0.0.1",
		"0177.0.0.1":       "127.0.0.1",
		"::ffff:127.0.0.1": "127.0.0.1",
		"[::1]":            "::1",
		"169.254.169.254":  "169.254.169.254",
		"10.1.65535":       "10.1.255.255",
	}
	for in, want := range cases {
		got, ok := parseIP(in)
		if !ok || got.String() != want {
			t.Errorf("parseIP(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"example.com", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "0x", "1_0.0.0.1", "0b1", "", "08.1"} {
		if a, ok := parseIP(in); ok {
			t.Errorf("parseIP(%q) = %v; want no IP", in, a)
		}
	}
}

// stubResolver answers every name with its addresses.
type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestDialRefusesBuiltins(t *testing.T) {
	res := stubResolver{
		"localtest.example": {netip.MustParseAddr("127.0.0.1")},
		"mixed.example":     {netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("::ffff:127.0.0.1")},
	}
	d := &Dialer{Resolver: res}
	for _, host := range []string{
		"127.1", "2130706433", "0x7f.1", "::ffff:127.0.0.1", "::1", "169.254.169.254", "fe80::1", "fd00:ec2::254",
		"0.0.0.0", "::", "224.0.0.1", "ff02::1", "100.100.100.200", "localtest.example", "mixed.example", "0.1.2.3",
	} {
		_, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(host, "80"))
		var re *RefusedError
		if !errors.As(err, &re) || !errors.Is(err, ErrRefused) {
			t.Errorf("dialling %s: got %v, want a refusal", host, err)
		}
	}
}

// A refused address gets the same error whether its port is open or not.
func TestRefusalSameForOpenAndClosedPort(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	d := &Dialer{}
	_, errOpen := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	_, errClosed := d.DialContext(context.Background(), "tcp", closed)
	if errOpen == nil || errClosed == nil || errOpen.Error() != errClosed.Error() {
		t.Fatalf("open port: %v; closed port: %v; want the same refusal", errOpen, errClosed)
	}
	if strings.Contains(errOpen.Error(), "127.0.0.1") {
		t.Errorf("the refusal names the address: %v", errOpen)
	}
}

func TestAllowWinsOverBuiltins(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	d := &Dialer{Policy: New(Config{Allow: mustRules(t, "127.0.0.0/8,[::1]/128")})}
	conn, err := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dialling an allowed loopback server: %v", err)
	}
	_ = conn.Close()
}

func TestConnectErrorSameForEveryCause(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	_ = l.Close()
	d := &Dialer{Policy: New(Config{Allow: mustRules(t, "127.0.0.0/8")})}
	_, err = d.DialContext(context.Background(), "tcp", closed)
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConnect) {
		t.Fatalf("got %v, want a ConnectError", err)
	}
	if strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("the error tells the cause or the address: %q", err)
	}
}

func TestCheckOrder(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	pod := netip.MustParseAddr("10.244.0.5")
	api := netip.MustParseAddr("10.96.0.1")
	own := []Rule{{Prefix: netip.PrefixFrom(pod, 32)}, {Host: api.String(), Port: 443}}
	cases := []struct {
		name   string
		cfg    Config
		host   string
		addr   netip.Addr
		port   uint16
		refuse bool
	}{
		{"loopback refused by default", Config{}, "", lo, 80, true},
		{"public allowed by default", Config{}, "", netip.MustParseAddr("203.0.113.1"), 443, false},
		{"private allowed by default", Config{}, "", netip.MustParseAddr("10.1.2.3"), 443, false},
		{"private refused with DenyPrivate", Config{DenyPrivate: true}, "", netip.MustParseAddr("192.168.1.1"), 443, true},
		{"ULA refused with DenyPrivate", Config{DenyPrivate: true}, "", netip.MustParseAddr("fd12::1"), 443, true},
		{"allow CIDR beats DenyPrivate", Config{DenyPrivate: true, Allow: mustRules(t, "192.168.0.0/16")}, "", netip.MustParseAddr("192.168.1.1"), 443, false},
		{"allow CIDR beats loopback", Config{Allow: mustRules(t, "127.0.0.0/8")}, "", lo, 80, false},
		{"deny beats allow", Config{Allow: mustRules(t, "127.0.0.0/8"), Deny: mustRules(t, "127.0.0.1:80")}, "", lo, 80, true},
		{"deny CIDR refuses public", Config{Deny: mustRules(t, "203.0.113.0/24")}, "", netip.MustParseAddr("203.0.113.9"), 443, true},
		{"allow host:port is one port", Config{Allow: mustRules(t, "127.0.0.1:9093")}, "", lo, 9094, true},
		{"allow host:port allows its port", Config{Allow: mustRules(t, "127.0.0.1:9093")}, "", lo, 9093, false},
		{"allow by name", Config{Allow: mustRules(t, "SMTP.Internal.:25")}, "smtp.internal", lo, 25, false},
		{"allow by name, other name", Config{Allow: mustRules(t, "smtp.internal:25")}, "evil.example", lo, 25, true},
		{"deny by name", Config{Deny: mustRules(t, "hooks.example:443")}, "hooks.example", netip.MustParseAddr("203.0.113.1"), 443, true},
		{"own pod refused", Config{Own: own}, "", pod, 8443, true},
		{"own pod beats allow CIDR", Config{Own: own, Allow: mustRules(t, "10.0.0.0/8")}, "", pod, 8443, true},
		{"own API server port refused", Config{Own: own, Allow: mustRules(t, "10.0.0.0/8")}, "", api, 443, true},
		{"API server's other port", Config{Own: own}, "", api, 80, false},
		{"own pod allowed by host:port", Config{Own: own, Allow: mustRules(t, "10.244.0.5:9093")}, "", pod, 9093, false},
		{"mapped address checked unmapped", Config{}, "", netip.MustParseAddr("::ffff:169.254.169.254"), 80, true},
		{"mapped allow CIDR", Config{Allow: mustRules(t, "::ffff:127.0.0.0/104")}, "", lo, 80, false},
	}
	for _, c := range cases {
		err := New(c.cfg).Check(c.host, c.addr, c.port)
		if (err != nil) != c.refuse {
			t.Errorf("%s: Check(%q, %s, %d) = %v; refuse %v", c.name, c.host, c.addr, c.port, err, c.refuse)
		}
	}
}

func TestParseRules(t *testing.T) {
	got := mustRules(t, " 127.0.0.0/8, [::1]/128 ,10.1.2.3,smtp.internal:587,[fd00::1]:9093,,")
	want := []string{"127.0.0.0/8", "::1/128", "10.1.2.3/32", "smtp.internal:587", "[fd00::1]:9093"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("rule %d: got %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "smtp.internal", "smtp.internal:0", "smtp.internal:70000", ":25", "10.0.0.0/8/8"} {
		_, err := ParseRules("--egress-deny", bad)
		if err == nil || !strings.Contains(err.Error(), "--egress-deny") || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParseRules(%q) = %v; want an error naming the flag and entry", bad, err)
		}
	}
}
