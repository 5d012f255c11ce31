package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/suite"
)

// hook is a webhook server that records what it receives and answers with
// the status answer gives for the n-th request (from 1).
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	received []hookRequest
	answer   func(n int) int
}

type hookRequest struct {
	auth    string
	payload map[string]any
}

func newHook(t *testing.T, answer func(n int) int) *hook {
	t.Helper()
	h := &hook{answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook body is not JSON: %v: %s", err, body)
		}
		h.mu.Lock()
		h.received = append(h.received, hookRequest{auth: r.Header.Get("Authorization"), payload: p})
		n := len(h.received)
		h.mu.Unlock()
		code := http.StatusOK
		if h.answer != nil {
			code = h.answer(n)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.received...)
}

// field reads a dotted path of a decoded payload as a string.
func field(p map[string]any, path string) string {
	var v any = p
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[part]
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// hookChannel creates a webhook NotificationChannel to url with a marked
// token Secret, in a namespace that lets the operator read it.
func hookChannel(t *testing.T, ns, name, url string) {
	t.Helper()
	ctx := context.Background()
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-token", Namespace: ns,
			Labels: map[string]string{klaxonv1alpha1.LabelChannelSecret: "true"}},
		StringData: map[string]string{"token": "s3cret-" + name},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	ch := &klaxonv1alpha1.NotificationChannel{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.NotificationChannelSpec{Webhook: &klaxonv1alpha1.WebhookChannel{
			URL: url, TokenSecretRef: &klaxonv1alpha1.SecretKeyReference{Name: secret.Name, Key: "token"}}},
	}
	if err := k8s.Create(ctx, ch); err != nil {
		t.Fatal(err)
	}
}

// responder creates a Responder with one contact per channel (named after
// it) and one rule per contact; after, when set, delays the rule of the
// contact it names.
func responder(t *testing.T, ns, name string, after map[string]time.Duration, channels ...string) {
	t.Helper()
	r := &klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.ResponderSpec{DisplayName: strings.ToUpper(name[:1]) + name[1:]}}
	for _, ch := range channels {
		r.Spec.Contacts = append(r.Spec.Contacts, klaxonv1alpha1.Contact{Name: ch, Channel: ch, Address: name + "@" + ch})
		rule := klaxonv1alpha1.NotificationRule{Contact: ch}
		if d, ok := after[ch]; ok {
			rule.After = &metav1.Duration{Duration: d}
		}
		r.Spec.Rules = append(r.Spec.Rules, rule)
	}
	if err := k8s.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// notifications renders status.notifications as "who/contact:state/attempts".
func notifications(inc *klaxonv1alpha1.Incident) string {
	var out []string
	for _, n := range inc.Status.Notifications {
		who := n.Responder
		if who == "" {
			who = n.Address
		}
		out = append(out, fmt.Sprintf("%s/%s:%s/%d", who, n.Contact, n.State, n.Attempts))
	}
	return strings.Join(out, ",")
}

func waitForNotifications(t *testing.T, inc *klaxonv1alpha1.Incident, want string) *klaxonv1alpha1.Incident {
	t.Helper()
	var last string
	got := &klaxonv1alpha1.Incident{}
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, suite.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			return false, err
		}
		last = notifications(got)
		return last == want, nil
	})
	if err != nil {
		t.Fatalf("%s: notifications %q, want %q: %v", inc.Name, last, want, err)
	}
	return got
}

func directPolicy(t *testing.T, ns, name string, targets ...klaxonv1alpha1.EscalationTarget) {
	t.Helper()
	p := &klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{Levels: []klaxonv1alpha1.EscalationLevel{{Targets: targets}}}}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// TestPageIsDeliveredByWebhookOnce pages alice, whose webhook contact fails
// once with a 500: the delivery is retried after the backoff, recorded as
// Sent, and never sent again; the message carries the incident, the page
// and the token.
func TestPageIsDeliveredByWebhookOnce(t *testing.T) {
	ns := newNamespace(t)
	h := newHook(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hookChannel(t, ns, "hook", h.URL)
	responder(t, ns, "alice", nil, "hook")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"}, klaxonv1alpha1.EscalationTarget{User: "bob"})
	inc := createIncident(t, k8s, ns, "db-down", withPolicy("direct"), withSeverity(klaxonv1alpha1.SeverityCritical))

	// The first attempt fails; bob has no Responder.
	got := waitForNotifications(t, inc, "alice/hook:Pending/1,bob/:Failed/0")
	if c := condition(got, klaxonv1alpha1.ConditionNotificationFailed); c != "True/NobodyReached" {
		t.Errorf("NotificationFailed = %s", c)
	}
	n := got.Status.Notifications[0]
	if n.NextAttemptAt == nil || !strings.Contains(n.Error, "500") {
		t.Fatalf("the failed attempt: %+v", n)
	}
	fakeClock.SetTime(n.NextAttemptAt.Time)
	nudge(t, got)
	got = waitForNotifications(t, inc, "alice/hook:Sent/2,bob/:Failed/0")
	if got.Status.Notifications[0].SentAt == nil || got.Status.Notifications[0].Error != "" {
		t.Errorf("the sent delivery: %+v", got.Status.Notifications[0])
	}
	if !timelineHas(got, klaxonv1alpha1.TimelineNotified, "Notified alice (hook) via hook") {
		t.Errorf("no timeline entry for the delivery: %+v", got.Status.Timeline)
	}

	// Nothing more is sent, however often the incident is reconciled.
	for range 3 {
		nudge(t, got)
	}
	time.Sleep(time.Second)
	reqs := h.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d webhook requests, want 2 (a failure and a success)", len(reqs))
	}
	p := reqs[1].payload
	for path, want := range map[string]string{
		"version": "klaxon.dev/v1", "incident.name": "db-down", "incident.namespace": ns, "incident.severity": "SEV1",
		"page.responder": "alice", "address": "alice@hook",
	} {
		if got := field(p, path); got != want {
			t.Errorf("payload %s = %q, want %q", path, got, want)
		}
	}
	if reqs[1].auth != "Bearer s3cret-hook" {
		t.Errorf("Authorization = %q", reqs[1].auth)
	}

	// bob's Responder, created after the page (GitOps applies in any
	// order), still gets it while the incident is unacknowledged.
	responder(t, ns, "bob", nil, "hook")
	got = waitForNotifications(t, inc, "alice/hook:Sent/2,bob/hook:Sent/1")
	if c := condition(got, klaxonv1alpha1.ConditionNotificationFailed); c != "False/Delivered" {
		t.Errorf("NotificationFailed = %s once everyone was reached", c)
	}
	if reqs := h.requests(); len(reqs) != 3 || field(reqs[2].payload, "page.responder") != "bob" {
		t.Errorf("%d requests, want a third for bob", len(reqs))
	}
}

// TestAcknowledgementCancelsLaterDeliveries: a rule with after: 5m is not
// sent once the incident is acknowledged.
func TestAcknowledgementCancelsLaterDeliveries(t *testing.T) {
	ns := newNamespace(t)
	now, later := newHook(t, nil), newHook(t, nil)
	hookChannel(t, ns, "now", now.URL)
	hookChannel(t, ns, "later", later.URL)
	responder(t, ns, "alice", map[string]time.Duration{"later": 5 * time.Minute}, "now", "later")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "cpu", withPolicy("direct"))
	got := waitForNotifications(t, inc, "alice/now:Sent/1,alice/later:Pending/0")
	mustSetState(t, k8s, got, A)
	waitForNotifications(t, inc, "alice/now:Sent/1,alice/later:Cancelled/0")
	fakeClock.Step(10 * time.Minute)
	nudge(t, got)
	time.Sleep(time.Second)
	if n := len(later.requests()); n != 0 {
		t.Errorf("the cancelled delivery was sent %d times", n)
	}
}

// TestPermanentFailureIsReported: a 400 is not retried; NotificationFailed
// says so, with a Warning Event.
func TestPermanentFailureIsReported(t *testing.T) {
	ns := newNamespace(t)
	h := newHook(t, func(int) int { return http.StatusBadRequest })
	hookChannel(t, ns, "hook", h.URL)
	responder(t, ns, "alice", nil, "hook")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "disk", withPolicy("direct"))
	got := waitForNotifications(t, inc, "alice/hook:Failed/1")
	if c := condition(got, klaxonv1alpha1.ConditionNotificationFailed); c != "True/DeliveryFailed" {
		t.Errorf("NotificationFailed = %s", c)
	}
	eventually(t, "a NotificationFailed Warning", func(context.Context) (bool, error) {
		return warnings(t, inc, klaxonv1alpha1.EventNotificationFailed) == 1, nil
	})
	fakeClock.Step(time.Hour)
	nudge(t, got)
	time.Sleep(time.Second)
	if n := len(h.requests()); n != 1 {
		t.Errorf("%d requests for a permanent failure, want 1", n)
	}
}

// TestTeamChannelTargetIsNotified: a policy level naming a channel and an
// address notifies it with the page.
func TestTeamChannelTargetIsNotified(t *testing.T) {
	ns := newNamespace(t)
	h := newHook(t, nil)
	hookChannel(t, ns, "team", h.URL)
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{Channel: "team", Address: "#payments-incidents"})
	inc := createIncident(t, k8s, ns, "latency", withPolicy("direct"))
	waitForNotifications(t, inc, "#payments-incidents/:Sent/1")
	if reqs := h.requests(); len(reqs) != 1 || field(reqs[0].payload, "address") != "#payments-incidents" {
		t.Errorf("team channel requests: %+v", reqs)
	}
}

// blockingHook is a webhook server whose answers wait until released; it
// counts the requests and the most it held at once.
type blockingHook struct {
	*httptest.Server
	release                 chan struct{}
	once                    sync.Once
	mu                      sync.Mutex
	total, inFlight, mostAt int
}

func newBlockingHook(t *testing.T) *blockingHook {
	t.Helper()
	b := &blockingHook{release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.total++
		b.inFlight++
		b.mostAt = max(b.mostAt, b.inFlight)
		b.mu.Unlock()
		defer func() { b.mu.Lock(); b.inFlight--; b.mu.Unlock() }()
		select {
		case <-b.release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { b.unblock(); b.Close() })
	return b
}

// unblock lets every held and later request answer 200.
func (b *blockingHook) unblock() { b.once.Do(func() { close(b.release) }) }

func (b *blockingHook) counts() (total, inFlight, most int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total, b.inFlight, b.mostAt
}

// TestHangingChannelDelaysOnlyItsOwnDeliveries: a webhook that does not
// answer holds at most four sends of its channel at once; another
// incident's delivery on another channel goes out meanwhile; and a
// delivery queued behind the hung ones is not sent once its incident is
// acknowledged.
func TestHangingChannelDelaysOnlyItsOwnDeliveries(t *testing.T) {
	ns := newNamespace(t)
	hanging := newBlockingHook(t)
	fine := newHook(t, nil)
	hookChannel(t, ns, "hanging", hanging.URL)
	hookChannel(t, ns, "fine", fine.URL)
	stuck := func(i int) *klaxonv1alpha1.Incident {
		name := fmt.Sprintf("stuck%d", i)
		responder(t, ns, name, nil, "hanging")
		directPolicy(t, ns, "p-"+name, klaxonv1alpha1.EscalationTarget{User: name})
		return createIncident(t, k8s, ns, "inc-"+name, withPolicy("p-"+name))
	}
	for i := range 4 {
		stuck(i)
	}
	eventually(t, "four sends held by the hanging server", func(context.Context) (bool, error) {
		_, inFlight, _ := hanging.counts()
		return inFlight == 4, nil
	})
	queued := stuck(4)
	waitForNotifications(t, queued, "stuck4/hanging:Pending/0")

	responder(t, ns, "alice", nil, "fine")
	directPolicy(t, ns, "p-alice", klaxonv1alpha1.EscalationTarget{User: "alice"})
	waitForNotifications(t, createIncident(t, k8s, ns, "inc-alice", withPolicy("p-alice")), "alice/fine:Sent/1")

	// Acknowledged while it queues for a slot: never sent.
	mustSetState(t, k8s, queued, A)
	waitForNotifications(t, queued, "stuck4/hanging:Cancelled/0")
	hanging.unblock()
	eventually(t, "the held sends to finish", func(context.Context) (bool, error) {
		_, inFlight, _ := hanging.counts()
		return inFlight == 0, nil
	})
	time.Sleep(time.Second)
	if total, _, most := hanging.counts(); total != 4 || most != 4 {
		t.Errorf("the hanging server got %d requests, at most %d at once; want 4 and 4", total, most)
	}
}

// TestDeliveryAcrossRestarts stops the operator between a page and its
// delayed delivery, and again after the delivery: each rule is delivered
// exactly once.
func TestDeliveryAcrossRestarts(t *testing.T) {
	ns := newNamespace(t)
	h := newHook(t, nil)
	hookChannel(t, ns, "hook", h.URL)
	responder(t, ns, "alice", map[string]time.Duration{"hook": 5 * time.Minute}, "hook")
	directPolicy(t, ns, "direct", klaxonv1alpha1.EscalationTarget{User: "alice"})
	inc := createIncident(t, k8s, ns, "restart", withPolicy("direct"))
	got := waitForNotifications(t, inc, "alice/hook:Pending/0")

	restart := func() {
		t.Helper()
		if err := stopOperator(); err != nil {
			t.Fatal(err)
		}
		if err := startOperator(); err != nil {
			t.Fatal(err)
		}
	}
	if err := stopOperator(); err != nil {
		t.Fatal(err)
	}
	fakeClock.SetTime(got.Status.Notifications[0].DueAt.Time)
	if err := startOperator(); err != nil {
		t.Fatal(err)
	}
	got = waitForNotifications(t, inc, "alice/hook:Sent/1")
	restart()
	nudge(t, got)
	time.Sleep(2 * time.Second)
	if n := len(h.requests()); n != 1 {
		t.Errorf("%d deliveries across two restarts, want 1", n)
	}
}
