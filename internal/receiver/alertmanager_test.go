package receiver_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

func TestAnswers(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil, func(o *receiver.Options) { o.MaxBodyBytes = 64 << 10 })
	path := "/alertmanager/" + ns + "/payments"
	valid := firing("firing", alert("a1", "firing"))

	cases := map[string]struct {
		method, path, bearer string
		body                 []byte
		code                 int
		says                 string
	}{
		"wrong method":       {http.MethodGet, path, token, nil, http.StatusMethodNotAllowed, "method GET is not allowed"},
		"unknown route":      {http.MethodPost, "/alertmanager/" + ns + "/nope", token, valid, http.StatusNotFound, "AlertRoute " + ns + "/nope not found"},
		"unknown namespace":  {http.MethodPost, "/alertmanager/no-such-ns/payments", token, valid, http.StatusUnauthorized, "not valid for /alertmanager/no-such-ns/payments"},
		"missing token":      {http.MethodPost, path, "", valid, http.StatusUnauthorized, "missing bearer token"},
		"wrong token":        {http.MethodPost, path, "guess", valid, http.StatusUnauthorized, "not valid for " + path},
		"malformed body":     {http.MethodPost, path, token, []byte(`{"version":"4",`), http.StatusBadRequest, "not valid JSON"},
		"version 3":          {http.MethodPost, path, token, []byte(`{"version":"3","groupKey":"g","status":"firing"}`), http.StatusBadRequest, `version "3"`},
		"body over limit":    {http.MethodPost, path, token, []byte(`{"version":"4","pad":"` + strings.Repeat("x", 70<<10) + `"}`), http.StatusRequestEntityTooLarge, "larger than 65536 bytes"},
		"unmatched group":    {http.MethodPost, path, token, []byte(strings.NewReplacer("CheckoutLatency", "SearchLatency", "payments", "search").Replace(string(valid))), http.StatusOK, "not select"},
		"valid notification": {http.MethodPost, path, token, valid, http.StatusOK, "incident payments-"},
	}
	unknown404 := metrics.ReceiverRequests.WithLabelValues("", "", "alertmanager", "404")
	unknown401 := metrics.ReceiverRequests.WithLabelValues("", "", "alertmanager", "401")
	before404, before401 := testutil.ToFloat64(unknown404), testutil.ToFloat64(unknown401)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, msg := post(t, srv.URL, tc.method, tc.path, tc.bearer, tc.body)
			if code != tc.code || !strings.Contains(msg, tc.says) {
				t.Errorf("answer %d %q, want %d saying %q", code, msg, tc.code, tc.says)
			}
		})
	}
	// Only the valid notification made an incident.
	if incs := groupIncidents(t, ns); len(incs) != 1 {
		t.Errorf("%d incidents, want 1", len(incs))
	}
	// Requests are counted by route and code; unknown routes, and the
	// namespaces of unknown routes, under "".
	if d404, d401 := testutil.ToFloat64(unknown404)-before404, testutil.ToFloat64(unknown401)-before401; d404 != 1 || d401 != 1 {
		t.Errorf("unknown routes counted %v times 404 and %v times 401, want 1 and 1", d404, d401)
	}
	for _, m := range []struct {
		route, code string
		want        float64
	}{{"payments", "401", 2}, {"payments", "400", 2}, {"payments", "413", 1}, {"payments", "200", 2}} {
		if got := testutil.ToFloat64(metrics.ReceiverRequests.WithLabelValues(ns, m.route, "alertmanager", m.code)); got != m.want {
			t.Errorf("klaxon_receiver_requests_total{route=%q,code=%s} = %v, want %v", m.route, m.code, got, m.want)
		}
	}
	if got := testutil.ToFloat64(metrics.ReceiverUnmatchedGroups.WithLabelValues(ns, "payments")); got != 1 {
		t.Errorf("klaxon_receiver_unmatched_groups_total = %v, want 1", got)
	}
}

func TestIncidentFromNotification(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil)
	path := "/alertmanager/" + ns + "/payments"
	if code, msg := post(t, srv.URL, http.MethodPost, path, token, firing("firing", alert("a1", "firing"), alert("a2", "resolved"))); code != http.StatusOK {
		t.Fatalf("answer %d %q", code, msg)
	}
	incs := groupIncidents(t, ns)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Spec.Title != "CheckoutLatency: p99 above 2s" || inc.Spec.Severity != klaxonv1alpha1.SeverityCritical ||
		inc.Spec.Source == nil || inc.Spec.Source.AlertRoute != "payments" {
		t.Errorf("incident spec = %+v", inc.Spec)
	}
	if inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("actor = %q, want alertmanager", inc.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	// The incident is created with its alerts; the reconciler's first
	// status write stores them in status.alerts.
	if a := alertmapping.OpeningAlerts(&inc); a == nil || a.Firing != 1 || a.Resolved != 1 || len(a.Items) != 2 {
		t.Errorf("opening alerts = %+v", a)
	}
	eventually(t, "status.alerts stored", func(ctx context.Context) (bool, error) {
		got := &klaxonv1alpha1.Incident{}
		err := k8s.Get(ctx, client.ObjectKeyFromObject(&inc), got)
		a := got.Status.Alerts
		return a != nil && a.Firing == 1 && a.Resolved == 1 && len(a.Items) == 2, err
	})
	// kubectl describe alertroute shows which intake opened which incident,
	// written behind the answer.
	ar := &klaxonv1alpha1.AlertRoute{}
	eventually(t, "lastReceivedAt and status.intakes recorded", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar)
		return err == nil && ar.Status.LastReceivedAt != nil && len(ar.Status.Intakes) > 0, err
	})
	if in := ar.Status.Intakes; len(in) != 1 || in[0].Name != klaxonv1alpha1.IntakeAlertmanager || in[0].LastIncident != inc.Name || in[0].LastReceivedAt == nil {
		t.Errorf("status.intakes = %+v, want alertmanager's entry naming %s", in, inc.Name)
	}
	if inc.Spec.Source.Intake != klaxonv1alpha1.IntakeAlertmanager {
		t.Errorf("spec.source.intake = %q, want alertmanager", inc.Spec.Source.Intake)
	}

	// The group resolves: the incident is resolved by Alertmanager.
	if code, msg := post(t, srv.URL, http.MethodPost, path, token, firing("resolved", alert("a1", "resolved"), alert("a2", "resolved"))); code != http.StatusOK {
		t.Fatalf("answer %d %q", code, msg)
	}
	if incs := groupIncidents(t, ns); len(incs) != 1 || incs[0].Spec.State != klaxonv1alpha1.StateResolved {
		t.Fatalf("after resolution: %d incidents, state %s", len(incs), incs[0].Spec.State)
	}
}

// Two replicas receive the same notification at once (an Alertmanager HA
// pair): one incident.
func TestConcurrentDuplicateDeliveriesMakeOneIncident(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	replicas := []string{newReceiver(t, nil).URL, newReceiver(t, nil).URL}
	body := firing("firing", alert("a1", "firing"))
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Go(func() {
			codes[i], _ = post(t, replicas[i%2], http.MethodPost, "/alertmanager/"+ns+"/payments", token, body)
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("delivery %d answered %d", i, c)
		}
	}
	if incs := groupIncidents(t, ns); len(incs) != 1 {
		t.Errorf("%d incidents, want 1", len(incs))
	}
}

// countWrites counts the writes a client makes to the API server.
func countWrites(c client.Client, n *atomic.Int32) client.Client {
	w, ok := c.(client.WithWatch)
	if !ok {
		w = withWatch{c}
	}
	return interceptor.NewClient(w, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			n.Add(1)
			return c.Create(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			n.Add(1)
			return c.Patch(ctx, obj, p, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			n.Add(1)
			return c.Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			n.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	})
}

func TestUnchangedRepeatWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countWrites(mgr.GetClient(), &writes))
	path := "/alertmanager/" + ns + "/payments"
	body := firing("firing", alert("a1", "firing"), alert("a2", "firing"))
	if code, msg := post(t, srv.URL, http.MethodPost, path, token, body); code != http.StatusOK {
		t.Fatalf("answer %d %q", code, msg)
	}
	// The create, and lastReceivedAt behind the answer.
	eventually(t, "the create and the route's status written", func(context.Context) (bool, error) {
		return writes.Load() >= 2, nil
	})
	// Let the cache catch up with what was written, as it does between
	// Alertmanager's repeats.
	eventually(t, "the cache to see the alerts and the route's intake", func(ctx context.Context) (bool, error) {
		incs := &klaxonv1alpha1.IncidentList{}
		ar := &klaxonv1alpha1.AlertRoute{}
		if err := mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar); err != nil {
			return false, err
		}
		err := mgr.GetClient().List(ctx, incs, client.InNamespace(ns))
		return err == nil && len(incs.Items) == 1 && incs.Items[0].Status.Alerts != nil && len(ar.Status.Intakes) == 1, err
	})
	writes.Store(0)
	for range 3 {
		if code, msg := post(t, srv.URL, http.MethodPost, path, token, body); code != http.StatusOK {
			t.Fatalf("answer %d %q", code, msg)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("three unchanged repeats made %d writes, want 0", n)
	}
	// A changed repeat does write.
	if code, _ := post(t, srv.URL, http.MethodPost, path, token, firing("firing", alert("a1", "firing"), alert("a2", "resolved"))); code != http.StatusOK || writes.Load() == 0 {
		t.Errorf("a changed notification answered %d after %d writes", code, writes.Load())
	}
}

// When the API server cannot be reached the receiver answers 503, so
// Alertmanager retries and nothing is lost.
func TestUnreachableAPIServerAnswers503(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	cfg := rest.CopyConfig(cluster.OperatorConfig)
	cfg.Host = "https://127.0.0.1:1" // nothing listens there
	dead, err := client.New(cfg, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	// Reads come from the operator's cache; every write goes to the dead address.
	writesFail := interceptor.NewClient(withWatch{mgr.GetClient()}, interceptor.Funcs{
		Create: func(ctx context.Context, _ client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			return dead.Create(ctx, obj, opts...)
		},
	})
	srv := newReceiver(t, writesFail)
	code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, firing("firing", alert("a1", "firing")))
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "could not be reached") {
		t.Errorf("answer %d %q, want 503 saying the API server could not be reached", code, msg)
	}
	if incs := groupIncidents(t, ns); len(incs) != 0 {
		t.Errorf("%d incidents, want none", len(incs))
	}
}

// Repeats of two unchanged groups, alternating as Alertmanager sends them,
// write nothing: neither their incidents nor the route's status, which
// names only an incident a notification changed.
func TestAlternatingRepeatsOfTwoGroupsWriteNothing(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	var writes atomic.Int32
	srv := newReceiver(t, countWrites(mgr.GetClient(), &writes))
	path := "/alertmanager/" + ns + "/payments"
	one := firing("firing", alert("a1", "firing"))
	two := bytes.Replace(firing("firing", alert("b1", "firing")), []byte(`team=\"payments\"`), []byte(`team=\"search\"`), 1)
	for _, body := range [][]byte{one, two} {
		if code, msg := post(t, srv.URL, http.MethodPost, path, token, body); code != http.StatusOK {
			t.Fatalf("answer %d %q", code, msg)
		}
	}
	// The route names the second group's incident within a second of the
	// first's: the cache shows both incidents' alerts and that.
	eventually(t, "the cache to see both incidents' alerts and the route's intake", func(ctx context.Context) (bool, error) {
		incs := &klaxonv1alpha1.IncidentList{}
		ar := &klaxonv1alpha1.AlertRoute{}
		if err := mgr.GetClient().List(ctx, incs, client.InNamespace(ns)); err != nil {
			return false, err
		}
		if err := mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar); err != nil {
			return false, err
		}
		stored, second := 0, ""
		for _, inc := range incs.Items {
			if inc.Status.Alerts != nil {
				stored++
				if len(inc.Status.Alerts.Items) > 0 && inc.Status.Alerts.Items[0].Fingerprint == "b1" {
					second = inc.Name
				}
			}
		}
		return stored == 2 && len(ar.Status.Intakes) == 1 && ar.Status.Intakes[0].LastIncident == second, nil
	})
	writes.Store(0)
	for range 3 {
		for _, body := range [][]byte{one, two} {
			if code, msg := post(t, srv.URL, http.MethodPost, path, token, body); code != http.StatusOK {
				t.Fatalf("answer %d %q", code, msg)
			}
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("six unchanged repeats of two groups made %d writes, want 0", n)
	}
}
