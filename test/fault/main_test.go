package fault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
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
	suite.RequireAssets(m, faultAsset(suite.ControlPlane), faultAsset(suite.Alertmanager), faultAsset(suite.Mailpit))
	os.Exit(run(m))
}

// faultAsset names `make fault`, which runs this suite alone, as the target
// that sets a.
func faultAsset(a suite.Asset) suite.Asset {
	a.Target = "make fault"
	return a
}

func run(m *testing.M) int {
	var err error
	if alertmanagerBin, err = proc.AlertmanagerBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
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
	if bin, err = proc.BuildOperator(ctx, dir); err != nil {
		return "", "", err
	}
	kubeconfig, err = proc.WriteOperatorKubeconfig(cluster, dir)
	return bin, kubeconfig, err
}
