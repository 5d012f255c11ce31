package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Rule is one entry of an allow- or deny-list: a CIDR, or a host and port.
type Rule struct {
	// Prefix is set for a CIDR (a bare IP is a one-address CIDR).
	Prefix netip.Prefix
	// Host and Port are set for a host:port entry; Host is an IP in its
	// canonical form, or a lower-case name without a trailing dot.
	Host string
	Port uint16
}

// String is the rule as a flag would give it.
func (r Rule) String() string {
	if r.Prefix.IsValid() {
		return r.Prefix.String()
	}
	return net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port)))
}

// ParseRules parses a comma-separated list of CIDRs (10.0.0.0/8,
// [::1]/128), bare IPs and host:port entries (smtp.internal:587,
// [fd00::1]:9093). Blank entries are skipped; flag names the flag in
// errors.
func ParseRules(flag, list string) ([]Rule, error) {
	var out []Rule
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		r, err := parseRule(entry)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %q: %w", flag, entry, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRule(entry string) (Rule, error) {
	if strings.Contains(entry, "/") {
		// [::1]/128 reads like the host:port form; brackets are optional.
		text := strings.Replace(strings.TrimPrefix(entry, "["), "]/", "/", 1)
		p, err := netip.ParsePrefix(text)
		if err != nil {
			return Rule{}, errors.New("not a CIDR such as 10.0.0.0/8 or fd00::/8")
		}
		return Rule{Prefix: normalPrefix(p)}, nil
	}
	if a, err := netip.ParseAddr(strings.Trim(entry, "[]")); err == nil {
		a = a.Unmap()
		return Rule{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	host, portText, err := net.SplitHostPort(entry)
	if err != nil || host == "" {
		return Rule{}, errors.New("neither a CIDR, an IP nor a host:port such as smtp.internal:587")
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return Rule{}, fmt.Errorf("port %q is not a number from 1 to 65535", portText)
	}
	return Rule{Host: normalHost(host), Port: uint16(port)}, nil
}

// normalPrefix unmaps an IPv4-mapped prefix (::ffff:10.0.0.0/104) and
// masks the host bits, so that Contains sees what the dialer sees.
func normalPrefix(p netip.Prefix) netip.Prefix {
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		a, bits = a.Unmap(), max(bits-96, 0)
	}
	return netip.PrefixFrom(a, bits).Masked()
}

// normalHost is the form host:port rules and dialled hosts are compared in.
func normalHost(host string) string {
	if a, ok := parseIP(host); ok {
		return a.String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// Config is what a Policy is built from.
type Config struct {
	// Allow wins over the built-in refusals (and over Own for host:port
	// entries that name an own address and port exactly).
	Allow []Rule
	// Deny is refused whatever Allow says.
	Deny []Rule
	// DenyPrivate refuses the private ranges too (PrivateRanges), unless
	// allowed: for an operator that should only reach the internet.
	DenyPrivate bool
	// Own are the operator's own addresses: its pod's IP and the API
	// server's address (a rule with a port refuses that port only).
	Own []Rule
}

// Policy decides whether an address may be connected to. The zero value
// and nil apply the built-in refusals only.
type Policy struct {
	allowCIDR, allowHostPort []Rule
	deny, own                []Rule
	denyPrivate              bool
}

// New builds a Policy; Own entries given as names are not resolved here.
func New(c Config) *Policy {
	p := &Policy{deny: c.Deny, own: c.Own, denyPrivate: c.DenyPrivate}
	for _, r := range c.Allow {
		if r.Prefix.IsValid() {
			p.allowCIDR = append(p.allowCIDR, r)
		} else {
			p.allowHostPort = append(p.allowHostPort, r)
		}
	}
	return p
}

// metadata are cloud metadata addresses outside the link-local ranges:
// AWS's IPv6 endpoint and Alibaba Cloud's.
var metadata = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("100.100.100.200/32"),
}

// PrivateRanges are what DenyPrivate refuses: RFC 1918, carrier-grade NAT
// (RFC 6598), IPv6 unique local addresses (RFC 4193), and the benchmarking
// and reserved ranges.
var PrivateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fc00::/7"),
}

// Check says whether the address may be connected to; host is the name
// dialled (empty, or the IP itself, when an IP was dialled). A refusal is
// an error wrapping ErrRefused.
func (p *Policy) Check(host string, addr netip.Addr, port uint16) error {
	if p == nil {
		p = &Policy{}
	}
	addr = addr.Unmap().WithZone("")
	host = normalHost(host)
	matches := func(r Rule) bool {
		if r.Prefix.IsValid() {
			return r.Prefix.Contains(addr)
		}
		return r.Port == port && (r.Host == host || r.Host == addr.String())
	}
	for _, r := range p.deny {
		if matches(r) {
			return refused(addr, port, "on the deny-list")
		}
	}
	for _, r := range p.allowHostPort {
		if matches(r) {
			return nil
		}
	}
	for _, r := range p.own {
		if r.Prefix.IsValid() && r.Prefix.Contains(addr) ||
			!r.Prefix.IsValid() && r.Port == port && r.Host == addr.String() {
			return refused(addr, port, "the operator's own or the API server's address")
		}
	}
	for _, r := range p.allowCIDR {
		if matches(r) {
			return nil
		}
	}
	if why := builtin(addr, p.denyPrivate); why != "" {
		return refused(addr, port, why)
	}
	return nil
}

// builtin says why an address is refused by default, or "".
func builtin(a netip.Addr, denyPrivate bool) string {
	switch {
	case !a.IsValid():
		return "not an IP address"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast(), a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "multicast or broadcast"
	case a.Is4() && a.As4()[0] == 0:
		// 0.0.0.0/8 reaches the local host on Linux.
		return "unspecified"
	}
	for _, m := range metadata {
		if m.Contains(a) {
			return "a cloud metadata address"
		}
	}
	if denyPrivate {
		for _, r := range PrivateRanges {
			if r.Contains(a) {
				return "private"
			}
		}
	}
	return ""
}

// ErrRefused is wrapped by every refusal of the policy.
var ErrRefused = errors.New("the egress policy refuses the address")

// RefusedError is a refusal. Its message is the same for every refused
// address, open port or closed, so that it tells a channel's author
// nothing about the network behind the operator; Detail is for the log.
type RefusedError struct {
	// Detail names the address and the reason, for the operator's log.
	Detail string
}

func (e *RefusedError) Error() string {
	return "the egress policy refuses this address: Klaxon does not connect to loopback, link-local, metadata, " +
		"its own or otherwise refused addresses unless an administrator allows them (--egress-allow)"
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

func refused(addr netip.Addr, port uint16, why string) error {
	return &RefusedError{Detail: fmt.Sprintf("%s port %d: %s", addr, port, why)}
}
