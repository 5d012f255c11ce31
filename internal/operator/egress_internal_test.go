package operator

import (
	"net"
	"net/netip"
	"strconv"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/klaxon-dev/klaxon/internal/egress"
)

func cidr(s string) egress.Rule { return egress.Rule{Prefix: netip.MustParsePrefix(s)} }

func TestAPIServerHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"https://10.96.0.1:443":   "10.96.0.1:443",
		"https://10.96.0.1":       "10.96.0.1:443",
		"http://127.0.0.1:8080":   "127.0.0.1:8080",
		"127.0.0.1:6443":          "127.0.0.1:6443",
		"https://[fd00::1]:6443/": "[fd00::1]:6443",
	} {
		host, port, err := apiServerHostPort(in)
		if err != nil || net.JoinHostPort(host, strconv.Itoa(int(port))) != want {
			t.Errorf("apiServerHostPort(%q) = %s, %d, %v; want %s", in, host, port, err, want)
		}
	}
}

// The operator's pod and the API server's port are refused, even under an
// allow-list CIDR that holds them; the API server's other ports are not.
func TestOwnAddressesRefused(t *testing.T) {
	p, err := egressPolicy(&rest.Config{Host: "https://10.96.0.1:443"}, Options{
		PodIP: "10.244.1.7", EgressAllow: []egress.Rule{cidr("10.0.0.0/8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr   string
		port   uint16
		refuse bool
	}{
		{"10.244.1.7", 9095, true},
		{"10.244.1.7", 8081, true},
		{"10.96.0.1", 443, true},
		{"10.96.0.1", 80, false},
		{"10.1.2.3", 443, false},
	} {
		if err := p.Check("", netip.MustParseAddr(c.addr), c.port); (err != nil) != c.refuse {
			t.Errorf("%s:%d: %v; want refused %v", c.addr, c.port, err, c.refuse)
		}
	}
	if _, err := egressPolicy(&rest.Config{Host: "https://10.96.0.1"}, Options{PodIP: "not-an-ip"}); err == nil {
		t.Error("a bad pod IP was accepted")
	}
}
