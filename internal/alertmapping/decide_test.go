package alertmapping

import (
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// incident is a stored incident of the test group in state (spec and
// status agree) whose status.alerts summarise shown.
func incident(state klaxonv1alpha1.IncidentState, shown *Message, mods ...func(*klaxonv1alpha1.Incident)) *klaxonv1alpha1.Incident {
	inc := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{
			Name:        IncidentName("payments-critical", testGroupKey, 1),
			Namespace:   "payments",
			Annotations: map[string]string{klaxonv1alpha1.AnnotationGroupSerial: "1"},
		},
		Spec: klaxonv1alpha1.IncidentSpec{
			Title:  "CheckoutLatency",
			State:  state,
			Source: &klaxonv1alpha1.IncidentSource{AlertRoute: "payments-critical", GroupKey: testGroupKey},
		},
		Status: klaxonv1alpha1.IncidentStatus{Phase: state},
	}
	if shown != nil {
		s := Summarise(shown)
		inc.Status.Alerts = &s
	}
	for _, m := range mods {
		m(inc)
	}
	return inc
}

func resolvedAgo(d time.Duration) func(*klaxonv1alpha1.Incident) {
	return func(inc *klaxonv1alpha1.Incident) {
		at := metav1.NewTime(t0.Add(time.Hour - d))
		inc.Status.ResolvedAt = &at
	}
}

// serial makes inc the n-th incident of its group: the name says so (the
// annotation only tells people).
func serial(n int) func(*klaxonv1alpha1.Incident) {
	return func(inc *klaxonv1alpha1.Incident) {
		inc.Name = IncidentName(inc.Spec.Source.AlertRoute, inc.Spec.Source.GroupKey, int32(n))
		inc.Annotations[klaxonv1alpha1.AnnotationGroupSerial] = strconv.Itoa(n)
	}
}

func TestDecide(t *testing.T) {
	now := t0.Add(time.Hour)
	firing := message(firingAlert("a", t0))
	firingReordered := message(firingAlert("a", t0))
	firingReordered.Alerts[0].EndsAt = now.Add(4 * time.Minute) // a fresh expected end
	firingMore := message(firingAlert("a", t0), firingAlert("b", t0.Add(minutes(1))))
	resolved := message(resolvedAlert("a", t0, t0.Add(minutes(10))))
	refired := message(firingAlert("a", t0.Add(minutes(50))))
	unmatched := message(firingAlert("a", t0))
	unmatched.CommonLabels["severity"] = "info"
	unmatchedResolved := message(resolvedAlert("a", t0, t0.Add(minutes(10))))
	unmatchedResolved.CommonLabels["severity"] = "info"
	unmatchedRefired := message(firingAlert("a", t0.Add(minutes(50))))
	unmatchedRefired.CommonLabels["severity"] = "info"
	truncatedResolved := message(resolvedAlert("a", t0, t0.Add(minutes(10))))
	truncatedResolved.TruncatedAlerts = 3
	// A firing group whose visible alerts all resolved: the firing ones were
	// truncated away. Only the group status tells.
	firingHidden := message(resolvedAlert("a", t0, t0.Add(minutes(10))))
	firingHidden.Status = StatusFiring
	firingHidden.TruncatedAlerts = 2

	// Firing alerts judged against what an incident stored.
	firingAB := message(firingAlert("a", t0), firingAlert("b", t0))
	oneResolvedSince := message(resolvedAlert("a", t0, t0.Add(minutes(10))), firingAlert("b", t0))
	firingChanged := message(firingAlert("a", t0), resolvedAlert("c", t0, t0.Add(minutes(5))))
	newAlert := message(firingAlert("b", t0.Add(minutes(50))))
	staleAndNew := message(firingAlert("a", t0), firingAlert("b", t0.Add(minutes(50))))
	// 60 alerts resolved: the stored list keeps the 50 newest, started
	// t0+10m to t0+59m.
	var sixty []Alert
	for i := range 60 {
		sixty = append(sixty, resolvedAlert(fp(i), t0.Add(minutes(i)), t0.Add(minutes(60))))
	}
	resolvedSixty := message(sixty...)
	cutAlertFiring := message(firingAlert(fp(5), t0.Add(minutes(5))))
	unknownAtOldest := message(firingAlert("z", t0.Add(minutes(10))))
	unknownAfterOldest := message(firingAlert("z", t0.Add(minutes(11))))
	// Started before (t0+20m) and after (t0+55m) the resolution at t0+50m.
	unknownBeforeResolution := message(firingAlert("z", t0.Add(minutes(20))))
	unknownAfterResolution := message(firingAlert("z", t0.Add(minutes(55))))

	noAutoResolve := paymentsSpec()
	noAutoResolve.AutoResolve = ptr.To(false)
	noReopen := paymentsSpec()
	noReopen.ReopenWindow = &metav1.Duration{}

	tests := map[string]struct {
		spec     *klaxonv1alpha1.AlertRouteSpec
		existing *klaxonv1alpha1.Incident
		msg      *Message
		want     Action
		// wantSerial is checked for ActionCreate.
		wantSerial int32
		// wantAlerts says whether status.alerts is to be written.
		wantAlerts bool
	}{
		"firing group without incident opens one": {
			msg: firing, want: ActionCreate, wantSerial: 1, wantAlerts: true,
		},
		"resolved group without incident does nothing": {
			msg: resolved, want: ActionNothing,
		},
		"unmatched group without incident does nothing": {
			msg: unmatched, want: ActionNothing,
		},
		"repeat with nothing new writes nothing": {
			existing: incident(klaxonv1alpha1.StateTriggered, firing), msg: firing, want: ActionNothing,
		},
		"repeat with a new expected end writes nothing": {
			existing: incident(klaxonv1alpha1.StateAcknowledged, firing), msg: firingReordered, want: ActionNothing,
		},
		"a new alert in the group updates alerts only": {
			existing: incident(klaxonv1alpha1.StateAcknowledged, firing), msg: firingMore, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"group resolved resolves the incident": {
			existing: incident(klaxonv1alpha1.StateAcknowledged, firing), msg: resolved, want: ActionResolve, wantAlerts: true,
		},
		"unset state counts as Triggered": {
			existing: incident("", firing), msg: resolved, want: ActionResolve, wantAlerts: true,
		},
		"resolution is judged by the group status, even truncated": {
			existing: incident(klaxonv1alpha1.StateTriggered, firing), msg: truncatedResolved, want: ActionResolve, wantAlerts: true,
		},
		"visible alerts all resolved but the group fires: no resolve": {
			existing: incident(klaxonv1alpha1.StateTriggered, firing), msg: firingHidden, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"without autoResolve a resolved group updates alerts only": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateTriggered, firing), msg: resolved, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"an incident the route opened resolves even if matchers changed": {
			existing: incident(klaxonv1alpha1.StateTriggered, unmatched), msg: unmatchedResolved, want: ActionResolve, wantAlerts: true,
		},
		"resolve already asked for, operator not caught up: nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, func(i *klaxonv1alpha1.Incident) { i.Status.Phase = klaxonv1alpha1.StateTriggered }),
			msg:      resolved, want: ActionNothing,
		},
		"duplicate resolved notification: nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(time.Minute)), msg: resolved, want: ActionNothing,
		},
		"firing again within the reopen window reopens": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(10*time.Minute)), msg: refired, want: ActionReopen, wantAlerts: true,
		},
		"firing again exactly at the window's end reopens": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(30*time.Minute)), msg: refired, want: ActionReopen, wantAlerts: true,
		},
		"firing again before the operator stamped resolvedAt reopens": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved), msg: refired, want: ActionReopen, wantAlerts: true,
		},
		"resolvedAt in the future (clock skew) reopens": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(-5*time.Minute)), msg: refired, want: ActionReopen, wantAlerts: true,
		},
		"firing again after the reopen window opens a new incident": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(31*time.Minute)), msg: refired, want: ActionCreate, wantSerial: 2, wantAlerts: true,
		},
		"the new incident takes the next serial": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(2*time.Hour), serial(4)), msg: refired, want: ActionCreate, wantSerial: 5, wantAlerts: true,
		},
		"a zero reopen window never reopens": {
			spec: &noReopen, existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(time.Second)), msg: refired, want: ActionCreate, wantSerial: 2, wantAlerts: true,
		},
		"unmatched group does not reopen, alerts still update": {
			existing: incident(klaxonv1alpha1.StateResolved, unmatchedResolved, resolvedAgo(time.Minute)), msg: unmatchedRefired, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"unmatched group after the window opens nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, unmatchedResolved, resolvedAgo(time.Hour)), msg: unmatchedRefired, want: ActionNothing,
		},
		"closed incident: firing opens a new one": {
			existing: incident(klaxonv1alpha1.StateClosed, resolved, resolvedAgo(time.Minute)), msg: refired, want: ActionCreate, wantSerial: 2, wantAlerts: true,
		},
		"closing asked for but not accepted yet still counts as closed": {
			existing: incident(klaxonv1alpha1.StateClosed, resolved, func(i *klaxonv1alpha1.Incident) { i.Status.Phase = klaxonv1alpha1.StateResolved }),
			msg:      refired, want: ActionCreate, wantSerial: 2, wantAlerts: true,
		},
		"closed incident: resolved changes nothing": {
			existing: incident(klaxonv1alpha1.StateClosed, firing), msg: resolved, want: ActionNothing,
		},
		"mitigated: repeats while firing do not reopen": {
			existing: incident(klaxonv1alpha1.StateMitigated, firing), msg: firing, want: ActionNothing,
		},
		"mitigated: new alerts while firing update alerts only": {
			existing: incident(klaxonv1alpha1.StateMitigated, firing), msg: firingMore, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"mitigated: group resolved resolves": {
			existing: incident(klaxonv1alpha1.StateMitigated, firing), msg: resolved, want: ActionResolve, wantAlerts: true,
		},
		"mitigated without autoResolve: group resolved updates alerts": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateMitigated, firing), msg: resolved, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"mitigated: firing after the group resolved reopens": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateMitigated, resolved), msg: refired, want: ActionReopen, wantAlerts: true,
		},
		"mitigated: firing with no visible firing alert does not reopen": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateMitigated, resolved), msg: firingHidden, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"mitigated: a truncated resolved summary proves nothing": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateMitigated, truncatedResolved), msg: refired, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"mitigated: an older firing notification after the group resolved changes nothing": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateMitigated, resolved), msg: firing, want: ActionNothing,
		},

		// Resolved or closed by hand while the alert still fires.
		"resolved by hand while firing: a repeat does not reopen": {
			existing: incident(klaxonv1alpha1.StateResolved, firing, resolvedAgo(10*time.Minute)), msg: firing, want: ActionNothing,
		},
		"resolved by hand while firing: a repeat after the window opens nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, firing, resolvedAgo(2*time.Hour)), msg: firing, want: ActionNothing,
		},
		"resolved by hand while firing: changed alerts are kept current": {
			existing: incident(klaxonv1alpha1.StateResolved, firing, resolvedAgo(10*time.Minute)), msg: firingChanged, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"resolved by hand while firing: the alert firing anew reopens": {
			existing: incident(klaxonv1alpha1.StateResolved, firing, resolvedAgo(10*time.Minute)), msg: refired, want: ActionReopen, wantAlerts: true,
		},
		"resolved: a new alert reopens": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(10*time.Minute)), msg: newAlert, want: ActionReopen, wantAlerts: true,
		},
		"resolved: a firing group without a visible firing alert does not reopen": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(time.Minute)), msg: firingHidden, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"closed while firing: a repeat opens nothing": {
			existing: incident(klaxonv1alpha1.StateClosed, firing, resolvedAgo(time.Minute)), msg: firing, want: ActionNothing,
		},
		"closed while firing: the alert firing anew opens a new incident": {
			existing: incident(klaxonv1alpha1.StateClosed, firing, resolvedAgo(time.Minute)), msg: refired, want: ActionCreate, wantSerial: 2, wantAlerts: true,
		},

		// Out of order: a firing notification older than what is stored.
		"older firing notification after the resolution: nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(time.Minute)), msg: firing, want: ActionNothing,
		},
		"older firing notification past the window: nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(2*time.Hour)), msg: firing, want: ActionNothing,
		},
		"older firing notification after a closing: nothing": {
			existing: incident(klaxonv1alpha1.StateClosed, resolved, resolvedAgo(time.Minute)), msg: firing, want: ActionNothing,
		},
		"older firing notification without autoResolve: nothing": {
			spec: &noAutoResolve, existing: incident(klaxonv1alpha1.StateTriggered, resolved), msg: firing, want: ActionNothing,
		},
		"older notification with one alert resolved since: nothing": {
			existing: incident(klaxonv1alpha1.StateAcknowledged, oneResolvedSince), msg: firingAB, want: ActionNothing,
		},
		"an older alert beside a new one: the new one counts": {
			existing: incident(klaxonv1alpha1.StateResolved, resolved, resolvedAgo(10*time.Minute)), msg: staleAndNew, want: ActionReopen, wantAlerts: true,
		},

		// Stored lists that miss alerts.
		"an alert cut from a full stored list is not new": {
			existing: incident(klaxonv1alpha1.StateResolved, resolvedSixty, resolvedAgo(10*time.Minute)), msg: cutAlertFiring, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"an unknown alert no newer than the oldest stored is not new": {
			existing: incident(klaxonv1alpha1.StateResolved, resolvedSixty, resolvedAgo(10*time.Minute)), msg: unknownAtOldest, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"an unknown alert newer than the oldest stored is new": {
			existing: incident(klaxonv1alpha1.StateResolved, resolvedSixty, resolvedAgo(10*time.Minute)), msg: unknownAfterOldest, want: ActionReopen, wantAlerts: true,
		},
		"truncated stored alerts: an unknown alert proves nothing": {
			existing: incident(klaxonv1alpha1.StateResolved, truncatedResolved, resolvedAgo(10*time.Minute)), msg: unknownBeforeResolution, want: ActionUpdateAlerts, wantAlerts: true,
		},
		"truncated stored alerts: an alert that started after the resolution is new": {
			existing: incident(klaxonv1alpha1.StateResolved, truncatedResolved, resolvedAgo(10*time.Minute)), msg: unknownAfterResolution, want: ActionReopen, wantAlerts: true,
		},
		"no stored alerts: every alert is new": {
			existing: incident(klaxonv1alpha1.StateResolved, nil, resolvedAgo(10*time.Minute)), msg: firing, want: ActionReopen, wantAlerts: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := paymentsSpec()
			if tc.spec != nil {
				spec = *tc.spec
			}
			route := mustCompile(t, spec)
			existing := tc.existing
			if existing != nil {
				existing = storedIncident(t, existing)
			}
			d := Decide(route, existing, tc.msg, now)
			if d.Action != tc.want {
				t.Fatalf("Action = %s (%s), want %s", d.Action, d.Message, tc.want)
			}
			if d.Message == "" {
				t.Error("decision has no message")
			}
			if tc.want == ActionCreate && d.Serial != tc.wantSerial {
				t.Errorf("Serial = %d, want %d", d.Serial, tc.wantSerial)
			}
			if (d.Alerts != nil) != tc.wantAlerts {
				t.Errorf("Alerts = %+v, want written: %v", d.Alerts, tc.wantAlerts)
			}
			if d.Alerts != nil && !sameSummary(d.Alerts, Summarise(tc.msg)) {
				t.Errorf("Alerts = %+v, want the notification's summary", d.Alerts)
			}
			wantState := map[Action]klaxonv1alpha1.IncidentState{
				ActionResolve: klaxonv1alpha1.StateResolved,
				ActionReopen:  klaxonv1alpha1.StateTriggered,
			}[tc.want]
			if d.State != wantState {
				t.Errorf("State = %q, want %q", d.State, wantState)
			}
		})
	}
}

func TestDecisionApply(t *testing.T) {
	firing := message(firingAlert("a", t0))
	summary := Summarise(firing)
	tests := map[string]struct {
		decision   Decision
		inc        *klaxonv1alpha1.Incident
		wantSpec   bool
		wantStatus bool
	}{
		"nothing changes nothing": {
			decision: Decision{Action: ActionNothing},
			inc:      incident(klaxonv1alpha1.StateTriggered, firing),
		},
		"resolve sets state and actor": {
			decision: Decision{Action: ActionResolve, State: klaxonv1alpha1.StateResolved},
			inc:      incident(klaxonv1alpha1.StateTriggered, firing, func(i *klaxonv1alpha1.Incident) { i.Annotations[klaxonv1alpha1.ActorAnnotation] = "alice" }),
			wantSpec: true,
		},
		"state already set: no spec write": {
			decision: Decision{Action: ActionReopen, State: klaxonv1alpha1.StateTriggered},
			inc:      incident(klaxonv1alpha1.StateTriggered, firing),
		},
		"alerts differ": {
			decision:   Decision{Action: ActionUpdateAlerts, Alerts: &summary},
			inc:        incident(klaxonv1alpha1.StateTriggered, nil, func(i *klaxonv1alpha1.Incident) { i.Annotations = nil }),
			wantStatus: true,
		},
		"alerts equal: no status write": {
			decision: Decision{Action: ActionUpdateAlerts, Alerts: &summary},
			inc:      incident(klaxonv1alpha1.StateTriggered, firing),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			inc := storedIncident(t, tc.inc)
			if got := tc.decision.ApplySpec(inc); got != tc.wantSpec {
				t.Errorf("ApplySpec = %v, want %v", got, tc.wantSpec)
			}
			if tc.wantSpec && (inc.Spec.State != tc.decision.State || inc.Annotations[klaxonv1alpha1.ActorAnnotation] != klaxonv1alpha1.ActorAlertmanager) {
				t.Errorf("spec.state %s, actor %q", inc.Spec.State, inc.Annotations[klaxonv1alpha1.ActorAnnotation])
			}
			if got := tc.decision.ApplyStatus(inc); got != tc.wantStatus {
				t.Errorf("ApplyStatus = %v, want %v", got, tc.wantStatus)
			}
			if tc.wantStatus && !sameSummary(inc.Status.Alerts, *tc.decision.Alerts) {
				t.Errorf("status.alerts = %+v", inc.Status.Alerts)
			}
		})
	}
}

// receiver plays the receiver and the operator against one namespace's
// incidents, the way they will run for real: LatestIncident, Decide,
// NewIncident or Apply, everything stored through JSON.
type receiver struct {
	t         *testing.T
	route     *Route
	incidents []klaxonv1alpha1.Incident
	writes    int
}

func (r *receiver) deliver(msg *Message, now time.Time) Decision {
	r.t.Helper()
	latest := LatestIncident(r.incidents, "payments-critical", msg.GroupKey)
	d := Decide(r.route, latest, msg, now)
	switch d.Action {
	case ActionCreate:
		inc, err := NewIncident(r.route, "payments-critical", "payments", d.Serial, msg)
		if err != nil {
			r.t.Fatalf("NewIncident: %v", err)
		}
		for _, other := range r.incidents {
			if other.Name == inc.Name {
				r.t.Fatalf("create %s: AlreadyExists", inc.Name)
			}
		}
		inc.CreationTimestamp = metav1.NewTime(now)
		d.ApplyStatus(inc)
		r.incidents = append(r.incidents, *storedIncident(r.t, inc))
		r.writes += 2
	case ActionNothing:
	default:
		if d.ApplySpec(latest) {
			r.writes++
		}
		if d.ApplyStatus(latest) {
			r.writes++
		}
		*latest = *storedIncident(r.t, latest)
	}
	return d
}

// accept plays the operator: status.phase follows spec.state.
func (r *receiver) accept(now time.Time) {
	for i := range r.incidents {
		inc := &r.incidents[i]
		if inc.Status.Phase == inc.Spec.State {
			continue
		}
		at := metav1.NewTime(now)
		switch inc.Spec.State {
		case klaxonv1alpha1.StateResolved:
			inc.Status.ResolvedAt = &at
		case klaxonv1alpha1.StateTriggered:
			inc.Status.ResolvedAt = nil
		}
		inc.Status.Phase = inc.Spec.State
	}
}

func TestDecideStory(t *testing.T) {
	r := &receiver{t: t, route: mustCompile(t, paymentsSpec())}
	step := func(msg *Message, at time.Time, want Action) {
		t.Helper()
		if d := r.deliver(msg, at); d.Action != want {
			t.Fatalf("at %s: %s (%s), want %s", at.Sub(t0), d.Action, d.Message, want)
		}
	}

	firing := message(firingAlert("a", t0))
	step(firing, t0, ActionCreate)
	// The HA peer delivers the same notification: one incident.
	step(firing, t0, ActionNothing)
	// Repeat interval: same alerts, fresh expected ends, sent reordered.
	repeat := message(firingAlert("a", t0))
	repeat.Alerts[0].EndsAt = t0.Add(5 * time.Hour)
	step(repeat, t0.Add(4*time.Hour), ActionNothing)
	r.accept(t0.Add(4 * time.Hour))

	resolved := message(resolvedAlert("a", t0, t0.Add(5*time.Hour)))
	step(resolved, t0.Add(5*time.Hour), ActionResolve)
	step(resolved, t0.Add(5*time.Hour), ActionNothing)
	r.accept(t0.Add(5 * time.Hour))

	refired := message(firingAlert("a", t0.Add(5*time.Hour+10*time.Minute)))
	step(refired, t0.Add(5*time.Hour+10*time.Minute), ActionReopen)
	step(refired, t0.Add(5*time.Hour+10*time.Minute), ActionNothing)
	r.accept(t0.Add(5*time.Hour + 10*time.Minute))

	step(resolved, t0.Add(6*time.Hour), ActionResolve)
	r.accept(t0.Add(6 * time.Hour))
	// People close it; the group fires again: a second incident.
	r.incidents[0].Spec.State = klaxonv1alpha1.StateClosed
	r.accept(t0.Add(7 * time.Hour))
	step(refired, t0.Add(8*time.Hour), ActionCreate)
	step(refired, t0.Add(8*time.Hour), ActionNothing)

	if len(r.incidents) != 2 {
		t.Fatalf("%d incidents, want 2", len(r.incidents))
	}
	if got, want := r.incidents[1].Name, IncidentName("payments-critical", testGroupKey, 2); got != want {
		t.Errorf("second incident is %s, want %s", got, want)
	}
	// 2 creates x 2 writes, 2 resolves x 2, 1 reopen x 2.
	if r.writes != 10 {
		t.Errorf("%d API writes, want 10", r.writes)
	}
}
