package fault

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
	"github.com/klaxon-dev/klaxon/internal/test/proc"
)

// TestAPIServerOutage stops kube-apiserver for 20 s while Alertmanager
// delivers a stream of new groups and escalations fall due. The receiver
// answers 503, so Alertmanager retries; afterwards every group has exactly
// one incident, and every page, including those that fell due during the
// outage, was mailed once. The outage outlasts the renew deadline (10 s):
// the operator loses its lease and keeps its process, its receiver answers
// throughout, and once the API server is back the first pages of new
// groups, and the escalations that fell due in the outage, go within
// firstPageWithin.
func TestAPIServerOutage(t *testing.T) {
	apiServerOutage(t, 20*time.Second, 1, 1)
}

// TestAPIServerOutageTwoReplicas is TestAPIServerOutage with two replicas,
// as the chart runs them, behind one address: half the groups reach the
// receiver of the replica that does not lead, whose incidents the leader
// learns of by listing the API server while its watches are behind, not
// from its own receiver.
func TestAPIServerOutageTwoReplicas(t *testing.T) {
	apiServerOutage(t, 20*time.Second, 2, -1)
}

// TestShortAPIServerOutage stops kube-apiserver for 5 s, within the renew
// deadline: the operator keeps its lease, and its cache's watches come back
// after client-go's back-off, up to seconds after the API server. The
// receiver hands the incidents it opens to the reconciler directly, which
// reads them from the API server while the cache is behind, so their first
// pages go as fast as after a long outage.
func TestShortAPIServerOutage(t *testing.T) {
	// Whether the lease outlives it depends on how long kube-apiserver
	// takes to start and when the leader last renewed: logged, not held.
	apiServerOutage(t, 5*time.Second, 1, -1)
}

// apiServerOutage runs the outage test with replicas operators; they are to
// lose their lease lostTerms times in all (-1: any number, logged).
func apiServerOutage(t *testing.T, outage time.Duration, replicas, lostTerms int) {
	const (
		groups   = 100
		every    = 400 * time.Millisecond
		outageAt = 8 * time.Second
		escalate = 12 * time.Second
		// firstPageWithin bounds the p99 of first pages after the outage,
		// and each escalation that fell due in it, from the outage's end.
		// Status times are whole seconds, which the bound absorbs.
		firstPageWithin = 5 * time.Second
	)
	fail := repeatFailures(t)
	mail := mailpit.Start(t)
	tm := newTeam(t, mail, level{person: "alice"}, level{person: "bob", after: escalate})
	// As shipped: with leader election and its default renew deadline
	// (10 s). Were the operator to exit, it would be restarted as a kubelet
	// would.
	var ops []*operator
	var restarts []func() int
	var receivers []string
	for i := range replicas {
		op := startOperator(t, fmt.Sprintf("replica-%d", i), "--watch-namespaces="+tm.ns, "--leader-elect",
			"--leader-election-namespace="+localcluster.OperatorNamespace)
		ops = append(ops, op)
		restarts = append(restarts, op.supervise())
		receivers = append(receivers, op.receiverURL)
	}
	exited := func() (n int) {
		for _, r := range restarts {
			n += r()
		}
		return n
	}
	tm.createRoute(t)
	door := newFrontDoor(t, receivers...)
	ams := startAlertmanagers(t, door.url+tm.webhook())

	start := time.Now()
	var names []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range groups {
			name := fmt.Sprintf("Outage%03d", i)
			names = append(names, name)
			postAlerts(t, ams, firing(name))
			time.Sleep(time.Until(start.Add(time.Duration(i+1) * every)))
		}
	})
	time.Sleep(time.Until(start.Add(outageAt)))
	down := time.Now()
	if err := cluster.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	// Finding and killing the process takes a moment, in which writes
	// still land: only what falls due after this could not be written.
	killed := time.Now()
	// The probes answer throughout: a kubelet would otherwise restart
	// the operator, or take it out of its Service.
	var probeFailures []string
	probing, stopProbing := context.WithCancel(context.Background())
	var probes sync.WaitGroup
	probes.Go(func() {
		for probing.Err() == nil {
			at := time.Now()
			for _, op := range ops {
				if !proc.AnswersOK(probing, op.ProbeURL) && probing.Err() == nil {
					probeFailures = append(probeFailures, op.name+" at "+at.Format("15:04:05.000"))
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	time.Sleep(outage)
	// It serves before it reports healthy: the outage ends here.
	up := time.Now()
	apiServerRestarts = append(apiServerRestarts, up)
	if err := cluster.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	// kube-apiserver serves from up, but refuses writes while it loads the
	// CRDs and RBAC, until it reports healthy: that start is not Klaxon's.
	healthy := time.Now()
	t.Logf("kube-apiserver was down from %s to %s, healthy at %s", down.Format("15:04:05.000"), up.Format("15:04:05.000"), healthy.Format("15:04:05.000"))
	wg.Wait()
	stopProbing()
	probes.Wait()
	if len(probeFailures) > 0 {
		fail.Errorf("/readyz did not answer 200 %d times, from the outage to the end of the stream: at %s", len(probeFailures), strings.Join(probeFailures, ", "))
	}

	eventually(t, "every group to be paged at both levels and mailed", 2*time.Minute, func(ctx context.Context) (bool, error) {
		items, err := tm.incidents(ctx)
		if err != nil || len(items) < groups {
			return false, err
		}
		for i := range items {
			if paged(&items[i]) != "0:alice,1:bob" || !allSent(&items[i]) {
				return false, nil
			}
		}
		return len(mail.All(t)) >= 2*groups, nil
	})
	time.Sleep(2 * time.Second) // a page sent twice would have arrived by now

	items, err := tm.incidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	dueInOutage := 0
	// From due (or from the outage's end) to paged, for first pages of
	// new incidents and for escalations.
	var slowestFirst, slowestEscalation, slowestAfterOutage time.Duration
	// From creation to the first page, of incidents created once
	// kube-apiserver was back.
	var firstAfter []time.Duration
	for i := range items {
		inc := &items[i]
		titles = append(titles, inc.Spec.Title)
		if got := paged(inc); got != "0:alice,1:bob" {
			fail.Errorf("%s (%s) was paged %s, want 0:alice,1:bob", inc.Name, inc.Spec.Title, got)
		}
		first, second := assignment(inc, 0), assignment(inc, 1)
		if first == nil || second == nil {
			continue
		}
		for _, a := range []*klaxonv1alpha1.Assignment{first, second} {
			due := inc.CreationTimestamp.Time
			if a == second {
				due = first.NotifiedAt.Add(escalate)
			}
			if due.Before(up) {
				due = up
			}
			if a == first {
				slowestFirst = max(slowestFirst, a.NotifiedAt.Sub(due))
				if !inc.CreationTimestamp.Time.Before(up.Truncate(time.Second)) {
					firstAfter = append(firstAfter, a.NotifiedAt.Sub(inc.CreationTimestamp.Time))
				}
			} else {
				slowestEscalation = max(slowestEscalation, a.NotifiedAt.Sub(due))
			}
		}
		due := first.NotifiedAt.Add(escalate)
		if due.After(killed) && due.Before(up) {
			dueInOutage++
			if second.NotifiedAt.Time.Before(up.Truncate(time.Second)) {
				fail.Errorf("%s's second level fell due at %s, in the outage, and is recorded paged at %s, before kube-apiserver was back",
					inc.Name, due.Format(time.TimeOnly), second.NotifiedAt.Format(time.TimeOnly))
			}
			if late := second.NotifiedAt.Sub(healthy); late > firstPageWithin {
				fail.Errorf("%s's second level fell due at %s, in the outage, and was paged %s after kube-apiserver was healthy again, want within %s",
					inc.Name, due.Format(time.TimeOnly), late, firstPageWithin)
			}
			slowestAfterOutage = max(slowestAfterOutage, second.NotifiedAt.Sub(healthy))
		}
	}
	sort.Strings(titles)
	if strings.Join(titles, ",") != strings.Join(names, ",") {
		fail.Errorf("%d incidents for %d groups; their titles:\n%s", len(items), groups, strings.Join(titles, ","))
	}
	if len(firstAfter) == 0 {
		fail.Errorf("no incident was created after kube-apiserver was back: the test proves nothing about their first pages")
	}
	slices.Sort(firstAfter)
	if p99 := percentile(firstAfter, 99); p99 > firstPageWithin {
		fail.Errorf("after the outage, first pages came %s (p99) after their incidents were created, want within %s; all: %v", p99, firstPageWithin, firstAfter)
	}
	if dueInOutage == 0 {
		fail.Errorf("no escalation fell due during the outage: the test proves nothing about them")
	}

	mails := tm.mails(t)
	for _, name := range names {
		for _, person := range []string{"alice", "bob"} {
			sent := mails[name+" "+person]
			// Delivery is at least once: a mail sent as the API server
			// died, whose Sent the kill kept from being recorded, is sent
			// again by the next leader. Any other repeat is a page twice.
			// The next leader reads the incident from the API server before
			// it sends, so its copy goes once the outage is over.
			if len(sent) == 2 && !sent[0].Before(down.Add(-time.Second)) && !sent[0].After(killed) && !sent[1].Before(up) {
				t.Logf("%s mailed %s at %s, as kube-apiserver was killed, and again at %s", name, person,
					sent[0].Format("15:04:05.000"), sent[1].Format("15:04:05.000"))
				continue
			}
			if n := len(sent); n != 1 {
				fail.Errorf("%s mailed %s %d times, want once", name, person, n)
			}
		}
	}
	if len(mails) != 2*groups {
		fail.Errorf("mails went to %d (incident, person) pairs, want %d", len(mails), 2*groups)
	}

	var unavailable, unavailableInOutage, unavailableAfter, ok, abandoned, restarting int
	for _, a := range door.recorded() {
		switch {
		case a.abandoned:
			// Alertmanager gave up waiting (the test's 1s group interval
			// gives each try about 10s) and sends again: not an answer.
			abandoned++
			t.Logf("abandoned by Alertmanager: %s", a)
		case a.err != "" || (a.code == http.StatusServiceUnavailable && a.backend == ""):
			// The connection was refused or cut: the operator was away.
			restarting++
			fail.Errorf("the receiver did not answer: %s", a)
		case a.code == http.StatusOK:
			ok++
		case a.code == http.StatusServiceUnavailable:
			unavailable++
			switch {
			case !a.at.Before(down) && a.at.Before(up):
				unavailableInOutage++
			case !a.at.Before(up):
				// A kube-apiserver just started serves before it has
				// loaded CRDs and RBAC: its first seconds refuse writes.
				unavailableAfter++
			}
		default:
			fail.Errorf("the receiver answered %s; only 200 and 503 (retry) are right", a)
		}
	}
	if unavailableInOutage == 0 {
		fail.Errorf("the receiver never answered 503 during the outage")
	}
	// Losing its lease stops only its leader term: the process stays.
	if n := exited(); n != 0 {
		fail.Errorf("the operators exited %d times, want never: a lost lease must not end the process", n)
	}
	lost := 0
	for _, op := range ops {
		log, err := os.ReadFile(op.LogPath())
		if err != nil {
			t.Fatal(err)
		}
		lost += strings.Count(string(log), "Stopped leading")
	}
	if lostTerms >= 0 && lost != lostTerms {
		fail.Errorf("the operator lost its lease %d times, want %d in a %s outage (renew deadline 10 s)", lost, lostTerms, outage)
	}
	t.Logf("the operator lost its lease %d times", lost)
	t.Logf("operator restarts: %d; %d groups: %d answers 200, %d answers 503 (%d during the outage, %d as kube-apiserver started), %d requests abandoned by Alertmanager, %d refused or cut; %d escalations fell due in the outage; "+
		"the latest first page came %s after its incident was created (or after the outage, if created in it), the latest escalation %s after due (or after the outage)",
		exited(), groups, ok, unavailable, unavailableInOutage, unavailableAfter, abandoned, restarting, dueInOutage, slowestFirst, slowestEscalation)
	t.Logf("escalations that fell due in the outage were paged at most %s after kube-apiserver was healthy again", slowestAfterOutage)
	t.Logf("first pages of the %d incidents created after the outage, from creation (whole seconds): p50 %s, p99 %s, max %s",
		len(firstAfter), percentile(firstAfter, 50), percentile(firstAfter, 99), percentile(firstAfter, 100))
}

// percentile is the p-th percentile of sorted durations, by the nearest
// rank; 0 for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}
