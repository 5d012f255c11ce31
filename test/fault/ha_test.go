package fault

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/test/localcluster"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// TestHAFailover runs two operator replicas with leader election behind a
// Service-like front door, fed by an Alertmanager HA pair that both send.
// Each group becomes one incident; only the leader pages and mails; killing
// the leader hands escalation to the other replica within the lease
// duration, and nobody is paged or mailed twice.
func TestHAFailover(t *testing.T) {
	const (
		groups   = 10
		escalate = 20 * time.Second
		lease    = 6 * time.Second
		renew    = 4 * time.Second
		retry    = time.Second
	)
	mail := mailpit.Start(t)
	tm := newTeam(t, mail, level{person: "alice"}, level{person: "bob", after: escalate})
	flags := []string{"--watch-namespaces=" + tm.ns, "--leader-elect", "--leader-election-namespace=" + localcluster.OperatorNamespace,
		"--leader-elect-lease-duration=" + lease.String(), "--leader-elect-renew-deadline=" + renew.String(),
		"--leader-elect-retry-period=" + retry.String()}
	replicas := []*operator{startOperator(t, "replica-a", flags...), startOperator(t, "replica-b", flags...)}
	tm.createRoute(t)
	leader, follower := electedLeader(t, replicas)

	// Each Alertmanager has its own front door to both replicas, so the
	// answers tell which of the pair sent.
	doors := []*frontDoor{newFrontDoor(t, replicas[0].receiverURL, replicas[1].receiverURL),
		newFrontDoor(t, replicas[0].receiverURL, replicas[1].receiverURL)}
	// A peer timeout shorter than any answer of the receiver: the second
	// sends every group the first is still sending, as a pair does whose
	// gossip is slow, so the two race for each group.
	ams := startAlertmanagersWithPeerTimeout(t, time.Millisecond, doors[0].url+tm.webhook(), doors[1].url+tm.webhook())
	var names []string
	for i := range groups {
		names = append(names, fmt.Sprintf("Failover%02d", i))
		postAlerts(t, ams, firing(names[i]))
	}
	eventually(t, "every group's first level to be paged and mailed", time.Minute, func(ctx context.Context) (bool, error) {
		items, err := tm.incidents(ctx)
		if err != nil || len(items) < groups {
			return false, err
		}
		for i := range items {
			if !strings.HasPrefix(paged(&items[i]), "0:alice") || !allSent(&items[i]) {
				return false, nil
			}
		}
		return true, nil
	})
	if pages := follower.metric("klaxon_pages_total"); pages != 0 {
		t.Errorf("the follower %s paged %v times; only the leader pages", follower.name, pages)
	}
	if pages := leader.metric("klaxon_pages_total"); pages != groups {
		t.Errorf("the leader %s paged %v times, want %d", leader.name, pages, groups)
	}
	// The gauge of open incidents, too, only the leader reports, so that a
	// sum over replicas counts each incident once.
	if open := follower.metric("klaxon_open_incidents", `namespace="`+tm.ns+`"`); open != 0 {
		t.Errorf("the follower %s reports %v open incidents; only the leader reports them", follower.name, open)
	}
	if open := leader.metric("klaxon_open_incidents", `namespace="`+tm.ns+`"`); open != groups {
		t.Errorf("the leader %s reports %v open incidents, want %d", leader.name, open, groups)
	}

	killed := time.Now()
	leader.kill()
	eventually(t, "the follower to lead", 3*lease, func(context.Context) (bool, error) {
		return follower.metric("leader_election_master_status") == 1, nil
	})
	handover := time.Since(killed)
	// The lease ends at most its duration after the killed leader's last
	// renewal; the follower sees that at its next try, which client-go
	// jitters to up to 2.2 retry periods; scraping its metrics every poll
	// adds up to a second on a shared machine.
	if limit := lease + 3*retry + time.Second; handover > limit {
		t.Errorf("the follower led %s after the leader was killed; the lease lasts %s, so it should lead within %s", handover, lease, limit)
	}

	eventually(t, "every group's second level to be paged and mailed", time.Minute, func(ctx context.Context) (bool, error) {
		items, err := tm.incidents(ctx)
		if err != nil || len(items) < groups {
			return false, err
		}
		for i := range items {
			if paged(&items[i]) != "0:alice,1:bob" || !allSent(&items[i]) {
				return false, nil
			}
		}
		return true, nil
	})
	time.Sleep(2 * time.Second) // a page sent twice would have arrived by now

	items, err := tm.incidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != groups {
		t.Errorf("%d incidents for %d groups", len(items), groups)
	}
	titles := map[string]int{}
	for i := range items {
		titles[items[i].Spec.Title]++
		if got := paged(&items[i]); got != "0:alice,1:bob" {
			t.Errorf("%s was paged %s, want 0:alice,1:bob", items[i].Name, got)
		}
		if a := assignment(&items[i], 1); a != nil && a.NotifiedAt.Time.Before(killed.Truncate(time.Second)) {
			t.Errorf("%s's second level was paged at %s, before the leader was killed: the test did not hand it over", items[i].Name, a.NotifiedAt)
		}
	}
	mails := tm.mails(t)
	for _, name := range names {
		if titles[name] != 1 {
			t.Errorf("group %s has %d incidents, want 1", name, titles[name])
		}
		for _, person := range []string{"alice", "bob"} {
			if n := len(mails[name+" "+person]); n != 1 {
				t.Errorf("%s mailed %s %d times, want once", name, person, n)
			}
		}
	}
	if pages := follower.metric("klaxon_pages_total"); pages != groups {
		t.Errorf("the new leader %s paged %v times, want %d (the second levels)", follower.name, pages, groups)
	}

	// Both Alertmanagers sent, to both replicas, and none was refused.
	sentBy := make([]int, len(doors))
	served := map[string]int{}
	for i, door := range doors {
		for _, a := range door.recorded() {
			if a.code != http.StatusOK {
				t.Errorf("alertmanager %d was answered %s", i, a)
				continue
			}
			sentBy[i]++
			served[a.backend]++
		}
	}
	// Both sent, so some groups arrived twice, at the two replicas at
	// about the same time: the race that must still make one incident.
	if sentBy[0] == 0 || sentBy[1] == 0 || sentBy[0]+sentBy[1] <= groups || len(served) != 2 {
		t.Errorf("alertmanagers sent %v webhooks, replicas served %v; want both sending, some groups twice, and both replicas serving", sentBy, served)
	}
	t.Logf("%d groups: the alertmanagers sent %v webhooks, the replicas served %v; the follower led %s after the leader was killed",
		groups, sentBy, served, handover.Round(10*time.Millisecond))
}

// electedLeader waits until one replica holds the lease, and returns it and
// the other.
func electedLeader(t *testing.T, replicas []*operator) (leader, follower *operator) {
	t.Helper()
	eventually(t, "a leader to be elected", time.Minute, func(context.Context) (bool, error) {
		for i, r := range replicas {
			if r.metric("leader_election_master_status") == 1 {
				leader, follower = r, replicas[1-i]
				return true, nil
			}
		}
		return false, nil
	})
	return leader, follower
}
