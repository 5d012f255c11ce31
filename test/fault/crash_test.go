package fault

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/test/mailpit"
)

// TestOperatorCrash kills the operator with SIGKILL three times while
// incidents escalate through three levels and mails are in flight (the SMTP
// relay is slow), and restarts it. Every level is paged exactly once, none
// is skipped, escalations keep the deadlines persisted in status, and a
// mail is sent twice only when a kill fell between its send and its record.
func TestOperatorCrash(t *testing.T) {
	const (
		incidents = 12
		spacing   = 300 * time.Millisecond
		escalate  = 6 * time.Second
		workers   = 4 // --incident-workers: at most this many sends in flight
	)
	mail := mailpit.Start(t)
	relay := slowRelay(t, mail.SMTP, 700*time.Millisecond)
	tm := newTeamVia(t, mail, relay, level{person: "alice"}, level{person: "bob", after: escalate}, level{person: "carol", after: escalate})
	op := startOperator(t, "crashing", "--watch-namespaces="+tm.ns, fmt.Sprintf("--incident-workers=%d", workers))

	// Down from a kill to the moment the restarted operator is ready.
	type downtime struct{ from, to time.Time }
	var downtimes []downtime
	start := time.Now()
	schedule := []struct{ kill, restart time.Duration }{
		{1500 * time.Millisecond, 4 * time.Second},
		{8 * time.Second, 13 * time.Second}, // the second levels fall due meanwhile
		{15500 * time.Millisecond, 16 * time.Second},
	}
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range schedule {
			select {
			case <-stop:
				return
			case <-time.After(time.Until(start.Add(s.kill))):
			}
			from := time.Now()
			op.kill()
			time.Sleep(time.Until(start.Add(s.restart)))
			if err := op.spawn(); err != nil {
				t.Error(err)
				return
			}
			if err := op.ready(); err != nil {
				t.Error(err)
				return
			}
			downtimes = append(downtimes, downtime{from: from, to: time.Now()})
		}
	}()
	// Should the test end early, the schedule stops before the operator is
	// stopped, and leaves nothing running.
	t.Cleanup(func() { close(stop); <-done })
	names := make([]string, 0, incidents)
	for i := range incidents {
		name := fmt.Sprintf("Crash%02d", i)
		names = append(names, name)
		inc := &klaxonv1alpha1.Incident{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crash-%02d", i), Namespace: tm.ns},
			Spec: klaxonv1alpha1.IncidentSpec{Title: name, Severity: klaxonv1alpha1.SeverityCritical,
				EscalationPolicyRef: &klaxonv1alpha1.LocalObjectReference{Name: "policy"}}}
		if err := k8s.Create(context.Background(), inc); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * spacing)))
	}
	<-done
	if t.Failed() {
		t.FailNow()
	}

	eventually(t, "every incident to be paged at three levels, every mail sent", 2*time.Minute, func(ctx context.Context) (bool, error) {
		items, err := tm.incidents(ctx)
		if err != nil || len(items) != incidents {
			return false, err
		}
		for i := range items {
			if paged(&items[i]) != "0:alice,1:bob,2:carol" || !allSent(&items[i]) {
				return false, nil
			}
		}
		return true, nil
	})
	time.Sleep(3 * time.Second) // a page sent twice would have arrived by now

	// restartAfter tells whether the operator was down at instant at, and
	// when it was ready again; killedSoonAfter, whether it was killed within
	// two seconds after at, perhaps before it finished paging what fell due.
	restartAfter := func(at time.Time) (time.Time, bool) {
		for _, d := range downtimes {
			if !at.Before(d.from) && at.Before(d.to) {
				return d.to, true
			}
		}
		return time.Time{}, false
	}
	killedSoonAfter := func(at time.Time) (time.Time, bool) {
		for _, d := range downtimes {
			if at.Before(d.from) && !at.Before(d.from.Add(-2*time.Second)) {
				return d.to, true
			}
		}
		return time.Time{}, false
	}
	// within: paged from a second before (timestamps have whole seconds) to
	// three after.
	within := func(paged, expected time.Time) bool {
		lag := paged.Sub(expected)
		return lag >= -time.Second && lag <= 3*time.Second
	}
	items, err := tm.incidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lateDue := 0
	for i := range items {
		inc := &items[i]
		if got := paged(inc); got != "0:alice,1:bob,2:carol" {
			t.Errorf("%s was paged %s, want 0:alice,1:bob,2:carol", inc.Name, got)
			continue
		}
		if n := len(inc.Status.Notifications); n != 3 {
			t.Errorf("%s recorded %d deliveries, want 3", inc.Name, n)
		}
		// Timestamps in status have whole seconds: a second of slack.
		for lvl := int32(1); lvl <= 2; lvl++ {
			prev, cur := assignment(inc, lvl-1), assignment(inc, lvl)
			due := prev.NotifiedAt.Add(escalate)
			paged := cur.NotifiedAt.Time
			ok := within(paged, due)
			if back, wasDown := restartAfter(due); wasDown {
				lateDue++
				ok = within(paged, back) // as soon as the restarted operator looks
			} else if back, killed := killedSoonAfter(due); killed {
				ok = ok || within(paged, back)
			}
			if !ok {
				t.Errorf("%s level %d was due at %s and was paged at %s; downtimes %v",
					inc.Name, lvl, due.Format("15:04:05.000"), paged.Format(time.TimeOnly), downtimes)
			}
		}
	}
	if lateDue == 0 {
		t.Errorf("no escalation fell due while the operator was down: the test proves nothing about persisted deadlines")
	}

	// A mail is sent twice only when the operator died between sending it
	// and recording it sent: the two copies straddle a kill.
	mails := tm.mails(t)
	duplicates := 0
	for _, name := range names {
		for _, person := range []string{"alice", "bob", "carol"} {
			times := mails[name+" "+person]
			switch len(times) {
			case 1:
			case 2:
				duplicates++
				// The first copy went out before a kill, and the send was
				// recorded only after it: a send recorded before the kill
				// and made again would be the bug.
				sentAt := sentTo(items, name, person)
				straddled := false
				for _, d := range downtimes {
					straddled = straddled || (times[0].Before(d.from.Add(time.Second)) && times[1].After(d.from) &&
						!sentAt.Before(d.from.Truncate(time.Second)))
				}
				if !straddled {
					t.Errorf("%s mailed %s twice, at %s and %s, recorded sent at %s: no kill fell between a send and its record",
						name, person, times[0].Format("15:04:05.000"), times[1].Format("15:04:05.000"), sentAt.Format(time.TimeOnly))
				}
			default:
				t.Errorf("%s mailed %s %d times, want once (twice only across a kill)", name, person, len(times))
			}
		}
	}
	if limit := len(schedule) * workers; duplicates > limit {
		t.Errorf("%d mails were sent twice; at most %d sends can be in flight at the kills", duplicates, limit)
	}
	t.Logf("%d incidents, 3 levels each; %d escalations fell due while the operator was down; %d of %d mails sent twice across a kill",
		incidents, lateDue, duplicates, 3*incidents)
}

// sentTo is when the delivery to person of the incident titled title was
// recorded sent; zero when it was not.
func sentTo(items []klaxonv1alpha1.Incident, title, person string) time.Time {
	for i := range items {
		if items[i].Spec.Title != title {
			continue
		}
		for _, n := range items[i].Status.Notifications {
			if n.Responder == person && n.SentAt != nil {
				return n.SentAt.Time
			}
		}
	}
	return time.Time{}
}

// slowRelay forwards SMTP connections to target after holding each for
// delay, so that sends are in flight when the operator is killed.
func slowRelay(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				time.Sleep(delay)
				upstream, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer func() { _ = upstream.Close() }()
				go func() { _, _ = io.Copy(upstream, conn) }()
				_, _ = io.Copy(conn, upstream)
			}()
		}
	}()
	return ln.Addr().String()
}
