package proc

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// BuildOperator builds ./cmd as `make build` does, into dir, and returns
// the binary's path.
func BuildOperator(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd")
	build.Dir = RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building the operator: %w", err)
	}
	return bin, nil
}

// kubeconfigSource is a local control plane, such as a
// *localcluster.Cluster, that makes kubeconfigs for the operator's identity.
type kubeconfigSource interface {
	OperatorKubeconfig() ([]byte, error)
}

// WriteOperatorKubeconfig writes a kubeconfig with the operator's identity
// on c into dir and returns its path.
func WriteOperatorKubeconfig(c kubeconfigSource, dir string) (string, error) {
	data, err := c.OperatorKubeconfig()
	if err != nil {
		return "", fmt.Errorf("making the operator's kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "operator.kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("writing the operator's kubeconfig: %w", err)
	}
	return path, nil
}

// OperatorOptions say how to run the operator binary.
type OperatorOptions struct {
	// Name tells replicas apart in errors; empty means "operator".
	Name string
	// Binary is the operator binary, from BuildOperator or `make build`.
	Binary string
	// Kubeconfig is the path of a kubeconfig with the identity it runs as.
	Kubeconfig string
	// Namespace is its own namespace, POD_NAMESPACE as the Deployment sets
	// it (localcluster.OperatorNamespace on a local control plane).
	Namespace string
	// ReceiverAddr, ProbeAddr and MetricsAddr are where it listens, the
	// same across restarts; empty picks free loopback ports.
	ReceiverAddr, ProbeAddr, MetricsAddr string
	// PublicURL links pages to the receiver's own address (--public-url).
	PublicURL bool
	// Flags come after the fixed ones (the addresses, plain-HTTP metrics
	// and the loopback egress allowance).
	Flags []string
	// LogPath receives its output, appended to across restarts; empty
	// discards it.
	LogPath string
	// OwnProcessGroup keeps a terminal's Ctrl-C from reaching it before
	// the caller has stopped it in order.
	OwnProcessGroup bool
	// ReadyTimeout bounds the wait for /readyz; zero means a minute.
	ReadyTimeout time.Duration
}

// Operator is the operator binary running as a separate process, as one
// replica of a Deployment: start, kill and restart it like a kubelet.
type Operator struct {
	opts OperatorOptions
	args []string
	// ReceiverURL, MetricsURL and ProbeURL stay the same across restarts.
	ReceiverURL, MetricsURL, ProbeURL string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// NewOperator prepares an operator without starting it.
func NewOperator(o OperatorOptions) (*Operator, error) {
	if o.Name == "" {
		o.Name = "operator"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = time.Minute
	}
	free, err := FreeAddrs(3)
	if err != nil {
		return nil, err
	}
	for i, addr := range []*string{&o.ReceiverAddr, &o.ProbeAddr, &o.MetricsAddr} {
		if *addr == "" {
			*addr = free[i]
		}
	}
	op := &Operator{opts: o,
		ReceiverURL: "http://" + o.ReceiverAddr,
		MetricsURL:  "http://" + o.MetricsAddr + "/metrics",
		ProbeURL:    "http://" + o.ProbeAddr + "/readyz",
	}
	op.args = []string{
		"--receiver-bind-address=" + o.ReceiverAddr,
		"--health-probe-bind-address=" + o.ProbeAddr,
		"--metrics-bind-address=" + o.MetricsAddr,
		"--metrics-secure=false",
		// Every suite's stand-ins (mail, webhooks, Slack, Alertmanager)
		// listen on loopback, which the egress guard refuses by default.
		"--egress-allow=127.0.0.0/8,[::1]/128",
	}
	if o.PublicURL {
		op.args = append(op.args, "--public-url="+op.ReceiverURL)
	}
	op.args = append(op.args, o.Flags...)
	return op, nil
}

// StartOperator starts an operator and waits until it is ready; on error
// nothing is left running.
func StartOperator(ctx context.Context, o OperatorOptions) (*Operator, error) {
	op, err := NewOperator(o)
	if err != nil {
		return nil, err
	}
	if err := op.Start(); err != nil {
		return nil, err
	}
	if err := op.WaitReady(ctx); err != nil {
		op.Stop()
		return nil, err
	}
	return op, nil
}

// Name is the name it was given.
func (o *Operator) Name() string { return o.opts.Name }

// LogPath is where its output goes, or "".
func (o *Operator) LogPath() string { return o.opts.LogPath }

// Start starts the process; it may be called again once it has exited.
func (o *Operator) Start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	logFile, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if o.opts.LogPath != "" {
		logFile, err = os.OpenFile(o.opts.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	}
	if err != nil {
		return fmt.Errorf("opening the log of operator %s: %w", o.opts.Name, err)
	}
	cmd := exec.Command(o.opts.Binary, o.args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+o.opts.Kubeconfig, "POD_NAMESPACE="+o.opts.Namespace)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig ends it should the process that started it be killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: o.opts.OwnProcessGroup, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting operator %s: %w", o.opts.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(done) }()
	o.cmd, o.done = cmd, done
	return nil
}

// current is the latest process and the channel closed when it exits.
func (o *Operator) current() (*exec.Cmd, chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cmd, o.done
}

// WaitReady waits until the operator answers /readyz, and fails at once
// if it exits.
func (o *Operator) WaitReady(ctx context.Context) error {
	cmd, _ := o.current()
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, o.opts.ReadyTimeout, true, func(ctx context.Context) (bool, error) {
		if !o.Running() {
			return false, fmt.Errorf("operator %s exited: %s%s", o.opts.Name, cmd.ProcessState, o.logHint())
		}
		return AnswersOK(ctx, o.ProbeURL), nil
	})
	if err != nil {
		return fmt.Errorf("operator %s is not ready: %w", o.opts.Name, err)
	}
	return nil
}

func (o *Operator) logHint() string {
	if o.opts.LogPath == "" {
		return ""
	}
	return "; its log is " + o.opts.LogPath
}

// Running tells whether the latest process is alive.
func (o *Operator) Running() bool {
	_, done := o.current()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Kill ends the process with SIGKILL: no lease released, nothing flushed.
func (o *Operator) Kill() {
	cmd, done := o.current()
	if done == nil || !o.Running() {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Stop ends the operator as a kubelet does: SIGTERM, then SIGKILL after 15
// seconds. It is safe on a nil or stopped operator.
func (o *Operator) Stop() {
	if o == nil || !o.Running() {
		return
	}
	cmd, done := o.current()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		o.Kill()
	}
}

// Restart stops the operator and starts it again on the same addresses,
// waiting until it is ready.
func (o *Operator) Restart(ctx context.Context) error {
	o.Stop()
	if err := o.Start(); err != nil {
		return err
	}
	return o.WaitReady(ctx)
}

// Supervise restarts the operator whenever it exits, as a kubelet
// restarts a container, after backoff, until stop is called; restarts
// tells how many times it did. A failed start goes to onError and ends
// the supervision. Call stop before Stop, or the operator comes back.
func (o *Operator) Supervise(backoff time.Duration, onError func(error)) (restarts func() int, stop func()) {
	var mu sync.Mutex
	count := 0
	quit, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			_, done := o.current()
			select {
			case <-quit:
				return
			case <-done:
			}
			select {
			case <-quit:
				return
			case <-time.After(backoff):
			}
			err := o.Start()
			mu.Lock()
			count++
			mu.Unlock()
			if err != nil {
				onError(err)
				return
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-stopped }) }
	restarts = func() int {
		mu.Lock()
		defer mu.Unlock()
		return count
	}
	return restarts, stop
}

// RSS reads the operator's resident and peak resident memory, in bytes,
// from /proc.
func (o *Operator) RSS() (current, peak int64, err error) {
	cmd, _ := o.current()
	if cmd == nil {
		return 0, 0, fmt.Errorf("operator %s has not started", o.opts.Name)
	}
	return processRSS(o.opts.Name, cmd.Process.Pid)
}

func processRSS(name string, pid int) (current, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading operator %s's memory: %w", name, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		field, value, ok := strings.Cut(line, ":")
		if !ok || (field != "VmRSS" && field != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("reading %s of operator %s: %w", field, name, err)
		}
		if field == "VmRSS" {
			current = kib << 10
		} else {
			peak = kib << 10
		}
	}
	if current == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("operator %s's /proc status has no VmRSS or VmHWM", name)
	}
	return current, peak, nil
}

// scrapeClient gives up on a replica that hangs rather than stall a suite.
var scrapeClient = &http.Client{Timeout: 5 * time.Second}

// Metric sums the samples of a metric whose label set contains every one
// of labels (as name="value"), from the operator's metrics endpoint; 0 when
// it has none.
func (o *Operator) Metric(name string, labels ...string) (float64, error) {
	resp, err := scrapeClient.Get(o.MetricsURL)
	if err != nil {
		return 0, fmt.Errorf("scraping operator %s: %w", o.opts.Name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scraping operator %s: %s", o.opts.Name, resp.Status)
	}
	var sum float64
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		series, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		metricName, labelSet, _ := strings.Cut(series, "{")
		if metricName != name {
			continue
		}
		matches := true
		for _, l := range labels {
			matches = matches && strings.Contains(labelSet, l)
		}
		if !matches {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("operator %s's metric %s: %w", o.opts.Name, line, err)
		}
		sum += v
	}
	if err := scanner.Err(); err != nil {
		return 0, fmt.Errorf("scraping operator %s: %w", o.opts.Name, err)
	}
	return sum, nil
}

// LogTail is the last lines of a process's log, their stack traces left
// out and each line clipped, or "" when it cannot be read.
func LogTail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	for i, l := range all {
		if before, _, ok := strings.Cut(l, `,"stacktrace":`); ok {
			all[i] = before + "}"
		}
		if len(all[i]) > 400 {
			all[i] = all[i][:400] + "…"
		}
	}
	return strings.Join(all, "\n")
}
