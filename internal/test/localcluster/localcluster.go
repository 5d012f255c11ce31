package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
)

// OperatorUser is the operator's identity on a local control plane: the user
// name of the service account of the kustomize install, so the actor policy
// exempts it exactly as in a cluster. It holds only the rights the shipped
// RBAC gives (config/rbac/role.yaml, bound cluster-wide, and
// ack_key_role.yaml in klaxon-system), plus Secret reads in the namespaces
// that grant them (GrantSecretAccess).
const OperatorUser = "system:serviceaccount:klaxon-system:klaxon-controller-manager"

// Names of the RBAC objects the local control plane creates, as the
// kustomize install names them.
const (
	operatorNamespace       = "klaxon-system"
	operatorServiceAccount  = "klaxon-controller-manager"
	managerClusterRole      = "klaxon-manager-role"
	secretReaderClusterRole = "klaxon-secret-reader"
	ackKeyRole              = "klaxon-ack-key"
	leaderElectionRole      = "klaxon-leader-election-role"
)

// Cluster is a running local control plane.
type Cluster struct {
	env      *envtest.Environment
	operator *envtest.AuthenticatedUser
	// Admin is a client with full rights.
	Admin client.Client
	// AdminConfig is the admin's REST config.
	AdminConfig *rest.Config
	// OperatorConfig authenticates as the operator's identity.
	OperatorConfig *rest.Config
}

// RepoRoot finds the repository root from this source file, so tests in any
// package find config/.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Options change how Start runs the control plane.
type Options struct {
	// APIServerDir, when set, holds kube-apiserver's certificates, so that
	// StopAPIServer and StartAPIServer restart it on the same address with
	// the same certificates, and every client keeps working.
	APIServerDir string
	// APIServerFlags are extra kube-apiserver flags, name to value.
	APIServerFlags map[string]string
}

// Start starts etcd and kube-apiserver from KUBEBUILDER_ASSETS, installs the
// CRDs and the admission policies, and waits until they are enforced.
func Start(ctx context.Context) (*Cluster, error) {
	return StartWith(ctx, Options{})
}

// StartWith is Start with options.
func StartWith(ctx context.Context, o Options) (*Cluster, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make test` (or `make dev`), which builds kube-apiserver and etcd first")
	}
	root := RepoRoot()
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                operator.Scheme(),
	}
	if o.APIServerDir != "" || len(o.APIServerFlags) > 0 {
		env.ControlPlane.APIServer = &envtest.APIServer{CertDir: o.APIServerDir}
		for name, value := range o.APIServerFlags {
			env.ControlPlane.APIServer.Configure().Set(name, value)
		}
	}
	if _, err := env.Start(); err != nil {
		return nil, fmt.Errorf("starting local control plane: %w", err)
	}
	c := &Cluster{env: env, AdminConfig: env.Config}
	stop := func(err error) (*Cluster, error) {
		_ = env.Stop()
		return nil, err
	}
	var err error
	if c.Admin, err = client.New(env.Config, client.Options{Scheme: operator.Scheme()}); err != nil {
		return stop(fmt.Errorf("creating admin client: %w", err))
	}
	operatorUser, err := env.AddUser(envtest.User{Name: OperatorUser}, nil)
	if err != nil {
		return stop(fmt.Errorf("creating the operator's identity: %w", err))
	}
	c.operator, c.OperatorConfig = operatorUser, operatorUser.Config()
	if err := c.installRBAC(ctx, root); err != nil {
		return stop(err)
	}
	if err := ApplyFiles(ctx, c.Admin, filepath.Join(root, "config", "admission"), ""); err != nil {
		return stop(err)
	}
	if err := c.waitForActorPolicy(ctx); err != nil {
		return stop(err)
	}
	if err := c.waitForLabelsPolicy(ctx); err != nil {
		return stop(err)
	}
	return c, nil
}

// installRBAC creates the shipped ClusterRoles under the names the kustomize
// install gives them and binds the manager's role to the operator.
func (c *Cluster) installRBAC(ctx context.Context, root string) error {
	for file, name := range map[string]string{"role.yaml": managerClusterRole, "secret_reader_role.yaml": secretReaderClusterRole} {
		role := &rbacv1.ClusterRole{}
		if err := readObject(filepath.Join(root, "config", "rbac", file), role); err != nil {
			return err
		}
		role.ObjectMeta = metav1.ObjectMeta{Name: name}
		if err := c.Admin.Create(ctx, role); err != nil {
			return fmt.Errorf("creating ClusterRole %s: %w", name, err)
		}
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: managerClusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: managerClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: operatorNamespace, Name: operatorServiceAccount}},
	}
	if err := c.Admin.Create(ctx, binding); err != nil {
		return fmt.Errorf("binding ClusterRole %s to the operator: %w", managerClusterRole, err)
	}
	return c.installNamespacedRBAC(ctx, root)
}

// installNamespacedRBAC creates the operator's namespace and, in it, the
// shipped Roles that let the operator keep its acknowledge-link key and
// hold the leader election lease, bound to the operator.
func (c *Cluster) installNamespacedRBAC(ctx context.Context, root string) error {
	if err := c.Admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", operatorNamespace, err)
	}
	for file, name := range map[string]string{"ack_key_role.yaml": ackKeyRole, "leader_election_role.yaml": leaderElectionRole} {
		role := &rbacv1.Role{}
		if err := readObject(filepath.Join(root, "config", "rbac", file), role); err != nil {
			return err
		}
		role.ObjectMeta = metav1.ObjectMeta{Name: name, Namespace: operatorNamespace}
		if err := c.Admin.Create(ctx, role); err != nil {
			return fmt.Errorf("creating Role %s/%s: %w", operatorNamespace, name, err)
		}
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: operatorNamespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: operatorNamespace, Name: operatorServiceAccount}},
		}
		if err := c.Admin.Create(ctx, binding); err != nil {
			return fmt.Errorf("binding Role %s/%s to the operator: %w", operatorNamespace, name, err)
		}
	}
	return nil
}

// OperatorNamespace is the operator's own namespace on a local control
// plane, as in the kustomize install; it holds the acknowledge-link key.
const OperatorNamespace = operatorNamespace

// GrantSecretAccess lets the operator read the Secrets of namespace, as a
// namespace does in a cluster (config/samples/secret_reader_binding.yaml).
func (c *Cluster) GrantSecretAccess(ctx context.Context, namespace string) error {
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: secretReaderClusterRole, Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: secretReaderClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: operatorNamespace, Name: operatorServiceAccount}},
	}
	if err := c.Admin.Create(ctx, binding); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("granting the operator access to the Secrets of %s: %w", namespace, err)
	}
	return nil
}

// Environment variables through which a process hands its control plane to
// the processes it starts: Go's fuzzing runs each worker as a new process,
// and a worker that started (and on exit orphaned) a control plane of its
// own would be slow and leave etcd and kube-apiserver behind.
const (
	adminKubeconfigEnv    = "KLAXON_LOCALCLUSTER_ADMIN_KUBECONFIG"
	operatorKubeconfigEnv = "KLAXON_LOCALCLUSTER_OPERATOR_KUBECONFIG"
)

// Share exports the control plane's kubeconfigs to the processes this one
// starts from now on; StartOrAttach in those processes attaches to it.
func (c *Cluster) Share() error {
	if c.env == nil {
		return nil // attached: the variables are set already
	}
	admin, err := c.AddUser("klaxon-shared-admin")
	if err != nil {
		return err
	}
	operatorConfig, err := c.OperatorKubeconfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "klaxon-localcluster-")
	if err != nil {
		return err
	}
	for env, data := range map[string][]byte{adminKubeconfigEnv: admin, operatorKubeconfigEnv: operatorConfig} {
		path := filepath.Join(dir, env)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
		if err := os.Setenv(env, path); err != nil {
			return err
		}
	}
	return nil
}

// StartOrAttach attaches to the control plane a parent process shared, or
// starts one.
func StartOrAttach(ctx context.Context) (*Cluster, error) {
	adminPath, operatorPath := os.Getenv(adminKubeconfigEnv), os.Getenv(operatorKubeconfigEnv)
	if adminPath == "" || operatorPath == "" {
		return Start(ctx)
	}
	admin, err := clientcmd.BuildConfigFromFlags("", adminPath)
	if err != nil {
		return nil, fmt.Errorf("reading the shared control plane's kubeconfig: %w", err)
	}
	operatorConfig, err := clientcmd.BuildConfigFromFlags("", operatorPath)
	if err != nil {
		return nil, fmt.Errorf("reading the shared control plane's kubeconfig: %w", err)
	}
	c := &Cluster{AdminConfig: admin, OperatorConfig: operatorConfig}
	if c.Admin, err = client.New(admin, client.Options{Scheme: operator.Scheme()}); err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	return c, nil
}

// OperatorKubeconfig returns a kubeconfig that authenticates as the
// operator's identity, for running the operator binary.
func (c *Cluster) OperatorKubeconfig() ([]byte, error) {
	return c.operator.KubeConfig()
}

// AddUser creates a user with full rights and returns its kubeconfig.
func (c *Cluster) AddUser(name string) ([]byte, error) {
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding user %s: %w", name, err)
	}
	kubeconfig, err := u.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("writing kubeconfig of %s: %w", name, err)
	}
	return kubeconfig, nil
}

// NewNamespace creates a namespace named prefix plus a random suffix.
func (c *Cluster) NewNamespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := c.Admin.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("creating a namespace: %w", err)
	}
	return ns.Name, nil
}

// Impersonate returns a client that acts as user, with full rights, and
// member of the extra groups too.
func (c *Cluster) Impersonate(user string, groups ...string) (client.Client, error) {
	cfg := rest.CopyConfig(c.AdminConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append([]string{"system:masters", "system:authenticated"}, groups...)}
	return client.New(cfg, client.Options{Scheme: operator.Scheme()})
}

// Stop stops the control plane, unless it was attached to.
func (c *Cluster) Stop() error {
	if c.env == nil {
		return nil
	}
	return c.env.Stop()
}

// KillAPIServer kills kube-apiserver with SIGKILL, as a crashed control
// plane node would lose it, leaving etcd running. (A graceful stop waits for
// the watches of every client to drain, which takes longer than envtest
// waits.) Only a control plane started with Options.APIServerDir can start
// it again.
func (c *Cluster) KillAPIServer() error {
	if c.env == nil {
		return errors.New("an attached control plane cannot be stopped")
	}
	apiServer := c.env.ControlPlane.APIServer
	pid, err := findProcess("kube-apiserver", "--cert-dir="+apiServer.CertDir)
	if err != nil {
		return err
	}
	if err = syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing kube-apiserver: %w", err)
	}
	// envtest reaps it; until then it is a zombie with its port still held.
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	err = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, statErr := os.Stat(proc)
		return os.IsNotExist(statErr), nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver (pid %d) is still there 10s after SIGKILL: %w", pid, err)
	}
	// envtest may not have marked it exited yet, and then fails to signal a
	// process that is gone; its state is rebuilt on the next start anyway.
	if err := apiServer.Stop(); err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// findProcess finds the pid of the process running the named binary with
// the argument arg.
func findProcess(name, arg string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("listing processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) == name && slices.Contains(args, arg) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no %s process with %s", name, arg)
}

// StartAPIServer starts the kube-apiserver StopAPIServer stopped, on the
// same address with the same certificates, and waits until it is healthy.
// It does not wait for the admission policies to load again: clients meet
// the API server as it comes back.
func (c *Cluster) StartAPIServer() error {
	if c.env == nil {
		return errors.New("an attached control plane cannot be started")
	}
	if err := c.env.ControlPlane.APIServer.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// waitForActorPolicy waits until kube-apiserver enforces the actor policy,
// which it loads in the background after the policy is created.
func (c *Cluster) waitForActorPolicy(ctx context.Context) error {
	const probeNS = "klaxon-policy-probe"
	if err := c.Admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", probeNS, err)
	}
	prober, err := c.Impersonate("klaxon-policy-probe")
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: probeNS,
				Annotations: map[string]string{klaxonv1alpha1.ActorAnnotation: "forged"}},
			Spec: klaxonv1alpha1.IncidentSpec{Title: "admission policy probe"},
		}
		if prober.Create(ctx, inc) != nil {
			return false, nil // not yet: the policy or the namespace is still settling
		}
		defer func() { _ = c.Admin.Delete(ctx, inc) }()
		return inc.Annotations[klaxonv1alpha1.ActorAnnotation] == "klaxon-policy-probe", nil
	})
	if err != nil {
		return fmt.Errorf("the klaxon-incident-actor admission policy was not enforced within 30s: %w", err)
	}
	return c.Admin.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS}})
}
