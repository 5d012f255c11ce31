package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/google/go-cmp/cmp"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

const (
	T = klaxonv1alpha1.StateTriggered
	A = klaxonv1alpha1.StateAcknowledged
	M = klaxonv1alpha1.StateMitigated
	R = klaxonv1alpha1.StateResolved
	C = klaxonv1alpha1.StateClosed
)

func createIncident(t *testing.T, c client.Client, ns, name string, mutate ...func(*klaxonv1alpha1.Incident)) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       klaxonv1alpha1.IncidentSpec{Title: "Checkout p99 latency above 2s"},
	}
	for _, m := range mutate {
		m(inc)
	}
	if err := c.Create(context.Background(), inc); err != nil {
		t.Fatalf("creating incident %s: %v", name, err)
	}
	return inc
}

// setState asks for a state as the user behind c.
func setState(c client.Client, inc *klaxonv1alpha1.Incident, state klaxonv1alpha1.IncidentState, mutate ...func(*klaxonv1alpha1.Incident)) error {
	ctx := context.Background()
	if err := c.Get(ctx, client.ObjectKeyFromObject(inc), inc); err != nil {
		return err
	}
	base := inc.DeepCopy()
	inc.Spec.State = state
	for _, m := range mutate {
		m(inc)
	}
	return c.Patch(ctx, inc, client.MergeFrom(base))
}

func mustSetState(t *testing.T, c client.Client, inc *klaxonv1alpha1.Incident, state klaxonv1alpha1.IncidentState, mutate ...func(*klaxonv1alpha1.Incident)) {
	t.Helper()
	if err := setState(c, inc, state, mutate...); err != nil {
		t.Fatalf("moving %s to %s: %v", inc.Name, state, err)
	}
}

// waitForPhase waits until the operator has accepted phase for the episode.
func waitForPhase(t *testing.T, inc *klaxonv1alpha1.Incident, phase klaxonv1alpha1.IncidentState, episode int32) *klaxonv1alpha1.Incident {
	t.Helper()
	got := &klaxonv1alpha1.Incident{}
	eventually(t, fmt.Sprintf("%s to reach phase %s (episode %d)", inc.Name, phase, episode), func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(inc), got); err != nil {
			return false, err
		}
		return got.Status.Phase == phase && got.Status.Episode == episode && got.Status.ObservedGeneration == got.Generation, nil
	})
	return got
}

func withPostmortem(inc *klaxonv1alpha1.Incident) {
	inc.Spec.Postmortem = &klaxonv1alpha1.Postmortem{URL: "https://wiki.example.com/pm/123"}
}

func TestIncidentAllowedMovesAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	paths := map[string][]klaxonv1alpha1.IncidentState{
		"full lifecycle":           {A, M, R, C},
		"skip to mitigated":        {M, C},
		"self-resolving alert":     {R, C},
		"close at once":            {C},
		"acknowledged to resolved": {A, R},
		"acknowledged to closed":   {A, C},
		"mitigated reopens":        {M, T},
		"resolved reopens":         {R, T},
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inc := createIncident(t, k8s, ns, strings.ReplaceAll(name, " ", "-"))
			waitForPhase(t, inc, T, 1)
			episode := int32(1)
			for _, to := range path {
				mustSetState(t, k8s, inc, to)
				if to == T {
					episode++
				}
				got := waitForPhase(t, inc, to, episode)
				stamp := map[klaxonv1alpha1.IncidentState]*metav1.Time{
					T: got.Status.TriggeredAt, A: got.Status.AcknowledgedAt, M: got.Status.MitigatedAt,
					R: got.Status.ResolvedAt, C: got.Status.ClosedAt,
				}[to]
				if stamp == nil {
					t.Errorf("phase %s reached without its timestamp: %+v", to, got.Status)
				}
				if last := got.Status.Timeline[len(got.Status.Timeline)-1]; !strings.HasPrefix(last.Message, "Incident ") {
					t.Errorf("last timeline entry = %+v", last)
				}
			}
		})
	}
}

func TestIncidentForbiddenMovesAreRejectedByTheAPIServer(t *testing.T) {
	ns := newNamespace(t)
	cases := map[string]struct {
		path []klaxonv1alpha1.IncidentState // how to get to the start state
		to   klaxonv1alpha1.IncidentState
	}{
		"Acknowledged->Triggered": {[]klaxonv1alpha1.IncidentState{A}, T},
		"Mitigated->Acknowledged": {[]klaxonv1alpha1.IncidentState{M}, A},
		"Resolved->Acknowledged":  {[]klaxonv1alpha1.IncidentState{R}, A},
		"Resolved->Mitigated":     {[]klaxonv1alpha1.IncidentState{R}, M},
		"Closed->Triggered":       {[]klaxonv1alpha1.IncidentState{C}, T},
		"Closed->Acknowledged":    {[]klaxonv1alpha1.IncidentState{C}, A},
		"Closed->Mitigated":       {[]klaxonv1alpha1.IncidentState{C}, M},
		"Closed->Resolved":        {[]klaxonv1alpha1.IncidentState{C}, R},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inc := createIncident(t, k8s, ns, strings.ToLower(strings.ReplaceAll(name, "->", "-to-")))
			for _, s := range tc.path {
				mustSetState(t, k8s, inc, s)
			}
			from := tc.path[len(tc.path)-1]
			err := setState(k8s, inc, tc.to)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("moving %s to %s: got %v, want Invalid", from, tc.to, err)
			}
			want := fmt.Sprintf("cannot move incident from %s to %s", from, tc.to)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

func TestClosingSevereIncidentNeedsPostmortem(t *testing.T) {
	ns := newNamespace(t)
	for _, sev := range []klaxonv1alpha1.Severity{klaxonv1alpha1.SeverityCritical, klaxonv1alpha1.SeverityHigh} {
		inc := createIncident(t, k8s, ns, strings.ToLower(string(sev)), func(i *klaxonv1alpha1.Incident) { i.Spec.Severity = sev })
		mustSetState(t, k8s, inc, R)
		got := waitForPhase(t, inc, R, 1)
		if !meta.IsStatusConditionTrue(got.Status.Conditions, klaxonv1alpha1.ConditionPostmortemPending) {
			t.Errorf("%s resolved without postmortem: PostmortemPending not True: %+v", sev, got.Status.Conditions)
		}
		err := setState(k8s, inc, C)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "closing a "+string(sev)+" incident needs spec.postmortem.url") {
			t.Fatalf("closing %s without postmortem: got %v, want Invalid naming spec.postmortem.url", sev, err)
		}
		mustSetState(t, k8s, inc, C, withPostmortem)
		got = waitForPhase(t, inc, C, 1)
		if c := meta.FindStatusCondition(got.Status.Conditions, klaxonv1alpha1.ConditionPostmortemPending); c == nil || c.Status != metav1.ConditionFalse {
			t.Errorf("PostmortemPending after linking = %+v, want False", c)
		}
	}
	// Nor can one be created closed without it.
	err := k8s.Create(context.Background(), &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{Name: "born-closed", Namespace: ns},
		Spec:       klaxonv1alpha1.IncidentSpec{Title: "x", Severity: klaxonv1alpha1.SeverityHigh, State: C},
	})
	if !apierrors.IsInvalid(err) {
		t.Errorf("creating a closed SEV2 without postmortem: got %v, want Invalid", err)
	}
	// SEV3 closes without one.
	low := createIncident(t, k8s, ns, "sev3")
	mustSetState(t, k8s, low, C)
	waitForPhase(t, low, C, 1)
}

func TestUpdatesAreAppendOnly(t *testing.T) {
	ns := newNamespace(t)
	first := klaxonv1alpha1.StakeholderUpdate{Time: metav1.NewTime(time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)), Author: "alice", Message: "Rolled back release 1234, monitoring."}
	inc := createIncident(t, k8s, ns, "updates", func(i *klaxonv1alpha1.Incident) {
		i.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{first}
	})
	appendUpdate := func(i *klaxonv1alpha1.Incident) {
		i.Spec.Updates = append(i.Spec.Updates, klaxonv1alpha1.StakeholderUpdate{Time: metav1.NewTime(first.Time.Add(time.Hour)), Author: "bob", Message: "Error rate back to normal."})
	}
	mustSetState(t, k8s, inc, T, appendUpdate)

	cases := map[string]func(*klaxonv1alpha1.Incident){
		"edit message": func(i *klaxonv1alpha1.Incident) { i.Spec.Updates[0].Message = "Nothing happened." },
		"edit time":    func(i *klaxonv1alpha1.Incident) { i.Spec.Updates[1].Time = metav1.NewTime(first.Time.Add(time.Minute)) },
		"remove first": func(i *klaxonv1alpha1.Incident) { i.Spec.Updates = i.Spec.Updates[1:] },
		"remove all":   func(i *klaxonv1alpha1.Incident) { i.Spec.Updates = nil },
		"insert before": func(i *klaxonv1alpha1.Incident) {
			i.Spec.Updates = append([]klaxonv1alpha1.StakeholderUpdate{first}, i.Spec.Updates...)
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			err := setState(k8s, inc, T, mutate)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.updates is append-only") {
				t.Errorf("got %v, want Invalid saying spec.updates is append-only", err)
			}
		})
	}
	got := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Updates) != 2 || got.Spec.Updates[0].Message != first.Message {
		t.Errorf("updates changed by rejected writes: %+v", got.Spec.Updates)
	}
}

func TestSourceIsImmutable(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "from-alert", func(i *klaxonv1alpha1.Incident) {
		i.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}:{alertname="X"}`}
	})
	for name, mutate := range map[string]func(*klaxonv1alpha1.Incident){
		"change": func(i *klaxonv1alpha1.Incident) { i.Spec.Source.GroupKey = "other" },
		"remove": func(i *klaxonv1alpha1.Incident) { i.Spec.Source = nil },
	} {
		if err := setState(k8s, inc, T, mutate); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.source is immutable") {
			t.Errorf("%s source: got %v, want Invalid saying spec.source is immutable", name, err)
		}
	}
	manual := createIncident(t, k8s, ns, "by-hand")
	add := func(i *klaxonv1alpha1.Incident) {
		i.Spec.Source = &klaxonv1alpha1.IncidentSource{AlertRoute: "r", GroupKey: "g"}
	}
	if err := setState(k8s, manual, T, add); !apierrors.IsInvalid(err) {
		t.Errorf("adding a source: got %v, want Invalid", err)
	}
}

func TestReopenStartsNewEpisode(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "flapping")
	mustSetState(t, k8s, inc, A)
	waitForPhase(t, inc, A, 1)
	mustSetState(t, k8s, inc, R)
	first := waitForPhase(t, inc, R, 1)

	fakeClock.Step(time.Minute)
	mustSetState(t, k8s, inc, T)
	got := waitForPhase(t, inc, T, 2)
	st := got.Status
	if st.AcknowledgedAt != nil || st.AcknowledgedBy != "" || st.ResolvedAt != nil {
		t.Errorf("new episode kept the old episode's timestamps: %+v", st)
	}
	if !st.TriggeredAt.After(first.Status.TriggeredAt.Time) {
		t.Errorf("triggeredAt %v not after the first episode's %v", st.TriggeredAt, first.Status.TriggeredAt)
	}
	var types []string
	for _, e := range st.Timeline {
		types = append(types, e.Type)
	}
	if got, want := strings.Join(types, ","), "Triggered,Acknowledged,Resolved,Reopened"; got != want {
		t.Errorf("timeline = %s, want %s", got, want)
	}
	if c := meta.FindStatusCondition(st.Conditions, klaxonv1alpha1.ConditionResolved); c == nil || c.Status != metav1.ConditionFalse || c.Reason != klaxonv1alpha1.ReasonReopened {
		t.Errorf("Resolved condition after reopen = %+v", c)
	}
}

func TestMovesAreAttributedToTheAuthenticatedUser(t *testing.T) {
	ns := newNamespace(t)
	alice, err := cluster.Impersonate("alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := cluster.Impersonate("bob")
	if err != nil {
		t.Fatal(err)
	}
	forge := func(name string) func(*klaxonv1alpha1.Incident) {
		return func(i *klaxonv1alpha1.Incident) {
			if i.Annotations == nil {
				i.Annotations = map[string]string{}
			}
			i.Annotations[klaxonv1alpha1.ActorAnnotation] = name
		}
	}
	inc := createIncident(t, alice, ns, "attributed", forge("mallory"))
	if got := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; got != "alice" {
		t.Fatalf("creator annotation = %q, want alice", got)
	}
	waitForPhase(t, inc, T, 1)

	// Bob acknowledges and writes Alice's name into the annotation.
	mustSetState(t, bob, inc, A, forge("alice"))
	got := waitForPhase(t, inc, A, 1)
	if got.Status.AcknowledgedBy != "bob" {
		t.Errorf("acknowledgedBy = %q, want bob", got.Status.AcknowledgedBy)
	}
	// Alice resolves and names Bob.
	mustSetState(t, alice, inc, R, forge("bob"))
	got = waitForPhase(t, inc, R, 1)
	var actors []string
	for _, e := range got.Status.Timeline {
		actors = append(actors, e.Type+"="+e.Actor)
	}
	if got, want := strings.Join(actors, ","), "Triggered=alice,Acknowledged=bob,Resolved=alice"; got != want {
		t.Errorf("timeline actors = %s, want %s", got, want)
	}
	// Forging the annotation alone is stamped over too.
	if err = setState(bob, inc, R, forge("mallory")); err != nil {
		t.Fatal(err)
	}
	if a := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; a != "bob" {
		t.Errorf("annotation after forging = %q, want bob", a)
	}
	// The operator's own identity keeps the actor it sets.
	op, err := client.New(cluster.OperatorConfig, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	mustSetState(t, op, inc, T, forge(klaxonv1alpha1.ActorAlertmanager))
	if a := inc.Annotations[klaxonv1alpha1.ActorAnnotation]; a != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("operator's annotation = %q, want %s", a, klaxonv1alpha1.ActorAlertmanager)
	}
	got = waitForPhase(t, inc, T, 2)
	if last := got.Status.Timeline[len(got.Status.Timeline)-1]; last.Actor != klaxonv1alpha1.ActorAlertmanager {
		t.Errorf("reopen actor = %q, want alertmanager", last.Actor)
	}
}

// incidentEvents lists the events.k8s.io Events about an incident.
func incidentEvents(ctx context.Context, inc *klaxonv1alpha1.Incident) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(inc.Namespace)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.UID == inc.UID {
			out = append(out, e)
		}
	}
	return out, nil
}

func TestOneEventPerTransition(t *testing.T) {
	ns := newNamespace(t)
	inc := createIncident(t, k8s, ns, "eventful", func(i *klaxonv1alpha1.Incident) { i.Spec.Severity = klaxonv1alpha1.SeverityLow })
	waitForPhase(t, inc, T, 1)
	for _, s := range []klaxonv1alpha1.IncidentState{A, M, R} {
		mustSetState(t, k8s, inc, s)
		waitForPhase(t, inc, s, 1)
	}
	// Edits that are not moves must not record Events.
	mustSetState(t, k8s, inc, R, func(i *klaxonv1alpha1.Incident) { i.Spec.Impact = "5% of EU checkouts fail" })
	mustSetState(t, k8s, inc, T)
	waitForPhase(t, inc, T, 2)
	mustSetState(t, k8s, inc, C)
	waitForPhase(t, inc, C, 2)

	want := map[string]int{"Triggered": 1, "Acknowledged": 1, "Mitigated": 1, "Resolved": 1, "Reopened": 1, "Closed": 1}
	count := func(ctx context.Context) (map[string]int, error) {
		evs, err := incidentEvents(ctx, inc)
		if err != nil {
			return nil, err
		}
		got := map[string]int{}
		for _, e := range evs {
			n := 1
			if e.Series != nil {
				n = int(e.Series.Count)
			}
			got[e.Reason] += n
		}
		return got, nil
	}
	eventually(t, "one Event per transition", func(ctx context.Context) (bool, error) {
		got, err := count(ctx)
		return fmt.Sprint(got) == fmt.Sprint(want), err
	})
	// And no more arrive later.
	time.Sleep(2 * time.Second)
	got, err := count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events (-want +got):\n%s", cmp.Diff(want, got))
	}
}
