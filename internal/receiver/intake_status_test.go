package receiver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// routeStatusWrites passes c's writes through, calling onRoute before each
// write of an AlertRoute's status (which may block it) and onConflict
// after each that conflicted.
func routeStatusWrites(c client.Client, onRoute, onConflict func()) client.Client {
	return interceptor.NewClient(withWatch{c}, interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			_, route := obj.(*klaxonv1alpha1.AlertRoute)
			if route && sub == "status" {
				onRoute()
			}
			err := c.SubResource(sub).Patch(ctx, obj, p, opts...)
			if route && apierrors.IsConflict(err) {
				onConflict()
			}
			return err
		},
	})
}

// unthrottledClient reads through the operator's cache and writes without
// the operator's client-side rate limit, as a receiver given its own
// budget (--receiver-qps) does, so a burst reaches the API server as fast
// as it comes.
func unthrottledClient(t *testing.T) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(cluster.OperatorConfig)
	cfg.QPS, cfg.Burst = 1000, 1000
	c, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		Cache: &client.CacheOptions{Reader: mgr.GetCache(), DisableFor: []client.Object{&corev1.Secret{}}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// groupBody is a firing notification of the payments route's group n.
func groupBody(t *testing.T, n int) (groupKey string, body []byte) {
	t.Helper()
	groupKey = fmt.Sprintf(`{}/{team="payments"}:{alertname="CheckoutLatency",shard="%d"}`, n)
	body, err := json.Marshal(webhook.Message{
		Version:  "4",
		GroupKey: groupKey,
		Data: &template.Data{
			Receiver:          "klaxon",
			Status:            "firing",
			Alerts:            template.Alerts{alert(fmt.Sprintf("s%d", n), "firing")},
			GroupLabels:       template.KV{"alertname": "CheckoutLatency", "shard": fmt.Sprint(n)},
			CommonLabels:      template.KV{"alertname": "CheckoutLatency", "severity": "critical", "team": "payments"},
			CommonAnnotations: template.KV{"summary": "p99 above 2s"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return groupKey, body
}

// A burst of notifications opening 200 incidents through one route costs
// about one write of the route's status a second, not one per incident,
// and the route ends naming the newest incident.
func TestIntakeStatusOfABurstIsCoalesced(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	var writes, conflicts atomic.Int32
	srv := newReceiver(t, routeStatusWrites(unthrottledClient(t), func() { writes.Add(1) }, func() { conflicts.Add(1) }),
		func(o *receiver.Options) { o.GroupIndexed = true })
	path := "/alertmanager/" + ns + "/payments"

	const groups = 200
	bodies := make(chan []byte, groups)
	for n := range groups - 1 {
		_, body := groupBody(t, n)
		bodies <- body
	}
	close(bodies)
	start := time.Now()
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range 8 {
		wg.Go(func() {
			for body := range bodies {
				if code, _ := post(t, srv.URL, http.MethodPost, path, token, body); code != http.StatusOK {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// The newest incident, opened after all the others were answered.
	lastKey, last := groupBody(t, groups-1)
	if code, msg := post(t, srv.URL, http.MethodPost, path, token, last); code != http.StatusOK {
		t.Fatalf("the last notification: %d %q", code, msg)
	}
	burst := time.Since(start)
	if n := refused.Load(); n != 0 {
		t.Fatalf("%d of %d notifications refused", n, groups)
	}
	newest := alertmapping.IncidentName("payments", lastKey, 1)
	ar := &klaxonv1alpha1.AlertRoute{}
	eventually(t, "the route to name the newest incident", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar)
		return err == nil && len(ar.Status.Intakes) == 1 && ar.Status.Intakes[0].LastIncident == newest, err
	})
	// Any write still due would land within a second: it must not name an
	// older incident.
	time.Sleep(2 * time.Second)
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(ar), ar); err != nil {
		t.Fatal(err)
	}
	if got := ar.Status.Intakes[0].LastIncident; got != newest {
		t.Errorf("lastIncident = %s after the writes settled, want the newest, %s", got, newest)
	}
	if ar.Status.LastReceivedAt == nil || ar.Status.Intakes[0].LastReceivedAt == nil {
		t.Errorf("lastReceivedAt not recorded: %+v", ar.Status)
	}
	// One write when the burst starts, then at most one a second.
	n, most := int(writes.Load()), int(burst/time.Second)+2
	t.Logf("%d incidents in %v: %d writes of the route's status, %d conflicted", groups, burst.Round(time.Millisecond), n, conflicts.Load())
	if n > most {
		t.Errorf("%d writes of the route's status for %d incidents in %v, want at most %d", n, groups, burst.Round(time.Millisecond), most)
	}
}

// The answer does not wait for the route's status: a write of it that
// hangs leaves the sender's answer as fast as without it.
func TestIntakeStatusWriteDoesNotDelayTheAnswer(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	var started atomic.Int32
	srv := newReceiver(t, routeStatusWrites(unthrottledClient(t), func() { started.Add(1); <-release }, func() {}),
		func(o *receiver.Options) { o.GroupIndexed = true })
	path := "/alertmanager/" + ns + "/payments"
	for n := range 3 {
		_, body := groupBody(t, n)
		begin := time.Now()
		if code, msg := post(t, srv.URL, http.MethodPost, path, token, body); code != http.StatusOK {
			t.Fatalf("answer %d %q", code, msg)
		}
		if took := time.Since(begin); took > 3*time.Second {
			t.Errorf("notification %d answered after %v while the route's status write hangs", n, took)
		}
	}
	eventually(t, "the route's status write to start", func(context.Context) (bool, error) { return started.Load() > 0, nil })
	if n := started.Load(); n != 1 {
		t.Errorf("%d writes of the route's status under way, want 1: the newer incidents wait for it", n)
	}
	once.Do(func() { close(release) })
	newestKey, _ := groupBody(t, 2)
	eventually(t, "the route to name the newest incident once the write returns", func(ctx context.Context) (bool, error) {
		ar := &klaxonv1alpha1.AlertRoute{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar)
		return err == nil && len(ar.Status.Intakes) == 1 && ar.Status.Intakes[0].LastIncident == alertmapping.IncidentName("payments", newestKey, 1), err
	})
}

// Another replica's entry of status.intakes, written after the cache's
// copy of the route, survives: the write conflicts and is made again on
// the API server's copy.
func TestIntakeStatusKeepsAnotherReplicasEntry(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	var once sync.Once
	var conflicts atomic.Int32
	other := func() {
		once.Do(func() {
			ar := &klaxonv1alpha1.AlertRoute{}
			if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "payments"}, ar); err != nil {
				t.Error(err)
				return
			}
			ar.Status.Intakes = append(ar.Status.Intakes, klaxonv1alpha1.IntakeStatus{Name: klaxonv1alpha1.IntakePagerDuty, LastIncident: "payments-elsewhere"})
			if err := k8s.Status().Update(context.Background(), ar); err != nil {
				t.Error(err)
			}
		})
	}
	srv := newReceiver(t, routeStatusWrites(unthrottledClient(t), other, func() { conflicts.Add(1) }), func(o *receiver.Options) { o.GroupIndexed = true })
	key, body := groupBody(t, 1)
	if code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, body); code != http.StatusOK {
		t.Fatalf("answer %d %q", code, msg)
	}
	want := map[klaxonv1alpha1.IntakeName]string{
		klaxonv1alpha1.IntakeAlertmanager: alertmapping.IncidentName("payments", key, 1),
		klaxonv1alpha1.IntakePagerDuty:    "payments-elsewhere",
	}
	eventually(t, "both replicas' entries", func(ctx context.Context) (bool, error) {
		ar := &klaxonv1alpha1.AlertRoute{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, ar); err != nil {
			return false, err
		}
		got := map[klaxonv1alpha1.IntakeName]string{}
		for _, in := range ar.Status.Intakes {
			got[in.Name] = in.LastIncident
		}
		return maps.Equal(got, want), nil
	})
	if n := conflicts.Load(); n != 1 {
		t.Errorf("%d conflicts, want the one the other replica's write caused", n)
	}
}
