package proc

import (
	"fmt"
	"net"
	"testing"
)

// FreeAddrs returns n distinct loopback addresses with ports nothing
// listened on a moment ago. The listeners stay open until all n are chosen,
// so no two are the same.
func FreeAddrs(n int) ([]string, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// FreeAddr returns a loopback address with a port nothing listened on a
// moment ago, failing tb if there is none.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	addrs, err := FreeAddrs(1)
	if err != nil {
		tb.Fatal(err)
	}
	return addrs[0]
}
