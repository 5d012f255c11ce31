package fault

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
)

var (
	cluster *localcluster.Cluster
	k8s     client.Client
	// managerBin is the operator binary, built as `make build` builds it.
	managerBin string
	// operatorKubeconfig authenticates as the operator's identity.
	operatorKubeconfig string
	// alertmanagerBin is installed by hack/alertmanager.sh.
	alertmanagerBin string
	// auditLog is kube-apiserver's audit log of the operator's requests.
	auditLog string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	for _, env := range []string{"KUBEBUILDER_ASSETS", "KLAXON_ALERTMANAGER_DIR", "KLAXON_MAILPIT_DIR"} {
		if os.Getenv(env) == "" {
			fmt.Fprintf(os.Stderr, "%s is not set: run `make fault` (or `make test`), which builds and installs the binaries first\n", env)
			return 1
		}
	}
	alertmanagerBin = filepath.Join(os.Getenv("KLAXON_ALERTMANAGER_DIR"), "alertmanager")
	tmp, err := os.MkdirTemp("", "klaxon-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	policy := filepath.Join(tmp, "audit-policy.yaml")
	auditLog = filepath.Join(tmp, "audit.log")
	if err = os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	apiDir := filepath.Join(tmp, "kube-apiserver")
	if err = os.Mkdir(apiDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	cluster, err = localcluster.StartWith(ctx, localcluster.Options{
		// A fixed directory lets the outage test restart kube-apiserver
		// with the certificates every client trusts.
		APIServerDir: apiDir,
		APIServerFlags: map[string]string{
			"audit-policy-file": policy,
			"audit-log-path":    auditLog,
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	k8s = cluster.Admin

	if managerBin, operatorKubeconfig, err = prepareOperator(ctx, tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := auditRBAC(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return code
}

// prepareOperator builds the operator binary as `make build` does and
// writes a kubeconfig with the operator's identity.
func prepareOperator(ctx context.Context, dir string) (bin, kubeconfig string, err error) {
	bin = filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd")
	build.Dir = localcluster.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err = build.Run(); err != nil {
		return "", "", fmt.Errorf("building the operator: %w", err)
	}
	data, err := cluster.OperatorKubeconfig()
	if err != nil {
		return "", "", err
	}
	kubeconfig = filepath.Join(dir, "operator.kubeconfig")
	return bin, kubeconfig, os.WriteFile(kubeconfig, data, 0o600)
}
