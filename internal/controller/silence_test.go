package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/controller"
)

// fakeAlertmanager answers the three calls of Alertmanager's API v2 that
// Klaxon makes, and records them.
type fakeAlertmanager struct {
	*httptest.Server
	mu       sync.Mutex
	firing   int
	reject   string
	posts    []map[string]any
	deleted  []string
	auth     []string
	nextID   int
	filtered [][]string
}

func newFakeAlertmanager(t *testing.T) *fakeAlertmanager {
	f := &fakeAlertmanager{firing: 1}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/silences", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		if f.reject != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(f.reject)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.posts = append(f.posts, body)
		id, _ := body["id"].(string)
		if id == "" {
			f.nextID++
			id = fmt.Sprintf("00000000-0000-0000-0000-%012d", f.nextID)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"silenceID": id})
	})
	mux.HandleFunc("GET /api/v2/silences", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var out []map[string]any
		for i, p := range f.posts {
			id := fmt.Sprintf("00000000-0000-0000-0000-%012d", i+1)
			if p["id"] != nil && p["id"] != "" {
				continue
			}
			state := "active"
			if at, _ := time.Parse(time.RFC3339, fmt.Sprint(p["startsAt"])); at.After(fakeClock.Now()) {
				state = "pending"
			}
			if at, _ := time.Parse(time.RFC3339, fmt.Sprint(p["endsAt"])); !at.After(fakeClock.Now()) {
				state = "expired"
			}
			for _, d := range f.deleted {
				if d == id {
					state = "expired"
				}
			}
			q := map[string]any{"id": id, "status": map[string]any{"state": state}, "updatedAt": p["startsAt"]}
			for k, v := range p {
				if k != "id" {
					q[k] = v
				}
			}
			out = append(out, q)
		}
		w.Header().Set("Content-Type", "application/json")
		if out == nil {
			out = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("DELETE /api/v2/silence/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.deleted = append(f.deleted, r.PathValue("id"))
	})
	mux.HandleFunc("GET /api/v2/alerts", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.filtered = append(f.filtered, r.URL.Query()["filter"])
		alerts := make([]map[string]any, f.firing)
		for i := range alerts {
			alerts[i] = map[string]any{
				"labels": map[string]string{"alertname": "CheckoutLatency", "team": "payments"}, "annotations": map[string]string{},
				"fingerprint": fmt.Sprintf("%016d", i), "startsAt": "2026-11-23T09:00:00Z", "endsAt": "2026-11-23T10:00:00Z",
				"updatedAt": "2026-11-23T09:00:00Z", "receivers": []any{}, "status": map[string]any{"state": "suppressed", "silencedBy": []string{}, "inhibitedBy": []string{}},
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(alerts)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAlertmanager) with(fn func(*fakeAlertmanager)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// silenceFixture makes a route that silences on acknowledge through am and
// an Acknowledged-to-be incident of one of its groups.
func silenceFixture(t *testing.T, am *fakeAlertmanager) (string, *klaxonv1alpha1.Incident) {
	t.Helper()
	ns := newNamespace(t)
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "token", Key: "token"},
			Alertmanager: &klaxonv1alpha1.AlertRouteAlertmanager{
				URL: am.URL, SilenceOnAcknowledge: ptr.To(true), SilenceFor: &metav1.Duration{Duration: time.Hour},
			},
		},
	}
	if err := k8s.Create(context.Background(), route); err != nil {
		t.Fatal(err)
	}
	inc := createIncident(t, k8s, ns, "checkout", func(i *klaxonv1alpha1.Incident) {
		i.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}/{severity="critical"}:{alertname="CheckoutLatency", team="payments"}`}
	})
	return ns, inc
}

func TestSilenceOnAcknowledgeExtendsPollsAndResolves(t *testing.T) {
	am := newFakeAlertmanager(t)
	_, inc := silenceFixture(t, am)
	waitForPhase(t, inc, T, 1)
	mustSetState(t, k8s, inc, A)
	got := waitFor(t, inc, "silenced", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Silence != nil && i.Status.Silence.ID != "" && controllerutil.ContainsFinalizer(i, controller.SilenceFinalizer)
	})
	if exp := got.Status.Silence.ExpiresAt; exp == nil || exp.Sub(operatorNow().Add(time.Hour)).Abs() > 2*time.Second {
		t.Errorf("expiresAt = %v, want an hour from %v", exp, operatorNow())
	}
	am.with(func(f *fakeAlertmanager) {
		if len(f.posts) != 1 {
			t.Fatalf("posts = %d, want 1", len(f.posts))
		}
		b, _ := json.Marshal(f.posts[0]["matchers"])
		if want := `[{"isEqual":true,"isRegex":false,"name":"alertname","value":"CheckoutLatency"},{"isEqual":true,"isRegex":false,"name":"team","value":"payments"},{"isEqual":true,"isRegex":false,"name":"severity","value":"critical"}]`; string(b) != want {
			t.Errorf("matchers = %s, want %s", b, want)
		}
		if c, _ := f.posts[0]["comment"].(string); !strings.Contains(c, inc.Namespace+"/checkout") || f.posts[0]["createdBy"] != "klaxon" {
			t.Errorf("comment = %q, createdBy = %v", c, f.posts[0]["createdBy"])
		}
	})
	first, id := got.Status.Silence.ExpiresAt.Time, got.Status.Silence.ID

	// Halfway through, with the alerts still firing, it is extended.
	fakeClock.Step(31 * time.Minute)
	nudge(t, inc)
	waitFor(t, inc, "extended", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Silence != nil && i.Status.Silence.ExpiresAt != nil && i.Status.Silence.ExpiresAt.After(first)
	})
	am.with(func(f *fakeAlertmanager) {
		// A reconcile of a read from before the extension was written may
		// extend it again: an update of the same silence, which is harmless.
		if len(f.posts) < 2 {
			t.Errorf("posts = %v, want an update of %s", f.posts, id)
		}
		for _, p := range f.posts[1:] {
			if p["id"] != id {
				t.Errorf("post %v, want an update of %s", p, id)
			}
		}
		if len(f.filtered) == 0 || strings.Join(f.filtered[0], ",") != `alertname="CheckoutLatency",team="payments",severity="critical"` {
			t.Errorf("alert filters = %v", f.filtered)
		}
	})

	// The alerts end: polling resolves the incident, which expires the
	// silence and drops the finalizer.
	am.with(func(f *fakeAlertmanager) { f.firing = 0 })
	nudge(t, inc)
	got = waitFor(t, inc, "resolved and unsilenced", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Phase == R && i.Status.Silence == nil && !controllerutil.ContainsFinalizer(i, controller.SilenceFinalizer)
	})
	if got.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("resolved by %q", got.Annotations[klaxonv1alpha1.ActorAnnotation])
	}
	am.with(func(f *fakeAlertmanager) {
		// A reconcile of a stale read may expire it again, which is harmless.
		if len(f.deleted) == 0 || f.deleted[0] != id || f.deleted[len(f.deleted)-1] != id {
			t.Errorf("deleted = %v, want %s", f.deleted, id)
		}
	})
}

func TestSilenceRejectionShowsAndDeletionExpires(t *testing.T) {
	am := newFakeAlertmanager(t)
	am.with(func(f *fakeAlertmanager) { f.reject = "silence invalid: matchers too broad" })
	_, inc := silenceFixture(t, am)
	waitForPhase(t, inc, T, 1)
	mustSetState(t, k8s, inc, A)
	// The status says Alertmanager refused, by its HTTP status alone: the
	// URL is the namespace's choice, so its answer stays in the log.
	rejected := waitFor(t, inc, "rejection shown", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Silence != nil && strings.Contains(i.Status.Silence.Error, "Alertmanager refused with HTTP 400")
	})
	if strings.Contains(rejected.Status.Silence.Error, "matchers too broad") {
		t.Errorf("the silence error quotes the answer: %q", rejected.Status.Silence.Error)
	}

	// Alertmanager accepts it on the retry; deleting the incident expires it.
	am.with(func(f *fakeAlertmanager) { f.reject = "" })
	fakeClock.Step(time.Minute)
	nudge(t, inc)
	got := waitFor(t, inc, "silenced", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Silence != nil && i.Status.Silence.ID != "" && i.Status.Silence.Error == ""
	})
	if err := k8s.Delete(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the incident to be gone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), &klaxonv1alpha1.Incident{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	am.with(func(f *fakeAlertmanager) {
		if len(f.deleted) == 0 || f.deleted[0] != got.Status.Silence.ID {
			t.Errorf("deleted = %v, want %s", f.deleted, got.Status.Silence.ID)
		}
	})
}

// An unreachable Alertmanager holds a deleted incident only until its
// silence lapses by itself.
func TestSilenceFinalizerGivesUpWhenTheSilenceLapses(t *testing.T) {
	am := newFakeAlertmanager(t)
	_, inc := silenceFixture(t, am)
	waitForPhase(t, inc, T, 1)
	mustSetState(t, k8s, inc, A)
	got := waitFor(t, inc, "silenced", func(i *klaxonv1alpha1.Incident) bool {
		return i.Status.Silence != nil && i.Status.Silence.ID != ""
	})
	am.Close()
	if err := k8s.Delete(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	waitFor(t, inc, "held by the finalizer", func(i *klaxonv1alpha1.Incident) bool { return i.DeletionTimestamp != nil })
	fakeClock.SetTime(got.Status.Silence.ExpiresAt.Add(time.Second))
	nudge(t, inc)
	eventually(t, "the incident to be gone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), &klaxonv1alpha1.Incident{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

// A window with spec.alertmanagerSilence is mirrored by one silence per
// occurrence, created ahead, rewritten when the spec changes, made anew
// for the next occurrence, and expired when the mirror is removed or the
// window deleted.
func TestMaintenanceWindowMirroredAsSilence(t *testing.T) {
	am := newFakeAlertmanager(t)
	ns, _ := silenceFixture(t, am)
	// Every day, from two to three hours after this hour.
	now := operatorNow()
	start := now.Truncate(time.Hour).Add(2 * time.Hour)
	end := start.Add(time.Hour)
	mw := &klaxonv1alpha1.MaintenanceWindow{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly-backup", Namespace: ns},
		Spec: klaxonv1alpha1.MaintenanceWindowSpec{
			Services: []klaxonv1alpha1.ServiceName{"checkout"},
			Schedule: &klaxonv1alpha1.MaintenanceSchedule{TimeZone: "UTC", TimeRestriction: klaxonv1alpha1.TimeRestriction{
				Days: []klaxonv1alpha1.Weekday{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
				From: start.Format("15:04"), To: end.Format("15:04")}},
			Reason: "Backups",
			AlertmanagerSilence: &klaxonv1alpha1.MaintenanceSilence{AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "payments"},
				Matchers: []string{`service="checkout"`, `env=~"prod|staging"`}},
		},
	}
	if err := k8s.Create(context.Background(), mw); err != nil {
		t.Fatal(err)
	}
	silenced := func(what string, cond func(*klaxonv1alpha1.MaintenanceSilenceStatus) bool) *klaxonv1alpha1.MaintenanceWindow {
		t.Helper()
		got := &klaxonv1alpha1.MaintenanceWindow{}
		eventually(t, what, func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), got)
			return got.Status.Silence != nil && cond(got.Status.Silence), err
		})
		return got
	}
	spans := func(from, to time.Time) func(*klaxonv1alpha1.MaintenanceSilenceStatus) bool {
		return func(s *klaxonv1alpha1.MaintenanceSilenceStatus) bool {
			return s.ID != "" && s.Error == "" && s.StartsAt != nil && s.StartsAt.Time.Equal(from) && s.EndsAt != nil && s.EndsAt.Time.Equal(to)
		}
	}
	got := silenced("the next occurrence silenced ahead", spans(start, end))
	if !controllerutil.ContainsFinalizer(got, controller.SilenceFinalizer) || got.Status.Silence.AlertRoute != "payments" {
		t.Errorf("finalizers %v, alertRoute %q", got.Finalizers, got.Status.Silence.AlertRoute)
	}
	first := got.Status.Silence.ID
	am.with(func(f *fakeAlertmanager) {
		if len(f.posts) != 1 {
			t.Fatalf("posts = %d, want 1", len(f.posts))
		}
		p := f.posts[0]
		b, _ := json.Marshal(p["matchers"])
		if want := `[{"isEqual":true,"isRegex":false,"name":"service","value":"checkout"},{"isEqual":true,"isRegex":true,"name":"env","value":"prod|staging"}]`; string(b) != want {
			t.Errorf("matchers = %s, want %s", b, want)
		}
		if p["startsAt"] != start.Format("2006-01-02T15:04:05.000Z") || p["endsAt"] != end.Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("silence from %v to %v, want %v to %v", p["startsAt"], p["endsAt"], start, end)
		}
		if c, _ := p["comment"].(string); !strings.Contains(c, ns+"/nightly-backup") || !strings.Contains(c, "Backups") {
			t.Errorf("comment = %q", c)
		}
	})

	// Nothing changed: nothing is posted.
	nudge(t, mw)
	time.Sleep(time.Second)
	am.with(func(f *fakeAlertmanager) {
		if len(f.posts) != 1 {
			t.Errorf("posts = %d after a no-op reconcile, want 1", len(f.posts))
		}
	})

	// Matchers that would silence everything are refused, saying why.
	patchSpec := func(fn func(*klaxonv1alpha1.MaintenanceWindow)) {
		t.Helper()
		cur := &klaxonv1alpha1.MaintenanceWindow{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(mw), cur); err != nil {
			t.Fatal(err)
		}
		before := cur.DeepCopy()
		fn(cur)
		if err := k8s.Patch(context.Background(), cur, client.MergeFrom(before)); err != nil {
			t.Fatal(err)
		}
	}
	patchSpec(func(w *klaxonv1alpha1.MaintenanceWindow) { w.Spec.AlertmanagerSilence.Matchers = []string{`env=~".*"`} })
	silenced("the refusal shown", func(s *klaxonv1alpha1.MaintenanceSilenceStatus) bool {
		return strings.Contains(s.Error, "every matcher matches an empty label value")
	})

	// A new spec updates the silence in place.
	patchSpec(func(w *klaxonv1alpha1.MaintenanceWindow) {
		w.Spec.AlertmanagerSilence.Matchers = []string{`service="checkout"`}
	})
	silenced("the silence updated", func(s *klaxonv1alpha1.MaintenanceSilenceStatus) bool { return s.Error == "" && s.Generation == 3 })
	am.with(func(f *fakeAlertmanager) {
		if len(f.posts) != 2 || f.posts[1]["id"] != first {
			t.Errorf("posts = %v, want an update of %s", f.posts, first)
		}
	})

	// The occurrence ends and lapses by itself; tomorrow's is made anew.
	fakeClock.SetTime(end)
	nudge(t, mw)
	got = silenced("tomorrow's occurrence", spans(start.Add(24*time.Hour), end.Add(24*time.Hour)))
	second := got.Status.Silence.ID
	am.with(func(f *fakeAlertmanager) {
		if len(f.posts) != 3 || f.posts[2]["id"] != nil && f.posts[2]["id"] != "" || second == first {
			t.Errorf("posts = %v, want a new silence", f.posts)
		}
		if len(f.deleted) != 0 {
			t.Errorf("deleted %v; a silence that ended needs no expiring", f.deleted)
		}
	})

	// Removing the mirror expires the silence and lets the window go.
	patchSpec(func(w *klaxonv1alpha1.MaintenanceWindow) { w.Spec.AlertmanagerSilence = nil })
	eventually(t, "the mirror dropped", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), got)
		return got.Status.Silence == nil && !controllerutil.ContainsFinalizer(got, controller.SilenceFinalizer), err
	})
	// A reconcile of a stale read may expire it again, which is harmless.
	expiredOnly := func(id string) {
		t.Helper()
		am.with(func(f *fakeAlertmanager) {
			if len(f.deleted) == 0 || f.deleted[len(f.deleted)-1] != id {
				t.Errorf("deleted = %v, want %s last", f.deleted, id)
			}
			for _, d := range f.deleted {
				if d != id && d != second {
					t.Errorf("deleted = %v, want only %s and %s", f.deleted, second, id)
				}
			}
		})
	}
	expiredOnly(second)

	// Mirrored again, then deleted: the finalizer expires the silence.
	patchSpec(func(w *klaxonv1alpha1.MaintenanceWindow) {
		w.Spec.AlertmanagerSilence = &klaxonv1alpha1.MaintenanceSilence{AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "payments"},
			Matchers: []string{`service="checkout"`}}
	})
	got = silenced("mirrored again", func(s *klaxonv1alpha1.MaintenanceSilenceStatus) bool { return s.ID != "" && s.ID != second })
	third := got.Status.Silence.ID
	if err := k8s.Delete(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window to be gone", func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), &klaxonv1alpha1.MaintenanceWindow{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	expiredOnly(third)
}
