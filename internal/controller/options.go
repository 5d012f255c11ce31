package controller

import (
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/egress"
)

// Option configures a reconciler.
type Option func(*options)

type options struct {
	clock clock.PassiveClock
	// closedIncidentRetention is how long closed incidents are kept; 0
	// keeps them (WithClosedIncidentRetention).
	closedIncidentRetention time.Duration
	// overrideRetention is how long ended OnCallOverrides are kept; 0
	// keeps them (WithOverrideRetention).
	overrideRetention time.Duration
	// publicURL is where people reach Klaxon's HTTP server, for links in
	// messages (WithPublicURL); empty leaves links out.
	publicURL string
	ackLinks  ackLinkOptions
	// incidentWorkers is how many incidents are reconciled at once
	// (WithIncidentWorkers).
	incidentWorkers int
	// egress decides where channels and Alertmanager calls connect
	// (WithEgress); nil applies the built-in refusals only.
	egress *egress.Policy
	// relay brings the incidents the receiver writes to the incident
	// reconciler ahead of the watch (WithRelay); nil takes none.
	relay *Relay
}

// DefaultIncidentWorkers is how many incidents are reconciled at once by
// default. A reconcile mostly waits on the API server (its status write),
// so in an alert storm the workers, not the CPU, bound paging: with 4, all
// busy at some 30 ms a reconcile, a storm's backlog took most of a minute to
// page after the storm had ended; with 16 paging keeps pace with what the
// receiver accepts. More than that adds conflicts (reconciles of a cached
// copy older than the sender's write) without paging faster.
const DefaultIncidentWorkers = 16

// WithIncidentWorkers sets how many incidents are reconciled at once; the
// same incident is never reconciled twice at once.
func WithIncidentWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.incidentWorkers = n
		}
	}
}

// WithClock sets the clock reconcilers read the time from; tests pass a fake.
func WithClock(c clock.PassiveClock) Option {
	return func(o *options) { o.clock = c }
}

// WithPublicURL sets the URL, without a trailing slash, under which Klaxon's
// HTTP server is reachable, for the links in the messages it sends.
func WithPublicURL(u string) Option {
	return func(o *options) { o.publicURL = strings.TrimRight(u, "/") }
}

func buildOptions(opts []Option) options {
	o := options{clock: clock.RealClock{}, incidentWorkers: DefaultIncidentWorkers}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
