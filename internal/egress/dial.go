package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resolver looks names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer connects only to addresses its Policy allows.
type Dialer struct {
	// Policy decides; nil applies the built-in refusals only.
	Policy *Policy
	// Resolver looks names up; nil is net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds one connection attempt; zero means none beyond the
	// context's.
	Timeout time.Duration
}

// ErrConnect is wrapped by every failure to connect to an allowed address.
var ErrConnect = errors.New("could not connect")

// ConnectError is a failed connection to an allowed address. Its message
// does not say whether the port was closed, filtered or timed out; the
// cause is for the log and for errors.Is.
type ConnectError struct {
	Err error
}

func (e *ConnectError) Error() string { return "could not connect to the endpoint" }

// Unwrap keeps both the cause (net.Error, ECONNREFUSED) and ErrConnect.
func (e *ConnectError) Unwrap() []error { return []error{ErrConnect, e.Err} }

// Timeout lets net/http and retry logic see a timeout as such.
func (e *ConnectError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// Temporary is net.Error's; a connection failure may pass.
func (e *ConnectError) Temporary() bool { return true }

// DialContext resolves addr's host, checks every address it resolves to,
// and connects to the first allowed one that answers. If any resolved
// address is refused the whole name is: a name that mixes a public and a
// loopback address is a rebinding attempt. The connection goes to the
// checked IP, not the name, and the control hook checks it once more.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("the address to connect to is not host:port: %w", err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("the port %q is not a number", portText)
	}
	addrs, err := d.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := d.Policy.Check(host, a, uint16(port)); err != nil {
			return nil, err
		}
	}
	nd := net.Dialer{
		Timeout: d.Timeout,
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &RefusedError{Detail: fmt.Sprintf("connect-time address %q does not parse", address)}
			}
			return d.Policy.Check(host, ap.Addr(), ap.Port())
		},
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := nd.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		var re *RefusedError
		if errors.As(err, &re) {
			return nil, re
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &ConnectError{Err: firstErr}
}

// resolve turns host into addresses: an IP literal in any form a C
// resolver would accept (127.1, 2130706433, 0x7f.1), or a name looked up.
func (d *Dialer) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := parseIP(host); ok {
		return []netip.Addr{a}, nil
	}
	var r Resolver = net.DefaultResolver
	if d.Resolver != nil {
		r = d.Resolver
	}
	ipNet := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNet = "ip4"
	case "tcp6", "udp6":
		ipNet = "ip6"
	}
	addrs, err := r.LookupNetIP(ctx, ipNet, host)
	if err != nil {
		return nil, fmt.Errorf("could not resolve the endpoint's host name: %w", err)
	}
	if len(addrs) == 0 {
		return nil, errors.New("could not resolve the endpoint's host name: no addresses")
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = a.Unmap()
	}
	return out, nil
}

// parseIP parses an IP literal, unmapped, including the IPv4 forms of
// inet_aton: one to four parts, each decimal, octal (leading 0) or hex
// (0x), the last filling the remaining bytes.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(4-(len(vals)-1))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// parseAtonPart parses one part of an inet_aton address: 0x hex, 0 octal
// or decimal, at most 32 bits.
func parseAtonPart(p string) (uint64, bool) {
	base := 10
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" || strings.ContainsAny(p, "+-_") {
		return 0, false
	}
	v, err := strconv.ParseUint(p, base, 32)
	return v, err == nil
}
