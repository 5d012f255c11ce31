package controller_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// TestStakeholdersHearOfEachStepOnce: the policy's stakeholders are told of
// the trigger, each update (with its text and author), the resolution and
// the close (with the postmortem link), each once, and acknowledgement
// cancels none of it.
func TestStakeholdersHearOfEachStepOnce(t *testing.T) {
	ns := newNamespace(t)
	h := newHook(t, nil)
	hookChannel(t, ns, "status", h.URL)
	p := &klaxonv1alpha1.EscalationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "informed", Namespace: ns},
		Spec: klaxonv1alpha1.EscalationPolicySpec{
			Levels:       []klaxonv1alpha1.EscalationLevel{{Targets: []klaxonv1alpha1.EscalationTarget{{User: "alice"}}}},
			Stakeholders: []klaxonv1alpha1.Stakeholder{{Channel: "status", Address: "#payments-status"}},
		}}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	inc := createIncident(t, k8s, ns, "checkout", withPolicy("informed"), withSeverity(klaxonv1alpha1.SeverityHigh))
	newsSent := func(n int) func(*klaxonv1alpha1.Incident) bool {
		return func(i *klaxonv1alpha1.Incident) bool {
			sent := 0
			for _, x := range i.Status.Notifications {
				if x.Event != "" && x.State == klaxonv1alpha1.NotificationSent {
					sent++
				}
			}
			return sent == n
		}
	}
	waitFor(t, inc, "the trigger told", newsSent(1))

	addUpdate := func(author, text string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			got := &klaxonv1alpha1.Incident{}
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(inc), got); err != nil {
				return err
			}
			got.Spec.Updates = append(got.Spec.Updates, klaxonv1alpha1.StakeholderUpdate{
				Time: metav1.NewTime(fakeClock.Now().Truncate(time.Second)), Author: author, Message: text})
			return k8s.Update(context.Background(), got)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	mustSetState(t, k8s, inc, A)
	addUpdate("alice", "Rolled back release 1234.")
	addUpdate("bob", "Error rate back to normal.")
	mustSetState(t, k8s, inc, R)
	waitForPhase(t, inc, R, 1)
	mustSetState(t, k8s, inc, C, withPostmortem)
	got := waitFor(t, inc, "every step told", newsSent(5))
	nudge(t, got)
	time.Sleep(time.Second)

	var events []string
	for _, r := range h.requests() {
		if field(r.payload, "kind") != "Stakeholder" || field(r.payload, "address") != "#payments-status" {
			t.Errorf("a request that is not news for #payments-status: %+v", r.payload)
		}
		e := field(r.payload, "stakeholder.event")
		if text := field(r.payload, "stakeholder.text"); text != "" {
			e += " " + field(r.payload, "stakeholder.author") + ": " + text
		}
		if pm := field(r.payload, "stakeholder.postmortemURL"); pm != "" && e == "Closed" {
			e += " " + pm
		}
		events = append(events, e)
	}
	// Sends run side by side, so they may arrive in any order.
	sort.Strings(events)
	want := []string{"Closed https://wiki.example.com/pm/123", "Resolved", "Triggered",
		"Update alice: Rolled back release 1234.", "Update bob: Error rate back to normal."}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("stakeholders heard:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}
