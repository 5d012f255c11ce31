package main

import (
	"context"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// operatorProcess is one run of the operator binary.
type operatorProcess struct {
	*proc.Operator
	receiverURL string
	metricsURL  string
	startedAt   time.Time
}

// startOperator runs the binary as the operator's identity with extra flags
// after the fixed ones, and waits until it answers /readyz.
func (b *bench) startOperator(ctx context.Context, extra ...string) (*operatorProcess, error) {
	startedAt := b.clock.Now()
	op, err := proc.StartOperator(ctx, proc.OperatorOptions{
		Binary:     b.managerBin,
		Kubeconfig: b.kubeconfigPath,
		Namespace:  localcluster.OperatorNamespace,
		Flags:      append(append([]string(nil), b.cfg.operatorArgs...), extra...),
		LogPath:    b.operatorLog,
		// Its own process group keeps a terminal's Ctrl-C from reaching it
		// before the bench has stopped it in order.
		OwnProcessGroup: true,
	})
	if err != nil {
		return nil, err
	}
	return &operatorProcess{Operator: op, receiverURL: op.ReceiverURL, metricsURL: op.MetricsURL, startedAt: startedAt}, nil
}

// stop ends the operator as a kubelet would, and kills it if it lingers.
func (p *operatorProcess) stop() {
	if p == nil {
		return
	}
	p.Stop()
}

// rss reads the operator's resident and peak resident memory, in bytes.
func (p *operatorProcess) rss() (current, peak int64, err error) {
	return p.RSS()
}
