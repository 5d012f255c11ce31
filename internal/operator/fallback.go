package operator

import (
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/fallback"
)

// fallbackProbeTimeout bounds one probe of the API server: a healthy one
// answers /readyz in milliseconds.
const fallbackProbeTimeout = time.Second

// newFallback builds the fallback page from --fallback-receiver-file: a
// Pager probing the API server's /readyz with a client of its own. With no
// file, or one that is missing, unreadable or invalid, it returns nil and
// the operator runs without a fallback, which the log and
// klaxon_fallback_configured say. leader names the last observed leader's
// receiver (peer, "" if unknown) and whether this replica is it.
func newFallback(cfg *rest.Config, o Options, policy *egress.Policy, leader func() (peer string, self bool), log logr.Logger) (*fallback.Pager, error) {
	fallback.Configured.Set(0)
	if o.FallbackReceiverFile == "" {
		log.Info("No fallback page: --fallback-receiver-file is not set")
		return nil, nil
	}
	block, err := fallback.Load(o.FallbackReceiverFile, policy, o.PublicURL, nil)
	if err != nil {
		log.Error(err, "Running without a fallback page")
		return nil, nil
	}
	probe, err := readyz(cfg, fallbackProbeTimeout)
	if err != nil {
		return nil, err
	}
	after, repeat := o.FallbackAfter, o.FallbackRepeat
	if after <= 0 {
		after = DefaultFallbackAfter
	}
	if repeat <= 0 {
		repeat = DefaultFallbackRepeat
	}
	p, err := fallback.NewPager(fallback.Config{
		Block: block, Probe: probe, Leader: leader, After: after, Repeat: repeat,
		ProbeTimeout: fallbackProbeTimeout, Egress: policy, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("building the fallback page: %w", err)
	}
	fallback.Configured.Set(1)
	log.Info("Fallback page ready", "file", o.FallbackReceiverFile, "after", after, "repeat", repeat)
	return p, nil
}
