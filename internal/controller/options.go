package controller

import (
	"time"

	"k8s.io/utils/clock"
)

// Option configures a reconciler.
type Option func(*options)

type options struct {
	clock clock.PassiveClock
	// closedIncidentRetention is how long closed incidents are kept; 0
	// keeps them (WithClosedIncidentRetention).
	closedIncidentRetention time.Duration
}

// WithClock sets the clock reconcilers read the time from; tests pass a fake.
func WithClock(c clock.PassiveClock) Option {
	return func(o *options) { o.clock = c }
}

func buildOptions(opts []Option) options {
	o := options{clock: clock.RealClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
