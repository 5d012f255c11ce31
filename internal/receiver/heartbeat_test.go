package receiver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// heartbeatFixture creates a Heartbeat on the route "payments" (see
// routeFixture) beaten by Watchdog alerts, and waits until the cache has it.
func heartbeatFixture(t *testing.T, ns, name string) *klaxonv1alpha1.Heartbeat {
	t.Helper()
	hb := &klaxonv1alpha1.Heartbeat{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.HeartbeatSpec{
			AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "payments"},
			Matchers:      []string{`alertname="Watchdog"`},
			Timeout:       metav1.Duration{Duration: 10 * time.Minute},
		},
	}
	if err := k8s.Create(context.Background(), hb); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache to see the heartbeat", func(ctx context.Context) (bool, error) {
		return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(hb), &klaxonv1alpha1.Heartbeat{}) == nil, nil
	})
	return hb
}

func lastSeenAt(t *testing.T, hb *klaxonv1alpha1.Heartbeat) *metav1.Time {
	t.Helper()
	cur := &klaxonv1alpha1.Heartbeat{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(hb), cur); err != nil {
		t.Fatal(err)
	}
	return cur.Status.LastSeenAt
}

func sameSecond(got *metav1.Time, want time.Time) bool {
	return got != nil && got.Time.Equal(want.Truncate(time.Second))
}

// A ping with the route's token answers 204 and records the beat, coarsely:
// at most once per a quarter of the timeout, capped at once a minute (here,
// with a 10m timeout, once a minute).
func TestHeartbeatPing(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	hb := heartbeatFixture(t, ns, "cron")
	clk := testingclock.NewFakeClock(time.Now())
	srv := newReceiver(t, nil, func(o *receiver.Options) { o.Clock = clk })
	path := "/heartbeat/" + ns + "/cron"

	first := clk.Now()
	if code, msg := post(t, srv.URL, http.MethodPost, path, token, nil); code != http.StatusNoContent || msg != "" {
		t.Fatalf("ping = %d %q, want 204 without a body", code, msg)
	}
	if got := lastSeenAt(t, hb); !sameSecond(got, first) {
		t.Fatalf("lastSeenAt = %v, want %v", got, first)
	}
	// Within the write interval: answered, not written.
	clk.Step(30 * time.Second)
	if code, _ := post(t, srv.URL, http.MethodPost, path, token, []byte("ok")); code != http.StatusNoContent {
		t.Fatalf("second ping = %d, want 204", code)
	}
	if got := lastSeenAt(t, hb); !sameSecond(got, first) {
		t.Errorf("lastSeenAt = %v after a ping within the write interval, want it unchanged (%v)", got, first)
	}
	// Past it: written.
	clk.Step(31 * time.Second)
	if code, _ := post(t, srv.URL, http.MethodPost, path, token, nil); code != http.StatusNoContent {
		t.Fatalf("third ping = %d, want 204", code)
	}
	if got := lastSeenAt(t, hb); !sameSecond(got, clk.Now()) {
		t.Errorf("lastSeenAt = %v, want %v", got, clk.Now())
	}
}

func TestHeartbeatAnswers(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	heartbeatFixture(t, ns, "cron")
	srv := newReceiver(t, nil)
	path := "/heartbeat/" + ns + "/cron"
	cases := map[string]struct {
		method, path, bearer string
		body                 []byte
		code                 int
		message              string
	}{
		"no token":    {http.MethodPost, path, "", nil, http.StatusUnauthorized, "missing bearer token"},
		"wrong token": {http.MethodPost, path, "wrong", nil, http.StatusUnauthorized, "the bearer token is not valid for " + path},
		"unknown heartbeat, wrong token": {http.MethodPost, "/heartbeat/" + ns + "/nope", "wrong", nil, http.StatusUnauthorized,
			"the bearer token is not valid for /heartbeat/" + ns + "/nope"},
		"unknown heartbeat, a namespace token": {http.MethodPost, "/heartbeat/" + ns + "/nope", token, nil, http.StatusNotFound, "Heartbeat " + ns + "/nope not found"},
		"body over 1 KiB":                      {http.MethodPost, path, token, []byte(strings.Repeat("x", 1025)), http.StatusRequestEntityTooLarge, "larger than 1024 bytes"},
		"GET":                                  {http.MethodGet, path, token, nil, http.StatusMethodNotAllowed, "heartbeats are POSTed"},
		"ok":                                   {http.MethodPost, path, token, []byte(strings.Repeat("x", 1024)), http.StatusNoContent, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, msg := post(t, srv.URL, tc.method, tc.path, tc.bearer, tc.body)
			if code != tc.code || !strings.Contains(msg, tc.message) {
				t.Errorf("answer = %d %q, want %d containing %q", code, msg, tc.code, tc.message)
			}
		})
	}
}

func watchdog(status string) []byte {
	a := template.Alert{Status: status, Fingerprint: "w1", Labels: template.KV{"alertname": "Watchdog", "severity": "none"},
		StartsAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	msg := webhook.Message{
		Version:  "4",
		GroupKey: `{}:{alertname="Watchdog"}`,
		Data: &template.Data{
			Receiver: "klaxon", Status: status, Alerts: []template.Alert{a},
			GroupLabels:  template.KV{"alertname": "Watchdog"},
			CommonLabels: template.KV{"alertname": "Watchdog", "severity": "none"},
		},
	}
	b, _ := json.Marshal(msg)
	return b
}

// A notification whose every alert matches a heartbeat beats it and opens
// no incident; a group with other alerts still opens one.
func TestHeartbeatWatchdogNotificationBeats(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	hb := heartbeatFixture(t, ns, "watchdog")
	clk := testingclock.NewFakeClock(time.Now())
	srv := newReceiver(t, nil, func(o *receiver.Options) { o.Clock = clk })
	path := "/alertmanager/" + ns + "/payments"

	code, msg := post(t, srv.URL, http.MethodPost, path, token, watchdog("firing"))
	if code != http.StatusOK || !strings.Contains(msg, "beat of Heartbeat watchdog") {
		t.Fatalf("Watchdog notification = %d %q, want 200 counting a beat", code, msg)
	}
	if got := lastSeenAt(t, hb); !sameSecond(got, clk.Now()) {
		t.Errorf("lastSeenAt = %v, want %v", got, clk.Now())
	}
	// Repeats at Alertmanager's cadence are answered without incidents.
	for range 3 {
		clk.Step(5 * time.Second)
		if code, _ := post(t, srv.URL, http.MethodPost, path, token, watchdog("firing")); code != http.StatusOK {
			t.Fatalf("repeat = %d, want 200", code)
		}
	}
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d incidents after Watchdog notifications, want none", len(list.Items))
	}
	// A wrong token is refused as on any notification.
	if code, _ := post(t, srv.URL, http.MethodPost, path, "wrong", watchdog("firing")); code != http.StatusUnauthorized {
		t.Errorf("Watchdog with a wrong token = %d, want 401", code)
	}
	// Other alerts still open incidents.
	if code, _ := post(t, srv.URL, http.MethodPost, path, token, firing("firing", alert("a", "firing"))); code != http.StatusOK {
		t.Fatalf("CheckoutLatency notification = %d, want 200", code)
	}
	if n := len(groupIncidents(t, ns)); n != 1 {
		t.Errorf("%d incidents for CheckoutLatency, want 1", n)
	}
}
