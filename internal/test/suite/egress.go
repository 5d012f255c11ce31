package suite

import (
	"net/netip"

	"github.com/klaxon-dev/klaxon/internal/egress"
)

// LoopbackEgress allows what the tests deliver to: mailpit, webhook and
// Slack stand-ins and a real Alertmanager, all on 127.0.0.1 or ::1, which
// the egress policy refuses by default. The rest of 127.0.0.0/8 stays
// refused, for the tests of the refusals.
var LoopbackEgress = []egress.Rule{
	{Prefix: netip.MustParsePrefix("127.0.0.1/32")},
	{Prefix: netip.MustParsePrefix("::1/128")},
}

// LoopbackPolicy is LoopbackEgress as a policy, for components the tests
// build without an operator.
func LoopbackPolicy() *egress.Policy {
	return egress.New(egress.Config{Allow: LoopbackEgress})
}
