package alertmanager

import (
	"net/netip"

	"github.com/klaxon-dev/klaxon/internal/egress"
)

// loopback is the egress allowance of this package's tests, whose servers
// listen on loopback, which the built-in refusals turn away.
var loopback = egress.New(egress.Config{Allow: []egress.Rule{
	{Prefix: netip.MustParsePrefix("127.0.0.0/8")}, {Prefix: netip.MustParsePrefix("::1/128")},
}})
