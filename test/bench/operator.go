package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// operatorProcess is one run of the operator binary.
type operatorProcess struct {
	cmd         *exec.Cmd
	done        chan struct{}
	receiverURL string
	metricsURL  string
	startedAt   time.Time
}

// buildManager builds ./cmd as `make build` does, into dir.
func buildManager(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd")
	build.Dir = localcluster.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building the operator: %w", err)
	}
	return bin, nil
}

// startOperator runs the binary as the operator's identity with extra flags
// after the fixed ones, and waits until it answers /readyz.
func (b *bench) startOperator(ctx context.Context, extra ...string) (*operatorProcess, error) {
	receiverAddr, probeAddr, metricsAddr, err := freeAddrs()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--metrics-bind-address=" + metricsAddr,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + probeAddr,
		"--receiver-bind-address=" + receiverAddr,
		"--egress-allow=127.0.0.0/8,[::1]/128", // the stand-ins listen on loopback
	}
	args = append(append(args, b.cfg.operatorArgs...), extra...)
	cmd := exec.Command(b.managerBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+b.kubeconfigPath, "POD_NAMESPACE="+localcluster.OperatorNamespace)
	cmd.Stdout, cmd.Stderr = b.operatorLog, b.operatorLog
	// Its own process group keeps a terminal's Ctrl-C from reaching it
	// before the bench has stopped it in order; Pdeathsig ends it should
	// the bench itself be killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &operatorProcess{cmd: cmd, done: make(chan struct{}),
		receiverURL: "http://" + receiverAddr, metricsURL: "http://" + metricsAddr + "/metrics"}
	p.startedAt = b.clock.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the operator: %w", err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	ready := func(ctx context.Context) (bool, error) {
		select {
		case <-p.done:
			return false, fmt.Errorf("the operator exited: %s; its log is %s", cmd.ProcessState, b.operatorLog.Name())
		default:
		}
		return localcluster.AnswersOK(ctx, "http://"+probeAddr+"/readyz"), nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, ready); err != nil {
		p.stop()
		return nil, fmt.Errorf("waiting for the operator to become ready: %w", err)
	}
	return p, nil
}

// stop ends the operator as a kubelet would, and kills it if it lingers.
func (p *operatorProcess) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// rss reads the operator's resident and peak resident memory, in bytes.
func (p *operatorProcess) rss() (current, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the operator's memory: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("reading %s of the operator: %w", name, err)
		}
		if name == "VmRSS" {
			current = kib << 10
		} else {
			peak = kib << 10
		}
	}
	if current == 0 {
		return 0, 0, errors.New("the operator's /proc status has no VmRSS")
	}
	return current, peak, nil
}

// freeAddrs returns three loopback addresses with ports nothing listens on.
// The listeners stay open until all three are chosen, so they differ.
func freeAddrs() (a, b, c string, err error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", "", fmt.Errorf("finding a free port: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns[0].Addr().String(), lns[1].Addr().String(), lns[2].Addr().String(), nil
}
