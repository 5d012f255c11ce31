package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

var (
	cluster *localcluster.Cluster
	k8s     client.Client
	// receiverURL is where the operator binary's receiver listens.
	receiverURL string
	// alertmanagerBin is the alertmanager binary installed by hack/alertmanager.sh.
	alertmanagerBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir := os.Getenv("KLAXON_ALERTMANAGER_DIR")
	if dir == "" {
		fmt.Fprintln(os.Stderr, "KLAXON_ALERTMANAGER_DIR is not set: run `make test`, which installs Alertmanager first")
		return 1
	}
	alertmanagerBin = filepath.Join(dir, "alertmanager")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	if cluster, err = localcluster.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	k8s = cluster.Admin

	stop, err := startOperator(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startOperator builds cmd/ and runs it as the operator's identity.
func startOperator(ctx context.Context) (func(), error) {
	tmp, err := os.MkdirTemp("", "klaxon-e2e-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd")
	build.Dir = localcluster.RepoRoot()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err = build.Run(); err != nil {
		return nil, fmt.Errorf("building the operator: %w", err)
	}
	kubeconfig, err := cluster.OperatorKubeconfig()
	if err != nil {
		return nil, err
	}
	kubeconfigPath := filepath.Join(tmp, "kubeconfig")
	if err = os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	receiverAddr, probeAddr := freeAddr(), freeAddr()
	cmd := exec.Command(bin,
		"--metrics-bind-address=0",
		"--health-probe-bind-address="+probeAddr,
		"--receiver-bind-address="+receiverAddr,
		"--egress-allow=127.0.0.0/8,[::1]/128", // the stand-ins listen on loopback
		// Pages link to the receiver's acknowledge page.
		"--public-url=http://"+receiverAddr,
		"--zap-log-level=info")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath)
	logFile, err := os.Create(filepath.Join(tmp, "operator.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the operator: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
		if os.Getenv("KLAXON_TEST_VERBOSE") != "" {
			log, _ := os.ReadFile(logFile.Name())
			fmt.Fprintf(os.Stderr, "operator log:\n%s\n", log)
		}
		_ = os.RemoveAll(tmp)
	}
	ready := func(ctx context.Context) (bool, error) {
		return localcluster.AnswersOK(ctx, "http://"+probeAddr+"/readyz"), nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, ready); err != nil {
		stop()
		return nil, fmt.Errorf("the operator did not become ready: %w", err)
	}
	receiverURL = "http://" + receiverAddr
	return stop, nil
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	suite.Eventually(t, what, timeout, cond)
}
