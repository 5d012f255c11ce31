package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/fallback"
	"github.com/klaxon-dev/klaxon/internal/receiver"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// waitingGroups records what the receiver tells the fallback.
type waitingGroups struct {
	mu     sync.Mutex
	titles []string
}

func (w *waitingGroups) Waiting(_, title string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.titles = append(w.titles, title)
}

func (w *waitingGroups) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	rw.WriteHeader(http.StatusNoContent)
}

func (w *waitingGroups) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.titles)
}

// deadClient talks to an address where no API server listens, reading
// through the operator's cache when cached is set.
func deadClient(t *testing.T, cached bool) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(cluster.OperatorConfig)
	cfg.Host = "https://127.0.0.1:1"
	cfg.Timeout = 2 * time.Second
	o := client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()}
	if cached {
		o.Cache = &client.CacheOptions{Reader: mgr.GetCache()}
	}
	c, err := client.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// switchedReader reads from the API server, or, once down is set, from
// where none listens.
type switchedReader struct {
	up, dead client.Reader
	down     atomic.Bool
}

func (r *switchedReader) pick() client.Reader {
	if r.down.Load() {
		return r.dead
	}
	return r.up
}

func (r *switchedReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return r.pick().Get(ctx, key, obj, opts...)
}

func (r *switchedReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return r.pick().List(ctx, list, opts...)
}

// While the API server cannot be reached, the receiver answers 503 and
// tells the fallback about each firing group it could not record: first
// while the token is still cached (the write fails), then, once the cache
// has expired, by the token as last read. A wrong token, no token, or a
// resolved group are never counted.
func TestFallbackCountsWhatCannotBeRecorded(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	clk := testingclock.NewFakeClock(time.Now())
	reader := &switchedReader{up: mgr.GetAPIReader(), dead: deadClient(t, false)}
	groups := &waitingGroups{}
	rcv := receiver.New(deadClient(t, true), reader, receiver.Options{
		GroupIndexed: true, Clock: clk, Fallback: groups, APITimeout: 5 * time.Second, Egress: suite.LoopbackPolicy(),
	}, ctrl.Log.WithName("receiver"))
	srv := httptest.NewServer(rcv.Handler())
	t.Cleanup(srv.Close)
	path := "/alertmanager/" + ns + "/payments"
	fire := firing("firing", alert("a1", "firing"))

	expect := func(what, bearer string, body []byte, code, counted int) {
		t.Helper()
		if got, msg := post(t, srv.URL, http.MethodPost, path, bearer, body); got != code {
			t.Fatalf("%s: answered %d (%s), want %d", what, got, msg, code)
		}
		if got := groups.count(); got != counted {
			t.Fatalf("%s: %d groups told to the fallback, want %d", what, got, counted)
		}
	}
	expect("the token is read, the write fails", token, fire, http.StatusServiceUnavailable, 1)
	expect("a resolved group of no incident", token, firing("resolved", alert("a1", "resolved")), http.StatusOK, 1)
	expect("a wrong token", "wrong", fire, http.StatusUnauthorized, 1)

	clk.Step(time.Minute)
	reader.down.Store(true)
	expect("the token cannot be read; it matches the last one", token, fire, http.StatusServiceUnavailable, 2)
	expect("the token cannot be read; a wrong token", "wrong", fire, http.StatusServiceUnavailable, 2)
	expect("the token cannot be read; a resolved group", token, firing("resolved", alert("a1", "resolved")), http.StatusServiceUnavailable, 2)
	expect("no token", "", fire, http.StatusUnauthorized, 2)
	clk.Step(24 * time.Hour)
	expect("the token was last read a day ago", token, fire, http.StatusServiceUnavailable, 2)
	want := "CheckoutLatency: p99 above 2s"
	if groups.titles[0] != want || groups.titles[1] != want {
		t.Errorf("titles %q, want the route's title %q twice", groups.titles, want)
	}
}

// POST /fallback/waiting is served only with a fallback, and takes only
// requests signed with the fallback file's key.
func TestFallbackWaitingSurface(t *testing.T) {
	block, err := fallback.Parse("fallback.yaml", []byte("webhook_configs: [{url: 'http://127.0.0.1:1/'}]"), suite.LoopbackPolicy(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pager, err := fallback.NewPager(fallback.Config{Block: block, Probe: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	with := newReceiver(t, nil, func(o *receiver.Options) { o.Fallback = pager })
	without := newReceiver(t, nil)
	body := []byte(`{"groups":[{"key":"ns/r/g","title":"T"}]}`)
	send := func(base string, key []byte, at time.Time) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+fallback.WaitingPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if key != nil {
			fallback.Sign(req, key, body, at)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now()
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"signed", send(with.URL, block.Key, now), http.StatusNoContent},
		{"unsigned", send(with.URL, nil, now), http.StatusUnauthorized},
		{"signed with another key", send(with.URL, []byte("another"), now), http.StatusUnauthorized},
		{"signed two minutes ago", send(with.URL, block.Key, now.Add(-2*time.Minute)), http.StatusUnauthorized},
		{"no fallback configured", send(without.URL, block.Key, now), http.StatusNotFound},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: answered %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// outageReceiver serves a receiver whose writes fail and whose Secret reads
// fail once reader.down is set, as while the API server is gone, telling
// groups to the fallback.
func outageReceiver(t *testing.T, clk *testingclock.FakeClock) (string, *switchedReader, *waitingGroups) {
	t.Helper()
	reader := &switchedReader{up: mgr.GetAPIReader(), dead: deadClient(t, false)}
	groups := &waitingGroups{}
	rcv := receiver.New(deadClient(t, true), reader, receiver.Options{
		GroupIndexed: true, Clock: clk, Fallback: groups, APITimeout: 5 * time.Second, Egress: suite.LoopbackPolicy(),
	}, ctrl.Log.WithName("receiver"))
	srv := httptest.NewServer(rcv.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, reader, groups
}

// postWithHeader posts body to base+path with one header set, and returns
// the status code.
func postWithHeader(t *testing.T, base, path, header, value string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if value != "" {
		req.Header.Set(header, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// PagerDuty's and Opsgenie's notifications that cannot be recorded count
// as Alertmanager's do: when the write fails, and, once the token cannot
// be read, by the token as last read.
func TestFallbackCountsPagerDutyAndOpsgenie(t *testing.T) {
	for _, tc := range []struct {
		name, path, header, value string
		fixture                   func(*testing.T, string) *klaxonv1alpha1.AlertRoute
		body                      []byte
	}{
		{"PagerDuty", "/pagerduty/%s/payments/v2/enqueue", "", "", pagerDutyRouteFixture, triggerEvent(token)},
		{"Opsgenie", "/opsgenie/%s/payments/v2/alerts", "Authorization", "GenieKey " + token, opsgenieRouteFixture,
			[]byte(`{"message":"Checkout database is down","alias":"db down/eu","priority":"P1"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t)
			tc.fixture(t, ns)
			clk := testingclock.NewFakeClock(time.Now())
			url, reader, groups := outageReceiver(t, clk)
			path := fmt.Sprintf(tc.path, ns)
			if code := postWithHeader(t, url, path, tc.header, tc.value, tc.body); code != http.StatusServiceUnavailable || groups.count() != 1 {
				t.Fatalf("the write fails: answered %d, %d groups told, want 503 and 1", code, groups.count())
			}
			clk.Step(time.Minute)
			reader.down.Store(true)
			if code := postWithHeader(t, url, path, tc.header, tc.value, tc.body); code != http.StatusServiceUnavailable || groups.count() != 2 {
				t.Fatalf("the token cannot be read: answered %d, %d groups told, want 503 and 2", code, groups.count())
			}
		})
	}
}

// Heartbeat alerts alone, a busy receiver and a group whose next names
// other incidents hold are answered 503 without counting: none is the API
// server's outage.
func TestFallbackDoesNotCount(t *testing.T) {
	t.Run("heartbeat alerts alone", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		heartbeatFixture(t, ns, "watchdog")
		clk := testingclock.NewFakeClock(time.Now())
		url, reader, groups := outageReceiver(t, clk)
		path := "/alertmanager/" + ns + "/payments"
		// Reads the token while it can.
		post(t, url, http.MethodPost, path, token, watchdog("firing"))
		clk.Step(time.Minute)
		reader.down.Store(true)
		if code, msg := post(t, url, http.MethodPost, path, token, watchdog("firing")); code != http.StatusServiceUnavailable || groups.count() != 0 {
			t.Fatalf("Watchdog alone: answered %d (%s), %d groups told, want 503 and none", code, msg, groups.count())
		}
		if code, msg := post(t, url, http.MethodPost, path, token, firing("firing", alert("a1", "firing"))); code != http.StatusServiceUnavailable || groups.count() != 1 {
			t.Fatalf("another alert: answered %d (%s), %d groups told, want 503 and 1", code, msg, groups.count())
		}
	})

	t.Run("busy", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		clk := testingclock.NewFakeClock(time.Now())
		url, _, groups := outageReceiver(t, clk)
		path := "/alertmanager/" + ns + "/payments"
		// Lookups of routes that do not exist use up the live reads; a
		// wrong token for a known route then answers busy as they do.
		busy := false
		for i := 0; i < 20 && !busy; i++ {
			code, _ := post(t, url, http.MethodPost, fmt.Sprintf("/alertmanager/%s/nope-%d", ns, i), token, firing("firing", alert("a1", "firing")))
			busy = code == http.StatusServiceUnavailable
		}
		if !busy {
			t.Fatal("the receiver never answered busy")
		}
		if code, msg := post(t, url, http.MethodPost, path, "wrong", firing("firing", alert("a1", "firing"))); code != http.StatusServiceUnavailable || groups.count() != 0 {
			t.Fatalf("busy: answered %d (%s), %d groups told, want 503 and none", code, msg, groups.count())
		}
	})

	t.Run("names taken", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		groups := &waitingGroups{}
		srv := newReceiver(t, nil, func(o *receiver.Options) { o.Fallback = groups })
		deliver(t, srv.URL, ns, firing("firing", alert("a1", "firing")))
		first := onlyIncident(t, ns)
		deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))
		closeIncident(t, ns, first.Name)
		other := &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}/{team="search"}`}
		for serial := int32(2); serial <= 1+alertmapping.MaxSerialGap; serial++ {
			createDecoy(t, first, alertmapping.IncidentName("payments", checkoutGroupKey, serial), other, klaxonv1alpha1.StateTriggered)
		}
		later := alert("a1", "firing")
		later.StartsAt = later.StartsAt.Add(time.Hour)
		code, msg := post(t, srv.URL, http.MethodPost, "/alertmanager/"+ns+"/payments", token, firing("firing", later))
		if code != http.StatusServiceUnavailable || !strings.Contains(msg, "other groups") || groups.count() != 0 {
			t.Fatalf("names taken: answered %d (%s), %d groups told, want 503 naming other groups and none", code, msg, groups.count())
		}
	})
}
