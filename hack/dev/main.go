package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

// sampleIncident is the sample incident that pages when dev starts.
const sampleIncident = "payment-gateway-timeouts"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

func run() error {
	metricsAddr := flag.String("metrics-bind-address", ":8080", "Where the operator serves metrics over plain HTTP.")
	probeAddr := flag.String("health-probe-bind-address", ":8081", "Where the operator serves health probes.")
	user := flag.String("user", defaultUser(), "The user your kubeconfig authenticates as; incidents record it as the actor.")
	mailSMTP := flag.String("mailpit-smtp", "127.0.0.1:1025", "Where mailpit takes mail over SMTP. The sample NotificationChannel mail sends to 127.0.0.1:1025.")
	mailHTTP := flag.String("mailpit-http", "127.0.0.1:8025", "Where mailpit serves its HTTP API, which lists the mail it got.")
	zapOpts := zap.Options{Development: true}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// mailpit first: a port already taken fails at once, not after the
	// control plane took its seconds to start.
	fmt.Println("Starting mailpit...")
	mail, err := startMailpit(ctx, *mailSMTP, *mailHTTP)
	if err != nil {
		return err
	}
	defer mail.stop()

	fmt.Println("Starting etcd and kube-apiserver...")
	cluster, err := localcluster.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("Stopping the local control plane...")
		if stopErr := cluster.Stop(); stopErr != nil {
			fmt.Fprintln(os.Stderr, "dev: stopping the control plane:", stopErr)
		}
	}()

	kubeconfig, data, err := writeKubeconfig(cluster, *user)
	if err != nil {
		return err
	}
	userConfig, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	userClient, err := client.New(userConfig, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		return err
	}

	// The samples go in before the operator starts, so the sample incident
	// pages with every Responder and channel in place: a person who has no
	// Responder when paged is told nothing, and the page is not planned
	// again later.
	samples := filepath.Join(localcluster.RepoRoot(), "config", "samples")
	if err = localcluster.ApplyFiles(ctx, userClient, samples, "default"); err != nil {
		return fmt.Errorf("applying samples: %w", err)
	}

	publicURL, err := receiverURL()
	if err != nil {
		return err
	}
	// mailpit and the other stand-ins listen on loopback, which the egress
	// policy refuses by default.
	loopback, err := egress.ParseRules("loopback", "127.0.0.0/8,[::1]/128")
	if err != nil {
		return err
	}
	mgr, err := operator.New(cluster.OperatorConfig, operator.Options{
		MetricsAddr: *metricsAddr, ProbeAddr: *probeAddr, PublicURL: publicURL, EgressAllow: loopback,
	})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()

	assets := os.Getenv("KUBEBUILDER_ASSETS")
	fmt.Printf(`
Klaxon is running on a local control plane, with config/samples applied as %q.
Pages by mail go to mailpit on %s (its log: %s).
In another terminal:

    export KUBECONFIG=%s
    export PATH=%s:$PATH
    kubectl get klaxon

The mail sent, and the deliveries of the sample incident:

    curl -s http://%s/api/v1/messages | jq '.messages[] | {To, Subject}'
    kubectl get inc %s -o jsonpath='{.status.notifications}'

Press Ctrl-C to stop.

`, *user, *mailSMTP, mail.logPath, kubeconfig, assets, *mailHTTP, sampleIncident)

	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("operator: %w", err)
		}
		return nil
	case <-mail.exited:
		// Pages would fail unseen: stop rather than run without mail.
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "dev: operator:", err)
		}
		return fmt.Errorf("mailpit exited (%s): see %s", exitStatus(mail.err), mail.logPath)
	}
}

// receiverURL is where the receiver's HTTP server is reached on this
// machine, for the links in the messages Klaxon sends. dev leaves the
// receiver on its default address.
func receiverURL() (string, error) {
	_, port, err := net.SplitHostPort(receiver.DefaultAddr)
	if err != nil {
		return "", fmt.Errorf("reading the receiver's default address %q: %w", receiver.DefaultAddr, err)
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port), nil
}

// mailpit is a running mailpit: an SMTP server that keeps every mail and
// lists them over HTTP.
type mailpit struct {
	cmd     *exec.Cmd
	logPath string
	// exited is closed when the process has ended; err is then its
	// outcome.
	exited chan struct{}
	err    error
}

// mailpitStartTimeout bounds the wait for mailpit to listen.
const mailpitStartTimeout = 15 * time.Second

// startMailpit starts $KLAXON_MAILPIT_DIR/mailpit on smtpAddr and httpAddr
// and waits until it listens on both.
func startMailpit(ctx context.Context, smtpAddr, httpAddr string) (*mailpit, error) {
	dir := os.Getenv("KLAXON_MAILPIT_DIR")
	if dir == "" {
		return nil, errors.New("KLAXON_MAILPIT_DIR is not set: run `make dev`, which installs mailpit first (hack/mailpit.sh)")
	}
	bin := filepath.Join(dir, "mailpit")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("finding mailpit in KLAXON_MAILPIT_DIR: %w", err)
	}
	// Trying the ports first names the one taken and the flag that moves
	// it; mailpit would only log that it could not bind.
	for _, a := range []struct{ flag, addr string }{{"-mailpit-smtp", smtpAddr}, {"-mailpit-http", httpAddr}} {
		l, err := net.Listen("tcp", a.addr)
		if err != nil {
			return nil, fmt.Errorf("mailpit cannot listen on %s (is another make dev or mailpit running?): stop it, or pick another address with %s: %w", a.addr, a.flag, err)
		}
		if err := l.Close(); err != nil {
			return nil, fmt.Errorf("releasing %s: %w", a.addr, err)
		}
	}
	dev, err := devDir()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dev, "mailpit.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating mailpit's log: %w", err)
	}
	// The child has its own copy of the descriptor once started.
	defer func() { _ = logFile.Close() }()

	cmd := exec.Command(bin,
		"--smtp", smtpAddr, "--listen", httpAddr,
		// Any login, even in clear text, so a channel with username and
		// authSecretRef can be tried against it as well.
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		// Works offline and answers at once: no update check, no reverse
		// DNS lookup of each client.
		"--disable-version-check", "--smtp-disable-rdns")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group keeps the terminal's Ctrl-C off it, so it is
	// stopped after the operator, which may still be sending, as envtest
	// does with etcd and kube-apiserver.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting mailpit: %w", err)
	}
	m := &mailpit{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		close(m.exited)
	}()
	if err := m.waitListening(ctx, smtpAddr, httpAddr); err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

// waitListening waits until mailpit accepts connections on every address.
func (m *mailpit) waitListening(ctx context.Context, addrs ...string) error {
	waitCtx, cancel := context.WithTimeout(ctx, mailpitStartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if listening(waitCtx, addrs) {
			return nil
		}
		select {
		case <-m.exited:
			return fmt.Errorf("mailpit exited at start (%s): see %s", exitStatus(m.err), m.logPath)
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("mailpit did not listen on %s within %s: see %s", strings.Join(addrs, " and "), mailpitStartTimeout, m.logPath)
		case <-tick.C:
		}
	}
}

func listening(ctx context.Context, addrs []string) bool {
	var d net.Dialer
	for _, addr := range addrs {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		_ = conn.Close()
	}
	return true
}

// stop ends mailpit and waits for it. SIGTERM first lets it delete its
// temporary database; SIGKILL if it has not exited after 5 seconds.
func (m *mailpit) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	fmt.Println("Stopping mailpit...")
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case <-m.exited:
	case <-timer.C:
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// exitStatus says how a process ended, from the error of its Wait.
func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// devDir returns bin/dev, created if need be: its paths stay the same
// between runs, so a second terminal can keep its exports.
func devDir() (string, error) {
	dir := filepath.Join(localcluster.RepoRoot(), "bin", "dev")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// writeKubeconfig writes the kubeconfig of user to bin/dev/kubeconfig.
func writeKubeconfig(cluster *localcluster.Cluster, user string) (string, []byte, error) {
	data, err := cluster.AddUser(user)
	if err != nil {
		return "", nil, err
	}
	dir, err := devDir()
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, data, nil
}

func defaultUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "developer"
}
