package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/operator"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// realAlertmanager is an Alertmanager binary of KLAXON_ALERTMANAGER_DIR,
// routing to nobody: it only holds the silences Klaxon posts.
type realAlertmanager struct{ url string }

func startRealAlertmanager(t *testing.T) *realAlertmanager {
	t.Helper()
	dir := os.Getenv("KLAXON_ALERTMANAGER_DIR")
	if dir == "" {
		t.Fatal("KLAXON_ALERTMANAGER_DIR is not set: run `make test`, which installs Alertmanager first")
	}
	tmp := t.TempDir()
	config := filepath.Join(tmp, "alertmanager.yml")
	if err := os.WriteFile(config, []byte("route: {receiver: nobody}\nreceivers: [{name: nobody}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := proc.FreeAddr(t)
	cmd := exec.Command(filepath.Join(dir, "alertmanager"), "--config.file="+config, "--storage.path="+filepath.Join(tmp, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting alertmanager: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	am := &realAlertmanager{url: "http://" + addr}
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return localcluster.AnswersOK(ctx, am.url+"/-/ready"), nil
	})
	if err != nil {
		t.Fatalf("alertmanager did not become ready: %v", err)
	}
	return am
}

// amSilence is a silence as Alertmanager's API v2 lists it.
type amSilence struct {
	ID       string `json:"id"`
	Comment  string `json:"comment"`
	Matchers []struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual *bool  `json:"isEqual"`
	} `json:"matchers"`
}

// silences lists every silence Alertmanager holds, expired ones included.
func (am *realAlertmanager) silences(t *testing.T) []amSilence {
	t.Helper()
	resp, err := http.Get(am.url + "/api/v2/silences")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out []amSilence
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding Alertmanager's silences: %v", err)
	}
	return out
}

// matchers are the silence's matchers as Alertmanager evaluates them.
func (s amSilence) matchers(t *testing.T) labels.Matchers {
	t.Helper()
	var out labels.Matchers
	for _, m := range s.Matchers {
		equal := m.IsEqual == nil || *m.IsEqual
		typ := map[[2]bool]labels.MatchType{{false, true}: labels.MatchEqual, {false, false}: labels.MatchNotEqual,
			{true, true}: labels.MatchRegexp, {true, false}: labels.MatchNotRegexp}[[2]bool{m.IsRegex, equal}]
		lm, err := labels.NewMatcher(typ, m.Name, m.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lm)
	}
	return out
}

// String is the silence's matchers in Alertmanager's syntax.
func (s amSilence) String() string {
	var parts []string
	for _, m := range s.Matchers {
		negative := m.IsEqual != nil && !*m.IsEqual
		op := "="
		switch {
		case m.IsRegex && negative:
			op = "!~"
		case m.IsRegex:
			op = "=~"
		case negative:
			op = "!="
		}
		parts = append(parts, fmt.Sprintf("%s%s%q", m.Name, op, m.Value))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// fire posts a firing alert with labels, for an hour, as Prometheus would.
// The operator keeps a silence only while its group has firing alerts.
func (am *realAlertmanager) fire(t *testing.T, alert model.LabelSet) {
	t.Helper()
	now := time.Now().UTC()
	body, err := json.Marshal([]map[string]any{{"labels": alert, "startsAt": now, "endsAt": now.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting an alert to Alertmanager: %s", resp.Status)
	}
}

// holding returns the silences whose matchers match an alert with labels.
func (am *realAlertmanager) holding(t *testing.T, alert model.LabelSet) []amSilence {
	t.Helper()
	var out []amSilence
	for _, s := range am.silences(t) {
		if s.matchers(t).Matches(alert) {
			out = append(out, s)
		}
	}
	return out
}

// otherTeamsAlert is an alert of a team that has nothing to do with the
// namespaces these tests make.
var otherTeamsAlert = model.LabelSet{"alertname": "CheckoutLatency", "namespace": "other-team-prod", "team": "other-team", "service": "search"}

// asEditor returns a client for a user who holds, in namespace ns, only
// the shipped incident-editor role (aggregated into edit), as a
// RoleBinding grants it: no system:masters.
func asEditor(t *testing.T, ns, user string) client.Client {
	t.Helper()
	c, err := cluster.AsIncidentEditor(context.Background(), ns, user)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// asOperator is a client with the operator's identity and rights, as the
// receiver writes.
func asOperator(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(cluster.OperatorConfig, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// confinementNamespace makes a namespace whose incidents and windows are
// deleted when the test ends, while am still answers, so that their
// silences are expired and no finalizer waits on a stopped Alertmanager.
func confinementNamespace(t *testing.T) string {
	t.Helper()
	ns := newNamespace(t)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, obj := range []client.Object{&klaxonv1alpha1.Incident{}, &klaxonv1alpha1.MaintenanceWindow{}} {
			if err := k8s.DeleteAllOf(ctx, obj, client.InNamespace(ns)); err != nil {
				t.Errorf("deleting the test's %T: %v", obj, err)
			}
		}
		eventually(t, "the test's incidents and windows to be gone", func(ctx context.Context) (bool, error) {
			incs, mws := &klaxonv1alpha1.IncidentList{}, &klaxonv1alpha1.MaintenanceWindowList{}
			if err := k8s.List(ctx, incs, client.InNamespace(ns)); err != nil {
				return false, err
			}
			if err := k8s.List(ctx, mws, client.InNamespace(ns)); err != nil {
				return false, err
			}
			return len(incs.Items) == 0 && len(mws.Items) == 0, nil
		})
	})
	return ns
}

// clockNotBehind moves the operator's clock up to the wall clock, so the
// silences it posts do not end in the past for a real Alertmanager.
func clockNotBehind() {
	if now := time.Now(); fakeClock.Now().Before(now) {
		fakeClock.SetTime(now)
	}
}

// silencingRoute creates an AlertRoute that silences its groups on
// acknowledge, for a day, in am.
func silencingRoute(t *testing.T, ns string, am *realAlertmanager, matchers ...string) {
	t.Helper()
	route := &klaxonv1alpha1.AlertRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: ns},
		Spec: klaxonv1alpha1.AlertRouteSpec{
			Matchers:       matchers,
			TokenSecretRef: klaxonv1alpha1.SecretKeyReference{Name: "token", Key: "token"},
			Alertmanager: &klaxonv1alpha1.AlertRouteAlertmanager{
				URL: am.url, SilenceOnAcknowledge: ptr.To(true), SilenceFor: &metav1.Duration{Duration: 24 * time.Hour},
			},
		},
	}
	if err := k8s.Create(context.Background(), route); err != nil {
		t.Fatal(err)
	}
}

// A user who may only edit incidents cannot name another team's alert group
// in spec.source and have the operator silence it on acknowledge.
func TestEditorCannotSilenceAnotherTeamsAlerts(t *testing.T) {
	ctx := context.Background()
	clockNotBehind()
	am := startRealAlertmanager(t)
	am.fire(t, otherTeamsAlert)
	ns := confinementNamespace(t)
	silencingRoute(t, ns, am)
	mallory := asEditor(t, ns, "mallory")
	forged := &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}:{namespace="other-team-prod"}`}

	// The API server refuses spec.source from anyone but the operator. It
	// loads the policy in the background, so an incident created before
	// then is deleted and the create tried again.
	var created *klaxonv1alpha1.Incident
	var refusal error
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "forged-", Namespace: ns},
			Spec:       klaxonv1alpha1.IncidentSpec{Title: "Checkout is slow", Source: forged.DeepCopy()},
		}
		if refusal = mallory.Create(ctx, inc); refusal != nil {
			return true, nil //nolint:nilerr // the refusal is what is checked below
		}
		created = inc
		if err := k8s.Delete(ctx, inc); err != nil {
			return false, err
		}
		return false, nil
	})
	if refusal == nil {
		// Show what the finding is: the acknowledge silences the other
		// team's alerts.
		inc := &klaxonv1alpha1.Incident{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "forged-", Namespace: ns},
			Spec:       klaxonv1alpha1.IncidentSpec{Title: "Checkout is slow", Source: forged.DeepCopy()},
		}
		if err := mallory.Create(ctx, inc); err != nil {
			t.Fatal(err)
		}
		waitForPhase(t, inc, T, 1)
		mustSetState(t, mallory, inc, A)
		waitFor(t, inc, "silenced", func(i *klaxonv1alpha1.Incident) bool { return i.Status.Silence != nil && i.Status.Silence.ID != "" })
		t.Fatalf("mallory, holding only incident-editor, created incident %s with spec.source %+v (first at %s) and had it silence %v",
			inc.Name, *forged, created.Name, am.holding(t, otherTeamsAlert))
	}
	if !apierrors.IsForbidden(refusal) || !strings.Contains(refusal.Error(), "spec.source is set only by Klaxon's receiver") ||
		!strings.Contains(refusal.Error(), "mallory may open incidents by hand") {
		t.Errorf("mallory's incident with spec.source was refused with %v; want Forbidden, saying why", refusal)
	}
	if held := am.holding(t, otherTeamsAlert); len(held) > 0 {
		t.Errorf("Alertmanager holds silences of the other team's alert: %v", held)
	}

	// A hand-opened incident cannot gain a source either.
	byHand := createIncident(t, mallory, ns, "by-hand")
	base := byHand.DeepCopy()
	byHand.Spec.Source = forged.DeepCopy()
	if err := mallory.Patch(ctx, byHand, client.MergeFrom(base)); err == nil {
		t.Error("mallory added spec.source to a hand-opened incident")
	}
}

// An alert-driven incident stays the editor's to acknowledge, and its
// silence, posted to a real Alertmanager, holds its group's alerts and no
// one else's; the editor cannot move it to another group.
func TestAcknowledgedGroupSilenceHoldsTheGroupOnly(t *testing.T) {
	ctx := context.Background()
	clockNotBehind()
	am := startRealAlertmanager(t)
	am.fire(t, otherTeamsAlert)
	am.fire(t, model.LabelSet{"alertname": "CheckoutLatency", "team": "payments", "severity": "critical", "pod": "a"})
	ns := confinementNamespace(t)
	silencingRoute(t, ns, am)
	mallory := asEditor(t, ns, "mallory")

	// As the receiver opens it: Alertmanager grouped by alertname under a
	// route for the payments team.
	inc := createIncident(t, asOperator(t), ns, "checkout", func(i *klaxonv1alpha1.Incident) {
		i.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: "payments",
			GroupKey: `{}/{team="payments"}/{severity=~"critical|page"}:{alertname="CheckoutLatency"}`}
	})
	waitForPhase(t, inc, T, 1)

	// Moving it to another group is refused, whether the policy or the
	// CRD's immutability rule says so first.
	cur := &klaxonv1alpha1.Incident{}
	if err := mallory.Get(ctx, client.ObjectKeyFromObject(inc), cur); err != nil {
		t.Fatal(err)
	}
	base := cur.DeepCopy()
	cur.Spec.Source.GroupKey = `{}:{namespace="other-team-prod"}`
	if err := mallory.Patch(ctx, cur, client.MergeFrom(base)); err == nil {
		t.Fatal("mallory changed the alert group of an incident")
	}

	mustSetState(t, mallory, inc, A)
	got := waitFor(t, inc, "silenced", func(i *klaxonv1alpha1.Incident) bool { return i.Status.Silence != nil && i.Status.Silence.ID != "" })
	var silence *amSilence
	for _, s := range am.silences(t) {
		if s.ID == got.Status.Silence.ID {
			silence = &s
		}
	}
	if silence == nil {
		t.Fatalf("Alertmanager has no silence %s", got.Status.Silence.ID)
	}
	if want := `{alertname="CheckoutLatency", team="payments", severity=~"critical|page"}`; silence.String() != want {
		t.Errorf("the silence matches %s, want %s", silence, want)
	}
	ms := silence.matchers(t)
	for alert, want := range map[string]bool{
		`{alertname="CheckoutLatency", team="payments", severity="critical", pod="a"}`: true,
		`{alertname="CheckoutLatency", team="payments", severity="warning"}`:           false,
		`{alertname="CheckoutLatency", team="other-team", severity="critical"}`:        false,
	} {
		set, err := parseLabelSet(alert)
		if err != nil {
			t.Fatal(err)
		}
		if ms.Matches(set) != want {
			t.Errorf("the silence %s matches %s: %v, want %v", silence, alert, !want, want)
		}
	}
	if held := am.holding(t, otherTeamsAlert); len(held) > 0 {
		t.Errorf("Alertmanager holds silences of the other team's alert: %v", held)
	}
}

func parseLabelSet(s string) (model.LabelSet, error) {
	ms, err := labels.ParseMatchers(s)
	if err != nil {
		return nil, err
	}
	set := model.LabelSet{}
	for _, m := range ms {
		set[model.LabelName(m.Name)] = model.LabelValue(m.Value)
	}
	return set, nil
}

// A maintenance window's silence names the alerts it silences with an
// equality and carries its route's matchers; a window that would silence
// by pattern alone is refused, and the editor role cannot write windows.
func TestMaintenanceWindowSilenceIsConfined(t *testing.T) {
	ctx := context.Background()
	clockNotBehind()
	am := startRealAlertmanager(t)
	ns := confinementNamespace(t)
	silencingRoute(t, ns, am, `team="payments"`)
	start := operatorNow().Add(time.Hour)
	window := func(name string, matchers ...string) *klaxonv1alpha1.MaintenanceWindow {
		return &klaxonv1alpha1.MaintenanceWindow{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: klaxonv1alpha1.MaintenanceWindowSpec{
				Services: []klaxonv1alpha1.ServiceName{"search"},
				Start:    &metav1.Time{Time: start}, End: &metav1.Time{Time: start.Add(time.Hour)},
				Reason: "Reindex",
				AlertmanagerSilence: &klaxonv1alpha1.MaintenanceSilence{
					AlertRouteRef: klaxonv1alpha1.LocalObjectReference{Name: "payments"}, Matchers: matchers},
			},
		}
	}
	if err := asEditor(t, ns, "mallory").Create(ctx, window("mallorys", `service="search"`)); !apierrors.IsForbidden(err) {
		t.Errorf("mallory, holding only incident-editor, creating a window: %v, want Forbidden", err)
	}

	// settled waits until the window's silence is posted or refused.
	settled := func(mw *klaxonv1alpha1.MaintenanceWindow) *klaxonv1alpha1.MaintenanceSilenceStatus {
		t.Helper()
		got := &klaxonv1alpha1.MaintenanceWindow{}
		eventually(t, mw.Name+"'s silence to be posted or refused", func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(mw), got)
			return got.Status.Silence != nil && (got.Status.Silence.ID != "" || got.Status.Silence.Error != ""), err
		})
		return got.Status.Silence
	}
	for name, matchers := range map[string][]string{
		"everything":    {`alertname=~".+"`},
		"negative-only": {`env!="dev"`, `alertname=~".+"`},
		"empty-value":   {`service=""`, `alertname=~"Search.*"`},
	} {
		mw := window(name, matchers...)
		if err := k8s.Create(ctx, mw); err != nil {
			t.Fatal(err)
		}
		st := settled(mw)
		if st.ID != "" || !strings.Contains(st.Error, "spec.alertmanagerSilence.matchers: no matcher is an equality with a value") {
			t.Errorf("window %s with matchers %q: silence %q, error %q; want it refused, saying why", name, matchers, st.ID, st.Error)
		}
	}
	if held := am.holding(t, otherTeamsAlert); len(held) > 0 {
		t.Errorf("Alertmanager holds silences of the other team's alert: %v", held)
	}

	mw := window("search", `service="search"`)
	if err := k8s.Create(ctx, mw); err != nil {
		t.Fatal(err)
	}
	st := settled(mw)
	if st.ID == "" {
		t.Fatalf("the window's silence was refused: %s", st.Error)
	}
	var silences []amSilence
	for _, s := range am.silences(t) {
		if strings.Contains(s.Comment, ns+"/search") {
			silences = append(silences, s)
		}
	}
	if len(silences) != 1 || silences[0].ID != st.ID {
		t.Fatalf("Alertmanager holds %v for the window, want silence %s", silences, st.ID)
	}
	if want := `{service="search", team="payments"}`; silences[0].String() != want {
		t.Errorf("the window's silence matches %s, want %s", silences[0], want)
	}
	if held := am.holding(t, otherTeamsAlert); len(held) > 0 {
		t.Errorf("Alertmanager holds silences of the other team's alert: %v", held)
	}
}
