package fallback

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Defaults of the probe.
const (
	DefaultProbeInterval = 2 * time.Second
	DefaultProbeTimeout  = time.Second
)

// Config configures a Pager.
type Config struct {
	// Block is the loaded receiver block.
	Block *Block
	// Probe tells whether the API server answers; an error means it does
	// not. It is called with a short deadline.
	Probe func(ctx context.Context) error
	// Leader returns the host:port of the last observed leader's receiver
	// ("" if unknown) and whether this replica is that leader.
	Leader func() (peer string, self bool)
	// After is how long the API server must have been unreachable, with
	// groups waiting, before the outage message; Repeat the least time
	// between two of them.
	After, Repeat time.Duration
	// ProbeInterval and ProbeTimeout: 0 means the defaults.
	ProbeInterval, ProbeTimeout time.Duration
	// Egress guards the connections that forward groups to the leader.
	Egress *egress.Policy
	// Clock is the time source; nil means the real clock.
	Clock clock.WithTicker
	Log   logr.Logger
}

// Pager sends the fallback's messages. It runs on every replica from the
// process's start, whatever the API server does.
type Pager struct {
	cfg   Config
	block *Block
	key   []byte
	clock clock.WithTicker
	http  *http.Client
	log   logr.Logger

	// reads holds a token per forwarded body being read (maxForwardReads).
	reads chan struct{}

	mu sync.Mutex
	t  *tracker
	// handOverFailing says the last forward failed, so that the log says
	// when forwarding fails and when it works again, not on every tick.
	handOverFailing bool
}

// NewPager returns a Pager; Start runs it.
func NewPager(c Config) (*Pager, error) {
	if c.Block == nil || c.Block.Sender == nil || c.Probe == nil {
		return nil, errors.New("the fallback needs a receiver block and a probe of the API server")
	}
	if c.Leader == nil {
		c.Leader = func() (string, bool) { return "", true }
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	clk := c.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	dialer := &egress.Dialer{Policy: c.Egress, Timeout: forwardTimeout}
	return &Pager{
		cfg: c, block: c.Block, key: c.Block.Key, clock: clk, log: c.Log,
		http: &http.Client{
			Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true, ResponseHeaderTimeout: forwardTimeout},
			Timeout:   forwardTimeout,
			// The leader answers itself; a redirect is someone else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		reads: make(chan struct{}, maxForwardReads),
		t: newTracker(c.After, c.Repeat, func() time.Duration {
			return rand.N(MaxSelfDelay + 1) //nolint:gosec // spreads replicas in time, no secret
		}),
	}, nil
}

// Waiting tells the Pager about a notification that could not be recorded
// because the API server cannot be reached: its group's key (such as
// namespace/route/groupKey) and its incident's title.
func (p *Pager) Waiting(key, title string) {
	now := p.clock.Now()
	p.mu.Lock()
	p.t.note(now, Group{Key: key, Title: title})
	p.mu.Unlock()
}

// NeedLeaderElection is false: every replica watches the API server, and
// the fallback matters most when no leader can renew its lease.
func (p *Pager) NeedLeaderElection() bool { return false }

// Start probes the API server every ProbeInterval until ctx ends, and
// acts on what it finds.
func (p *Pager) Start(ctx context.Context) error {
	tick := p.clock.NewTicker(p.cfg.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C():
			p.step(ctx)
		}
	}
}

// step runs one probe and what follows from it.
func (p *Pager) step(ctx context.Context) {
	probeCtx, cancel := context.WithTimeout(ctx, p.cfg.ProbeTimeout)
	err := p.cfg.Probe(probeCtx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	now := p.clock.Now()
	peer, self := p.cfg.Leader()

	p.mu.Lock()
	since := p.t.downSince
	back := p.t.upSince
	recovered := p.t.observe(now, err == nil)
	if err != nil && since.IsZero() {
		p.log.Info("The Kubernetes API server does not answer; the fallback counts the notifications that cannot be recorded", "error", err.Error())
	}
	pl := p.t.plan(now, self, peer)
	WaitingGroups.Set(float64(p.t.waitingCount()))
	overflow, round := p.t.overflow, p.t.sent+1
	downSince := p.t.downSince
	p.mu.Unlock()

	if recovered {
		p.send(ctx, MessageRecovered, recoveredMessage(since, back, now))
	}
	if len(pl.forward) > 0 {
		ferr := p.forward(ctx, peer, pl.forward)
		outcome, result := forwardDelivered, ForwardDelivered
		switch {
		case errors.Is(ferr, errLeaderBusy):
			outcome, result = forwardBusy, ForwardBusy
		case ferr != nil:
			outcome, result = forwardFailed, ForwardFailed
		}
		Forwards.WithLabelValues(result).Inc()
		switch {
		case outcome == forwardFailed && !p.handOverFailing:
			p.log.Info("Could not hand the waiting groups to the leader; this replica pages itself if it must", "leader", peer, "error", ferr.Error())
			p.handOverFailing = true
		case outcome == forwardDelivered && p.handOverFailing:
			p.log.Info("Handed the waiting groups to the leader again", "leader", peer)
			p.handOverFailing = false
		}
		p.mu.Lock()
		p.t.forwardResult(p.clock.Now(), pl.upTo, outcome)
		p.mu.Unlock()
	}
	if pl.send {
		ok := p.send(ctx, MessageOutage, outageMessage(downSince, now, pl.waiting, overflow, round))
		p.mu.Lock()
		p.t.sendResult(p.clock.Now(), ok)
		p.mu.Unlock()
	}
}

// send sends one message, within notify.SendTimeout, and logs and counts it.
func (p *Pager) send(ctx context.Context, which string, m *notify.Message) bool {
	ctx, cancel := context.WithTimeout(ctx, notify.SendTimeout)
	defer cancel()
	sender, err := p.block.NewSender()
	if err == nil {
		_, err = sender.Send(ctx, m)
	}
	if err != nil {
		Pages.WithLabelValues(which, ResultFailed).Inc()
		p.log.Error(err, "The fallback receiver could not send", "message", which, "detail", notify.LogDetail(err))
		return false
	}
	Pages.WithLabelValues(which, ResultSent).Inc()
	p.log.Info("Sent through the fallback receiver", "message", which, "title", m.Incident.Title)
	return true
}
