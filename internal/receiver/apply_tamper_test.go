package receiver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// checkoutGroupKey is the group key of the payloads firing() builds.
const checkoutGroupKey = `{}/{team="payments"}:{alertname="CheckoutLatency"}`

// People remove or change the labels the receiver finds a group's incident
// by: the group keeps working and the labels come back.
func TestGroupLabelRemoved(t *testing.T) {
	for name, resolutionFirst := range map[string]bool{"repeat then resolution": false, "resolution first": true} {
		t.Run(name, func(t *testing.T) {
			ns := newNamespace(t)
			routeFixture(t, ns)
			srv := newReceiver(t, nil)
			body := firing("firing", alert("a1", "firing"))
			deliver(t, srv.URL, ns, body)
			first := onlyIncident(t, ns)

			patchIncident(t, ns, first.Name, fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, klaxonv1alpha1.LabelGroup))
			waitForCache(t, ns, first.Name, "the group label to be removed", func(inc *klaxonv1alpha1.Incident) bool {
				_, ok := inc.Labels[klaxonv1alpha1.LabelGroup]
				return !ok
			})

			if !resolutionFirst {
				deliver(t, srv.URL, ns, body)
			}
			deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))

			inc := onlyIncident(t, ns)
			if inc.Name != first.Name || inc.Spec.State != klaxonv1alpha1.StateResolved {
				t.Errorf("incident %s in state %s, want %s resolved", inc.Name, inc.Spec.State, first.Name)
			}
			if got, want := inc.Labels[klaxonv1alpha1.LabelGroup], alertmapping.GroupHash(checkoutGroupKey); got != want {
				t.Errorf("label %s = %q, want it restored to %q", klaxonv1alpha1.LabelGroup, got, want)
			}
		})
	}
}

// Incidents people create with the receiver's names do not take over or
// wedge the group.
func TestDecoyIncidents(t *testing.T) {
	top := alertmapping.IncidentName("payments", checkoutGroupKey, math.MaxInt32)
	later := alert("a1", "firing")
	later.StartsAt = later.StartsAt.Add(time.Hour) // a new occurrence, after the fixture's resolution

	t.Run("a copy with the top serial", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		srv := newReceiver(t, nil)
		body := firing("firing", alert("a1", "firing"))
		deliver(t, srv.URL, ns, body)
		first := onlyIncident(t, ns)
		createDecoy(t, first, top, first.Spec.Source, klaxonv1alpha1.StateTriggered)

		if msg := deliver(t, srv.URL, ns, body); !strings.Contains(msg, first.Name) {
			t.Errorf("the repeat was applied elsewhere: %q", msg)
		}
		deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))
		if inc := getIncident(t, ns, first.Name); inc.Spec.State != klaxonv1alpha1.StateResolved {
			t.Errorf("incident %s is %s, want Resolved", first.Name, inc.Spec.State)
		}
		if decoy := getIncident(t, ns, top); decoy.Spec.State != klaxonv1alpha1.StateTriggered || decoy.Status.Alerts != nil {
			t.Errorf("the decoy was written: state %s, alerts %+v", decoy.Spec.State, decoy.Status.Alerts)
		}

		closeIncident(t, ns, first.Name)
		deliver(t, srv.URL, ns, firing("firing", later))
		second := alertmapping.IncidentName("payments", checkoutGroupKey, 2)
		wantIncidents(t, ns, first.Name, second, top)
		deliver(t, srv.URL, ns, firing("firing", later))
		wantIncidents(t, ns, first.Name, second, top)
	})

	t.Run("a closed copy with the top serial before the group's first incident", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		srv := newReceiver(t, nil)
		source := &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: checkoutGroupKey}
		createDecoy(t, &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Namespace: ns,
			Labels: alertmapping.GroupSelector("payments", checkoutGroupKey)}}, top, source, klaxonv1alpha1.StateClosed)

		deliver(t, srv.URL, ns, firing("firing", alert("a1", "firing")))
		first := alertmapping.IncidentName("payments", checkoutGroupKey, 1)
		wantIncidents(t, ns, first, top)
		deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))
		if inc := getIncident(t, ns, first); inc.Spec.State != klaxonv1alpha1.StateResolved {
			t.Errorf("incident %s is %s, want Resolved", first, inc.Spec.State)
		}
		wantIncidents(t, ns, first, top)
	})

	t.Run("another group's incident holds the next name", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		srv := newReceiver(t, nil)
		deliver(t, srv.URL, ns, firing("firing", alert("a1", "firing")))
		first := onlyIncident(t, ns)
		deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))
		closeIncident(t, ns, first.Name)
		squatted := alertmapping.IncidentName("payments", checkoutGroupKey, 2)
		other := &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}/{team="search"}`}
		createDecoy(t, first, squatted, other, klaxonv1alpha1.StateTriggered)

		deliver(t, srv.URL, ns, firing("firing", later))
		third := alertmapping.IncidentName("payments", checkoutGroupKey, 3)
		wantIncidents(t, ns, first.Name, squatted, third)
		deliver(t, srv.URL, ns, firing("firing", later))
		ended := later
		ended.Status, ended.EndsAt = "resolved", later.StartsAt.Add(time.Minute)
		deliver(t, srv.URL, ns, firing("resolved", ended))
		wantIncidents(t, ns, first.Name, squatted, third)
		if inc := getIncident(t, ns, third); inc.Spec.State != klaxonv1alpha1.StateResolved {
			t.Errorf("incident %s is %s, want Resolved", third, inc.Spec.State)
		}
		if inc := getIncident(t, ns, squatted); inc.Spec.Source.GroupKey != other.GroupKey || inc.Status.Alerts != nil {
			t.Errorf("the other group's incident was written: %+v", inc.Status.Alerts)
		}
	})
}

// Someone resolves the incident while its alert still fires: Alertmanager's
// repeats of that alert neither reopen it nor open another, within the
// reopen window or after it; the alert firing anew does reopen it.
func TestHandResolvedWhileFiring(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	clk := testingclock.NewFakeClock(time.Now())
	srv := newReceiver(t, nil, func(o *receiver.Options) { o.Clock = clk })
	body := firing("firing", alert("a1", "firing"))
	deliver(t, srv.URL, ns, body)
	first := onlyIncident(t, ns)

	patchIncident(t, ns, first.Name, `{"spec":{"state":"Resolved"}}`)
	var resolvedAt time.Time
	waitForCache(t, ns, first.Name, "the operator to accept the resolution", func(inc *klaxonv1alpha1.Incident) bool {
		if inc.Status.Phase != klaxonv1alpha1.StateResolved || inc.Status.ResolvedAt == nil {
			return false
		}
		resolvedAt = inc.Status.ResolvedAt.Time
		return true
	})

	for _, after := range []time.Duration{31 * time.Minute, time.Minute} {
		clk.SetTime(resolvedAt.Add(after))
		deliver(t, srv.URL, ns, body)
		if inc := onlyIncident(t, ns); inc.Spec.State != klaxonv1alpha1.StateResolved {
			t.Errorf("a repeat %s after the resolution moved the incident to %s", after, inc.Spec.State)
		}
	}

	again := alert("a1", "firing")
	again.StartsAt = again.StartsAt.Add(time.Hour)
	clk.SetTime(resolvedAt.Add(2 * time.Minute))
	deliver(t, srv.URL, ns, firing("firing", again))
	if inc := onlyIncident(t, ns); inc.Spec.State != klaxonv1alpha1.StateTriggered {
		t.Errorf("the alert firing anew left the incident %s, want it reopened", inc.Spec.State)
	}
}

// An Alertmanager HA peer delivers a firing notification after the newer
// resolution: it changes nothing.
func TestStaleFiringAfterResolution(t *testing.T) {
	t.Run("the group resolved", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		srv := newReceiver(t, nil)
		older := firing("firing", alert("a1", "firing"))
		deliver(t, srv.URL, ns, older)
		first := onlyIncident(t, ns)
		deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))
		waitForCache(t, ns, first.Name, "the resolution", func(inc *klaxonv1alpha1.Incident) bool {
			return inc.Spec.State == klaxonv1alpha1.StateResolved && inc.Status.Alerts != nil && inc.Status.Alerts.Resolved == 1
		})

		deliver(t, srv.URL, ns, older)
		inc := onlyIncident(t, ns)
		if inc.Spec.State != klaxonv1alpha1.StateResolved {
			t.Errorf("the older notification moved the incident to %s", inc.Spec.State)
		}
		if a := inc.Status.Alerts; a == nil || a.Firing != 0 || a.Resolved != 1 {
			t.Errorf("status.alerts = %+v, want the resolved alert kept", a)
		}
	})

	t.Run("one alert of a firing group resolved", func(t *testing.T) {
		ns := newNamespace(t)
		routeFixture(t, ns)
		srv := newReceiver(t, nil)
		older := firing("firing", alert("a1", "firing"), alert("a2", "firing"))
		deliver(t, srv.URL, ns, older)
		first := onlyIncident(t, ns)
		deliver(t, srv.URL, ns, firing("firing", alert("a1", "resolved"), alert("a2", "firing")))
		waitForCache(t, ns, first.Name, "the alerts", func(inc *klaxonv1alpha1.Incident) bool {
			return inc.Status.Alerts != nil && inc.Status.Alerts.Resolved == 1
		})

		deliver(t, srv.URL, ns, older)
		if a := onlyIncident(t, ns).Status.Alerts; a == nil || a.Firing != 1 || a.Resolved != 1 {
			t.Errorf("status.alerts = %+v, want a1 still resolved", a)
		}
	})
}

// deliver posts a notification to the route "payments" of ns and fails the
// test unless it is answered 200; it returns the answer.
func deliver(t *testing.T, base, ns string, body []byte) string {
	t.Helper()
	code, msg := post(t, base, http.MethodPost, "/alertmanager/"+ns+"/payments", token, body)
	if code != http.StatusOK {
		t.Fatalf("answer %d %q, want 200", code, msg)
	}
	return msg
}

// incidentsIn lists every incident of ns from the API server, whatever its
// labels.
func incidentsIn(t *testing.T, ns string) []klaxonv1alpha1.Incident {
	t.Helper()
	list := &klaxonv1alpha1.IncidentList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func onlyIncident(t *testing.T, ns string) *klaxonv1alpha1.Incident {
	t.Helper()
	incs := incidentsIn(t, ns)
	if len(incs) != 1 {
		t.Fatalf("%d incidents (%v), want 1", len(incs), names(incs))
	}
	return &incs[0]
}

// wantIncidents checks that ns holds exactly the named incidents.
func wantIncidents(t *testing.T, ns string, want ...string) {
	t.Helper()
	got := names(incidentsIn(t, ns))
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("incidents %v, want %v", got, want)
	}
}

func names(incs []klaxonv1alpha1.Incident) []string {
	out := make([]string, 0, len(incs))
	for _, inc := range incs {
		out = append(out, inc.Name)
	}
	return out
}

func getIncident(t *testing.T, ns, name string) *klaxonv1alpha1.Incident {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
		t.Fatal(err)
	}
	return inc
}

// patchIncident merge-patches an incident as a person would with
// kubectl patch --type merge.
func patchIncident(t *testing.T, ns, name, patch string) {
	t.Helper()
	inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := k8s.Patch(context.Background(), inc, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatalf("patching incident %s with %s: %v", name, patch, err)
	}
}

// closeIncident closes a SEV1 incident by hand, postmortem link included.
func closeIncident(t *testing.T, ns, name string) {
	t.Helper()
	patchIncident(t, ns, name, `{"spec":{"state":"Closed","postmortem":{"url":"https://wiki.example/pm/1"}}}`)
	waitForCache(t, ns, name, "the incident to close", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Spec.State == klaxonv1alpha1.StateClosed
	})
}

// createDecoy creates, as a person could, an incident named name with like's
// labels and the given source and state, and waits for the receiver's cache
// to show it.
func createDecoy(t *testing.T, like *klaxonv1alpha1.Incident, name string, source *klaxonv1alpha1.IncidentSource, state klaxonv1alpha1.IncidentState) {
	t.Helper()
	decoy := &klaxonv1alpha1.Incident{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   like.Namespace,
			Labels:      like.Labels,
			Annotations: map[string]string{klaxonv1alpha1.AnnotationGroupSerial: fmt.Sprint(math.MaxInt32)},
		},
		Spec: klaxonv1alpha1.IncidentSpec{
			Title:    "Decoy",
			Severity: klaxonv1alpha1.SeverityModerate,
			State:    state,
			Source:   source.DeepCopy(),
		},
	}
	if err := k8s.Create(context.Background(), decoy); err != nil {
		t.Fatalf("creating decoy %s: %v", name, err)
	}
	waitForCache(t, like.Namespace, name, "the decoy", func(*klaxonv1alpha1.Incident) bool { return true })
}

// waitForCache waits until the operator's cache, which the receiver reads,
// shows the incident as ok wants it.
func waitForCache(t *testing.T, ns, name, what string, ok func(*klaxonv1alpha1.Incident) bool) {
	t.Helper()
	eventually(t, what, func(ctx context.Context) (bool, error) {
		inc := &klaxonv1alpha1.Incident{}
		if err := mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, inc); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return ok(inc), nil
	})
}

// A run of objects of another group holding the group's next names, longer
// than the receiver follows in one lookup, does not wedge the group: a new
// firing opens an incident past the run, within one attempt even when the
// cache does not show the run yet, and its repeats and resolution reach
// that incident. A run the group may not step over is answered 503 naming
// the cause, until people delete part of it.
func TestDecoyRunDoesNotWedge(t *testing.T) {
	other := &klaxonv1alpha1.IncidentSource{AlertRoute: "payments", GroupKey: `{}/{team="search"}`}
	name := func(serial int32) string { return alertmapping.IncidentName("payments", checkoutGroupKey, serial) }
	later := alert("a1", "firing")
	later.StartsAt = later.StartsAt.Add(time.Hour)
	// closedGroup opens and closes the group's first incident and creates
	// decoys with the names of serials 2 to last, for a receiver reading
	// through c.
	closedGroup := func(t *testing.T, c client.Client, last int32) (ns, url string, want []string) {
		ns = newNamespace(t)
		routeFixture(t, ns)
		srv := newReceiver(t, c)
		deliver(t, srv.URL, ns, firing("firing", alert("a1", "firing")))
		first := onlyIncident(t, ns)
		deliver(t, srv.URL, ns, firing("resolved", alert("a1", "resolved")))
		closeIncident(t, ns, first.Name)
		want = []string{first.Name}
		for serial := int32(2); serial <= last; serial++ {
			createDecoy(t, first, name(serial), other, klaxonv1alpha1.StateTriggered)
			want = append(want, name(serial))
		}
		return ns, srv.URL, want
	}

	for _, behind := range []bool{false, true} {
		t.Run(fmt.Sprintf("17 decoys, cache behind %v", behind), func(t *testing.T) {
			var c client.Client
			lists := 0
			if behind {
				// The cache shows none of the decoys, as just after they
				// were created: only the API server's AlreadyExists does.
				c = interceptor.NewClient(withWatch{mgr.GetClient()}, interceptor.Funcs{
					Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
						if err := c.Get(ctx, key, obj, opts...); err != nil {
							return err
						}
						if inc, ok := obj.(*klaxonv1alpha1.Incident); ok && inc.Spec.Source != nil && inc.Spec.Source.GroupKey == other.GroupKey {
							return apierrors.NewNotFound(schema.GroupResource{Group: "klaxon.dev", Resource: "incidents"}, key.Name)
						}
						return nil
					},
					List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
						// Only the group's lookup counts; the heartbeat
						// check lists Heartbeats too.
						if _, ok := list.(*klaxonv1alpha1.IncidentList); ok {
							lists++
						}
						return c.List(ctx, list, opts...)
					},
				})
			}
			ns, url, want := closedGroup(t, c, 18)
			next := name(19)
			lists = 0
			if msg := deliver(t, url, ns, firing("firing", later)); !strings.Contains(msg, next) {
				t.Errorf("answer %q, want incident %s opened", msg, next)
			}
			if behind && lists != 1 {
				t.Errorf("the group was looked up %d times through the cache, want once", lists)
			}
			wantIncidents(t, ns, append(want, next)...)
			waitForCache(t, ns, next, "the new incident", func(*klaxonv1alpha1.Incident) bool { return true })
			deliver(t, url, ns, firing("firing", later))
			ended := later
			ended.Status, ended.EndsAt = "resolved", later.StartsAt.Add(time.Minute)
			deliver(t, url, ns, firing("resolved", ended))
			wantIncidents(t, ns, append(want, next)...)
			if inc := getIncident(t, ns, next); inc.Spec.State != klaxonv1alpha1.StateResolved {
				t.Errorf("incident %s is %s, want Resolved", next, inc.Spec.State)
			}
			for _, n := range want[1:] {
				if inc := getIncident(t, ns, n); inc.Spec.State != klaxonv1alpha1.StateTriggered || inc.Status.Alerts != nil {
					t.Errorf("decoy %s was written: state %s, alerts %+v", n, inc.Spec.State, inc.Status.Alerts)
				}
			}
		})
	}

	t.Run("a run as long as the gap", func(t *testing.T) {
		last := int32(1 + alertmapping.MaxSerialGap)
		ns, url, want := closedGroup(t, nil, last)
		code, msg := post(t, url, http.MethodPost, "/alertmanager/"+ns+"/payments", token, firing("firing", later))
		if code != http.StatusServiceUnavailable || !strings.Contains(msg, "other groups") || !strings.Contains(msg, name(last)) ||
			strings.Contains(msg, "API server") {
			t.Errorf("answer %d %q, want 503 naming the incidents of other groups", code, msg)
		}
		wantIncidents(t, ns, want...)

		// With the last name free the group steps over the rest.
		if err := k8s.Delete(context.Background(), getIncident(t, ns, name(last))); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the cache to drop the decoy", func(ctx context.Context) (bool, error) {
			err := mgr.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: name(last)}, &klaxonv1alpha1.Incident{})
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
		if msg := deliver(t, url, ns, firing("firing", later)); !strings.Contains(msg, name(last)) {
			t.Errorf("answer %q, want incident %s opened", msg, name(last))
		}
		if inc := getIncident(t, ns, name(last)); inc.Spec.Source.GroupKey != checkoutGroupKey {
			t.Errorf("incident %s has group %q", name(last), inc.Spec.Source.GroupKey)
		}
		waitForCache(t, ns, name(last), "the new incident", func(inc *klaxonv1alpha1.Incident) bool {
			return inc.Spec.Source.GroupKey == checkoutGroupKey
		})
		if msg := deliver(t, url, ns, firing("firing", later)); !strings.Contains(msg, name(last)) {
			t.Errorf("the repeat was answered %q, want it applied to %s", msg, name(last))
		}
		wantIncidents(t, ns, want...)
	})
}

// A notification whose alerts carry more label text than the API server
// takes in one request (the reviewer's 1.8 MB body: 50 alerts of 60 labels
// of 600 characters) still has its alerts recorded, so repeats are answered
// 200 and do not reopen an incident resolved by hand.
func TestSummaryTooLarge(t *testing.T) {
	ns := newNamespace(t)
	routeFixture(t, ns)
	srv := newReceiver(t, nil)
	alerts := make([]template.Alert, 0, 50)
	for i := range 50 {
		a := alert(fmt.Sprintf("fp%02d", i), "firing")
		a.StartsAt = a.StartsAt.Add(time.Duration(i) * time.Second)
		for j := range 60 {
			a.Labels[fmt.Sprintf("label_%02d", j)] = strings.Repeat(string(rune('a'+j%26)), 600)
		}
		alerts = append(alerts, a)
	}
	body := firing("firing", alerts...)
	if len(body) < 1800000 {
		t.Fatalf("the body is only %d bytes", len(body))
	}

	deliver(t, srv.URL, ns, body)
	inc := onlyIncident(t, ns)
	a := inc.Status.Alerts
	if a == nil || a.Firing != 50 || len(a.Items) == 0 {
		t.Fatalf("status.alerts = %+v, want the 50 firing alerts recorded", a)
	}
	if b, err := json.Marshal(a); err != nil || len(b) > 200<<10 {
		t.Errorf("status.alerts is %d bytes (%v)", len(b), err)
	}
	deliver(t, srv.URL, ns, body)

	patchIncident(t, ns, inc.Name, `{"spec":{"state":"Resolved"}}`)
	waitForCache(t, ns, inc.Name, "the operator to accept the resolution", func(inc *klaxonv1alpha1.Incident) bool {
		return inc.Status.Phase == klaxonv1alpha1.StateResolved && inc.Status.ResolvedAt != nil
	})
	deliver(t, srv.URL, ns, body)
	if inc := onlyIncident(t, ns); inc.Spec.State != klaxonv1alpha1.StateResolved {
		t.Errorf("a repeat moved the incident resolved by hand to %s", inc.Spec.State)
	}
}
