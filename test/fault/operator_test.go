package fault

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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// operator is the operator binary running as a separate process, as one
// replica of a Deployment: start, kill and restart it like a kubelet.
type operator struct {
	t    *testing.T
	name string
	args []string
	log  string
	// ReceiverURL, metricsURL and probeURL stay the same across restarts.
	receiverURL, metricsURL, probeURL string
	cmd                               *exec.Cmd
	done                              chan struct{}
}

// startOperator runs the operator binary with the fixed flags, on fresh
// loopback ports, then extra flags, and waits until it is ready. It is
// stopped at the end of the test.
func startOperator(t *testing.T, name string, extra ...string) *operator {
	t.Helper()
	receiverAddr, probeAddr, metricsAddr := mailpit.FreeAddr(t), mailpit.FreeAddr(t), mailpit.FreeAddr(t)
	o := &operator{t: t, name: name,
		log:         filepath.Join(t.TempDir(), name+".log"),
		receiverURL: "http://" + receiverAddr, metricsURL: "http://" + metricsAddr + "/metrics", probeURL: "http://" + probeAddr + "/readyz"}
	o.args = append([]string{
		"--receiver-bind-address=" + receiverAddr,
		"--egress-allow=127.0.0.0/8,[::1]/128", // the stand-ins listen on loopback
		"--health-probe-bind-address=" + probeAddr,
		"--metrics-bind-address=" + metricsAddr,
		"--metrics-secure=false",
		"--public-url=" + o.receiverURL,
		"--zap-log-level=info",
	}, extra...)
	t.Cleanup(func() {
		o.stop()
		if t.Failed() {
			o.dumpLog()
		}
	})
	o.start()
	o.waitReady()
	return o
}

func (o *operator) start() {
	o.t.Helper()
	if err := o.spawn(); err != nil {
		o.t.Fatal(err)
	}
}

// spawn starts the process; safe off the test's goroutine.
func (o *operator) spawn() error {
	logFile, err := os.OpenFile(o.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(managerBin, o.args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+operatorKubeconfig, "POD_NAMESPACE="+localcluster.OperatorNamespace)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig ends it should the test binary itself be killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting operator %s: %w", o.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(done) }()
	o.cmd, o.done = cmd, done
	return nil
}

// waitReady waits until the operator answers /readyz.
func (o *operator) waitReady() {
	o.t.Helper()
	if err := o.ready(); err != nil {
		o.t.Fatal(err)
	}
}

// ready waits until the operator answers /readyz; safe off the test's
// goroutine.
func (o *operator) ready() error {
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		if !o.running() {
			return false, fmt.Errorf("operator %s exited: %s", o.name, o.cmd.ProcessState)
		}
		return localcluster.AnswersOK(ctx, o.probeURL), nil
	})
	if err != nil {
		return fmt.Errorf("operator %s is not ready: %w", o.name, err)
	}
	return nil
}

// running tells whether the process is alive.
func (o *operator) running() bool {
	select {
	case <-o.done:
		return false
	default:
		return true
	}
}

// supervise restarts the operator whenever it exits, as a kubelet
// restarts a container, until the test ends, and returns how many times it
// did. Call it from the test's goroutine.
func (o *operator) supervise() (restarts func() int) {
	o.t.Helper()
	var mu sync.Mutex
	count := 0
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			mu.Lock()
			done := o.done
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-done:
			}
			// A kubelet backs off restarts from 10 s; a second keeps the
			// test short while still never restarting in a busy loop.
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			mu.Lock()
			err := o.spawn()
			count++
			mu.Unlock()
			if err != nil {
				o.t.Error(err)
				return
			}
		}
	}()
	// Registered after startOperator's cleanup, so it runs first: nothing
	// restarts the operator once the test stops it.
	o.t.Cleanup(func() { close(stop); <-stopped })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return count
	}
}

// kill ends the process with SIGKILL: no lease released, nothing flushed.
func (o *operator) kill() {
	if !o.running() {
		return
	}
	_ = o.cmd.Process.Kill()
	<-o.done
}

// stop ends the operator as a kubelet does: SIGTERM, then SIGKILL.
func (o *operator) stop() {
	if o.cmd == nil || !o.running() {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(15 * time.Second):
		o.kill()
	}
}

func (o *operator) dumpLog() {
	dumpTail(o.t, "operator "+o.name, o.log)
}

// dumpTail logs the last lines of a process's log, their stack traces
// left out.
func dumpTail(t *testing.T, who, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	for i, l := range lines {
		if before, _, ok := strings.Cut(l, `,"stacktrace":`); ok {
			lines[i] = before + "}"
		}
		if len(lines[i]) > 400 {
			lines[i] = lines[i][:400] + "…"
		}
	}
	t.Logf("the last lines of %s's log:\n%s", who, strings.Join(lines, "\n"))
}

// peakRSS is the operator's peak resident memory in bytes, from /proc.
func (o *operator) peakRSS() int64 {
	o.t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", o.cmd.Process.Pid))
	if err != nil {
		o.t.Fatalf("reading operator %s's memory: %v", o.name, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			if err != nil {
				o.t.Fatalf("reading operator %s's memory: %v", o.name, err)
			}
			return kib << 10
		}
	}
	o.t.Fatalf("operator %s's /proc status has no VmHWM", o.name)
	return 0
}

// metric sums the samples of a metric whose label set contains every one of
// labels (as name="value"), from the operator's metrics endpoint; 0 when it
// has none.
func (o *operator) metric(name string, labels ...string) float64 {
	o.t.Helper()
	resp, err := scrapeClient.Get(o.metricsURL)
	if err != nil {
		o.t.Fatalf("scraping operator %s: %v", o.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
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
			o.t.Fatalf("operator %s's metric %s: %v", o.name, line, err)
		}
		sum += v
	}
	if err := scanner.Err(); err != nil {
		o.t.Fatalf("scraping operator %s: %v", o.name, err)
	}
	return sum
}

// scrapeClient gives up on a replica that hangs rather than stall the suite.
var scrapeClient = &http.Client{Timeout: 5 * time.Second}
