package controller

import "github.com/klaxon-dev/klaxon/internal/egress"

// WithEgress sets the policy that decides where notification channels and
// the Alertmanager API calls of AlertRoutes may connect. Without it only
// the built-in refusals apply (loopback, link-local, metadata, ...).
func WithEgress(p *egress.Policy) Option {
	return func(o *options) { o.egress = p }
}
