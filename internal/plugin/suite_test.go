package plugin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/plugin"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

var (
	cluster *localcluster.Cluster
	// k8s is the admin client tests arrange and check with.
	k8s client.Client
	// now is the plugin's time in tests that read ages and deadlines.
	now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
)

// TestMain runs the package's tests against one real control plane with
// the CRDs and the admission policies installed. No operator runs: the
// tests write the status an operator would have written.
func TestMain(m *testing.M) {
	suite.RequireAssets(m, suite.ControlPlane)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	suite.SetLogger()
	var err error
	if cluster, err = localcluster.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	k8s = cluster.Admin
	return m.Run()
}

// result is what one run of the plugin printed.
type result struct {
	out, errOut string
	err         error
}

// kubectlKlaxon runs the plugin in-process as the user of cfg, at now.
func kubectlKlaxon(cfg *rest.Config, args ...string) result {
	return kubectlKlaxonAt(cfg, now, args...)
}

// kubectlKlaxonAt runs the plugin in-process as the user of cfg, at the
// given time, with an empty environment.
func kubectlKlaxonAt(cfg *rest.Config, at time.Time, args ...string) result {
	return kubectlKlaxonEnv(cfg, at, nil, args...)
}

// kubectlKlaxonEnv runs the plugin in-process as the user of cfg, at the
// given time, with env as its environment.
func kubectlKlaxonEnv(cfg *rest.Config, at time.Time, env map[string]string, args ...string) result {
	var out, errOut bytes.Buffer
	cmd := plugin.NewCommand(plugin.Options{
		Streams:    genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Clock:      testingclock.NewFakePassiveClock(at),
		RESTConfig: cfg,
		Getenv:     func(k string) string { return env[k] },
	})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return result{out: out.String(), errOut: errOut.String(), err: err}
}

// mustRun runs the plugin and fails the test if it fails.
func mustRun(t *testing.T, cfg *rest.Config, args ...string) string {
	t.Helper()
	r := kubectlKlaxon(cfg, args...)
	if r.err != nil {
		t.Fatalf("kubectl klaxon %s: %v\nstderr: %s", strings.Join(args, " "), r.err, r.errOut)
	}
	return r.out
}

// userConfig is the REST config of a user of its own (an envtest user with a
// client certificate), who may do anything.
func userConfig(t *testing.T, name string) *rest.Config {
	t.Helper()
	kubeconfig, err := cluster.AddUser(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// limitedUser creates a service account in ns that may only read and
// patch incidents there, and returns its REST config (a bearer token of its
// own, from the TokenRequest API) and the user name the API server knows it
// by: a user without any administrative rights.
func limitedUser(t *testing.T, ns, name string) (*rest.Config, string) {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "incident-responder", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{klaxonv1alpha1.GroupVersion.Group},
			Resources: []string{"incidents"},
			Verbs:     []string{"get", "list", "patch"},
		}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "incident-responder-" + name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
	}
	for _, o := range []client.Object{sa, role, binding} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := k8s.SubResource("token").Create(ctx, sa, req); err != nil {
		t.Fatalf("requesting a token for %s: %v", name, err)
	}
	cfg := rest.AnonymousClientConfig(cluster.AdminConfig)
	cfg.BearerToken = req.Status.Token
	return cfg, "system:serviceaccount:" + ns + ":" + name
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	return suite.NewNamespace(t, cluster, "plugin-")
}

// getIncident reads an incident as the admin.
func getIncident(t *testing.T, ns, name string) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
		t.Fatal(err)
	}
	return inc
}

// createIncident creates an incident as the admin.
func createIncident(t *testing.T, ns, name string, mutate ...func(*klaxonv1alpha1.Incident)) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       klaxonv1alpha1.IncidentSpec{Title: "Checkout returns 500 for 5% of requests", Severity: klaxonv1alpha1.SeverityModerate},
	}
	for _, m := range mutate {
		m(inc)
	}
	if err := k8s.Create(context.Background(), inc); err != nil {
		t.Fatalf("creating incident %s: %v", name, err)
	}
	return inc
}

// setStatus writes an incident's status as the operator would.
func setStatus(t *testing.T, inc *klaxonv1alpha1.Incident, status klaxonv1alpha1.IncidentStatus) {
	t.Helper()
	inc.Status = status
	if err := k8s.Status().Update(context.Background(), inc); err != nil {
		t.Fatalf("writing the status of %s: %v", inc.Name, err)
	}
}

// at is now plus d, as API time.
func at(d time.Duration) *metav1.Time {
	t := metav1.NewTime(now.Add(d))
	return &t
}

// requestCounter counts the requests a REST config makes, by method.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// counted returns a copy of cfg whose requests are counted.
func (c *requestCounter) counted(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	c.counts = map[string]int{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			c.mu.Lock()
			c.counts[req.Method]++
			c.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return cfg
}

// writes counts the requests other than reads.
func (c *requestCounter) writes() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := map[string]int{}
	for m, n := range c.counts {
		if m != http.MethodGet {
			w[m] = n
		}
	}
	return w
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// containsLine reports whether one line of s is line.
func containsLine(s, line string) bool {
	return slices.Contains(strings.Split(s, "\n"), line)
}
