package plugin_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

func TestUpdateIsAuthoredByWhoTheAPIServerSaysYouAre(t *testing.T) {
	ns := newNamespace(t)
	carol, carolName := limitedUser(t, ns, "carol")
	createIncident(t, ns, "checkout")

	out := mustRun(t, carol, "update", "checkout", "-n", ns, "-m", "Rolled back release 1234, monitoring.")
	if want := "incident.klaxon.dev/checkout updated: update 1 by " + carolName + "\n"; out != want {
		t.Errorf("update printed %q, want %q", out, want)
	}
	first := getIncident(t, ns, "checkout").Spec.Updates
	mustRun(t, carol, "update", "checkout", "-n", ns, "-m", "Error rate back to normal.")

	updates := getIncident(t, ns, "checkout").Spec.Updates
	if len(updates) != 2 {
		t.Fatalf("got %d updates, want 2: %+v", len(updates), updates)
	}
	if diff := cmp.Diff(first[0], updates[0]); diff != "" {
		t.Errorf("the first update changed (-before +after):\n%s", diff)
	}
	for i, want := range []string{"Rolled back release 1234, monitoring.", "Error rate back to normal."} {
		u := updates[i]
		if u.Author != carolName || u.Message != want || !u.Time.Time.Equal(now) {
			t.Errorf("update %d = %+v, want %q by %s at %s", i, u, want, carolName, now)
		}
	}
}

func TestUpdateNeedsNoRightsBeyondPatchingIncidents(t *testing.T) {
	ns := newNamespace(t)
	carol, _ := limitedUser(t, ns, "carol")
	r := kubectlKlaxon(carol, "declare", "Disk full", "-n", ns)
	if r.err == nil {
		t.Fatal("carol declared an incident without the right to create one")
	}
	if want := `Ask for a Role that grants get and patch (create, to declare) on incidents.klaxon.dev in namespace "` + ns + `"`; !containsLine(r.err.Error(), want) {
		t.Errorf("error does not say %q:\n%s", want, r.err)
	}
}

func TestConcurrentUpdatesAreAllKept(t *testing.T) {
	ns := newNamespace(t)
	createIncident(t, ns, "checkout")
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := kubectlKlaxon(cluster.AdminConfig, "update", "checkout", "-n", ns, "-m", fmt.Sprintf("update %d", i))
			errs[i] = r.err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	var got []string
	for _, u := range getIncident(t, ns, "checkout").Spec.Updates {
		got = append(got, u.Message)
	}
	slices.Sort(got)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("update %d", i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
}

func TestUpdateOfAClosedIncidentIsStillAppended(t *testing.T) {
	ns := newNamespace(t)
	createIncident(t, ns, "checkout", func(inc *klaxonv1alpha1.Incident) {
		inc.Spec.Updates = []klaxonv1alpha1.StakeholderUpdate{{Time: *at(-2 * time.Hour), Author: "alice", Message: "Investigating."}}
	})
	mustRun(t, cluster.AdminConfig, "close", "checkout", "-n", ns)
	mustRun(t, cluster.AdminConfig, "update", "checkout", "-n", ns, "-m", "Postmortem scheduled for Monday.")
	if got := len(getIncident(t, ns, "checkout").Spec.Updates); got != 2 {
		t.Errorf("got %d updates, want 2", got)
	}
}

func TestStatusWithoutClusterWideRightsSaysToNameANamespace(t *testing.T) {
	ns := newNamespace(t)
	carol, _ := limitedUser(t, ns, "carol")
	r := kubectlKlaxon(carol, "status")
	if r.err == nil || !containsLine(r.err.Error(), "Name a namespace you may read with -n") {
		t.Fatalf("err = %v, want advice to use -n", r.err)
	}
	if out := mustRun(t, carol, "status", "-n", ns); out != "No open incidents in namespace "+ns+".\n" {
		t.Errorf("status -n = %q", out)
	}
}
