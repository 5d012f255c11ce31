package operator

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"k8s.io/client-go/rest"

	"github.com/klaxon-dev/klaxon/internal/egress"
)

// resolveTimeout bounds the lookup of the API server's name at start-up.
const resolveTimeout = 10 * time.Second

// egressPolicy is the policy of every connection made for a namespace's
// objects: the flags' lists, and the operator's own addresses refused.
func egressPolicy(cfg *rest.Config, o Options) (*egress.Policy, error) {
	own, err := ownAddresses(cfg, o.PodIP)
	if err != nil {
		return nil, err
	}
	return egress.New(egress.Config{Allow: o.EgressAllow, Deny: o.EgressDeny, DenyPrivate: o.EgressDenyPrivate, Own: own}), nil
}

// ownAddresses are the operator pod's IP (every port: its receiver,
// metrics and probes) and the API server's address and port, resolved
// now when it is a name.
func ownAddresses(cfg *rest.Config, podIP string) ([]egress.Rule, error) {
	var own []egress.Rule
	if podIP != "" {
		a, err := netip.ParseAddr(podIP)
		if err != nil {
			return nil, fmt.Errorf("the pod IP %q is not an IP address: %w", podIP, err)
		}
		a = a.Unmap()
		own = append(own, egress.Rule{Prefix: netip.PrefixFrom(a, a.BitLen())})
	}
	host, port, err := apiServerHostPort(cfg.Host)
	if err != nil {
		return nil, err
	}
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, a.Unmap())
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		defer cancel()
		found, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolving the API server's host %q, to keep channels from connecting to it: %w", host, err)
		}
		addrs = found
	}
	for _, a := range addrs {
		own = append(own, egress.Rule{Host: a.Unmap().String(), Port: port})
	}
	return own, nil
}

// apiServerHostPort reads the host and port of a rest.Config's Host, a
// URL or a bare host[:port].
func apiServerHostPort(hostURL string) (string, uint16, error) {
	u, err := url.Parse(hostURL)
	if err != nil || u.Host == "" {
		u, err = url.Parse("https://" + hostURL)
		if err != nil {
			return "", 0, fmt.Errorf("the API server's address %q does not parse: %w", hostURL, err)
		}
	}
	portText := u.Port()
	if portText == "" {
		portText = "443"
		if u.Scheme == "http" {
			portText = "80"
		}
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("the API server's port %q is not a number: %w", portText, err)
	}
	return u.Hostname(), uint16(port), nil
}
