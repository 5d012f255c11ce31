package fallback

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// step is one event of a tracker's life: a probe, a note, or a tick
// (plan) whose outcome is checked and, when it sends, recorded as sent.
type step struct {
	at      float64
	probe   string // "ok", "fail" or ""
	note    string // a group key noted, or ""
	self    bool
	peer    string
	forward string // how a forward ends: "ok", "busy", "fail" or ""
	// wants
	recovered   bool
	send        bool
	waiting     int
	forwardKeys string
}

func TestTrackerDecisions(t *testing.T) {
	for name, steps := range map[string][]step{
		"no outage, nothing sent": {
			{at: 0, probe: "ok", self: true}, {at: 100, probe: "ok", self: true},
		},
		"an outage without waiting groups sends nothing": {
			{at: 0, probe: "ok", self: true}, {at: 2, probe: "fail", self: true}, {at: 200, probe: "fail", self: true},
			{at: 202, probe: "ok", self: true},
		},
		"a group waits, sent once After has passed": {
			{at: 0, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 3, note: "a", self: true},
			{at: 61, probe: "fail", self: true},
			{at: 62, probe: "fail", self: true, send: true, waiting: 1},
			{at: 64, probe: "fail", self: true},
			{at: 100, probe: "ok", self: true},
			{at: 114, probe: "ok", self: true},
			{at: 115, probe: "ok", self: true, recovered: true},
			{at: 117, probe: "ok", self: true},
		},
		"repeated at most every Repeat, with the new count": {
			{at: 0, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 3, note: "a"},
			{at: 62, probe: "fail", self: true, send: true, waiting: 1},
			{at: 70, note: "b"},
			{at: 62 + 899, probe: "fail", self: true},
			{at: 62 + 900, probe: "fail", self: true, send: true, waiting: 2},
			{at: 62 + 902, probe: "fail", self: true},
		},
		"a group noted before the last success does not count": {
			{at: 0, note: "old"},
			{at: 1, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 100, probe: "fail", self: true},
		},
		"a new outage starts afresh": {
			{at: 0, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 3, note: "a"},
			{at: 62, probe: "fail", self: true, send: true, waiting: 1},
			{at: 64, probe: "ok", self: true},
			{at: 79, probe: "ok", self: true, recovered: true},
			{at: 81, probe: "fail", self: true},
			{at: 82, note: "b"},
			{at: 100, probe: "fail", self: true},
			{at: 141, probe: "fail", self: true, send: true, waiting: 1},
		},
		"a short spell of answers keeps the outage, its groups and its clock": {
			{at: 0, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 3, note: "a"},
			{at: 40, probe: "ok", self: true},
			{at: 54, probe: "ok", self: true},
			{at: 56, probe: "fail", self: true},
			{at: 62, probe: "fail", self: true, send: true, waiting: 1},
			{at: 100, probe: "ok", self: true},
			{at: 102, probe: "fail", self: true},
			{at: 62 + 900, probe: "fail", self: true, send: true, waiting: 1},
		},
		"nothing is sent while the API server answers again": {
			{at: 0, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 3, note: "a"},
			{at: 60, probe: "ok", self: true},
			{at: 62, probe: "ok", self: true},
			{at: 64, probe: "fail", self: true, send: true, waiting: 1},
		},
		"a replica that did not send does not say it is back": {
			{at: 0, probe: "ok", self: true},
			{at: 2, probe: "fail", self: true},
			{at: 3, note: "a"},
			{at: 30, probe: "ok", self: true},
		},
		"a follower forwards and leaves the sending to the leader": {
			{at: 0, probe: "ok", peer: "leader:9095"},
			{at: 2, probe: "fail", peer: "leader:9095"},
			{at: 3, note: "a"},
			{at: 4, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "ok"},
			{at: 6, probe: "fail", peer: "leader:9095"},
			{at: 7, note: "b"},
			{at: 70, probe: "fail", peer: "leader:9095", forwardKeys: "b", forward: "ok"},
			{at: 200, probe: "ok", peer: "leader:9095"},
		},
		"a follower that cannot reach the leader sends after its delay": {
			{at: 0, probe: "ok", peer: "leader:9095"},
			{at: 2, probe: "fail", peer: "leader:9095"},
			{at: 3, note: "a"},
			{at: 4, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 62, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 64, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 66, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 67, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail", send: true, waiting: 1},
			{at: 80, probe: "ok", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 95, probe: "ok", peer: "leader:9095", recovered: true},
		},
		"one failed forward at a time leaves the sending to the leader": {
			{at: 0, probe: "ok", peer: "leader:9095"},
			{at: 2, probe: "fail", peer: "leader:9095"},
			{at: 3, note: "a"},
			{at: 4, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "ok"},
			{at: 61, note: "b"},
			{at: 62, probe: "fail", peer: "leader:9095", forwardKeys: "b", forward: "fail"},
			{at: 64, probe: "fail", peer: "leader:9095", forwardKeys: "b", forward: "ok"},
			{at: 66, probe: "fail", peer: "leader:9095"},
			{at: 119, note: "c"},
			{at: 120, probe: "fail", peer: "leader:9095", forwardKeys: "c", forward: "fail"},
			{at: 122, probe: "fail", peer: "leader:9095", forwardKeys: "c", forward: "ok"},
			{at: 124, probe: "fail", peer: "leader:9095"},
			{at: 200, probe: "fail", peer: "leader:9095"},
		},
		"a failure right after another is not yet sustained": {
			{at: 0, probe: "ok", peer: "leader:9095"},
			{at: 2, probe: "fail", peer: "leader:9095"},
			{at: 3, note: "a"},
			{at: 62, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 64, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 66, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 68, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 70, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail"},
			{at: 71, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "fail", send: true, waiting: 1},
		},
		"a busy leader is alive": {
			{at: 0, probe: "ok", peer: "leader:9095"},
			{at: 2, probe: "fail", peer: "leader:9095"},
			{at: 3, note: "a"},
			{at: 4, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "busy"},
			{at: 62, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "busy"},
			{at: 70, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "busy"},
			{at: 100, probe: "fail", peer: "leader:9095", forwardKeys: "a", forward: "ok"},
			{at: 200, probe: "fail", peer: "leader:9095"},
		},
		"no known leader: the replica sends itself after its delay": {
			{at: 0, probe: "ok"},
			{at: 2, probe: "fail"},
			{at: 3, note: "a"},
			{at: 62, probe: "fail"},
			{at: 65, probe: "fail", send: true, waiting: 1},
		},
	} {
		t.Run(name, func(t *testing.T) {
			tr := newTracker(time.Minute, 15*time.Minute, func() time.Duration { return 3 * time.Second })
			for i, s := range steps {
				now := at(s.at)
				if s.note != "" {
					tr.note(now, Group{Key: s.note, Title: "Title " + s.note})
					continue
				}
				if got := tr.observe(now, s.probe == "ok"); got != s.recovered {
					t.Fatalf("step %d (t=%v): recovered %v, want %v", i, s.at, got, s.recovered)
				}
				p := tr.plan(now, s.self, s.peer)
				var keys []string
				for _, g := range p.forward {
					keys = append(keys, g.Key)
				}
				if got := strings.Join(keys, ","); got != s.forwardKeys {
					t.Fatalf("step %d (t=%v): forwards %q, want %q", i, s.at, got, s.forwardKeys)
				}
				switch s.forward {
				case "ok":
					tr.forwardResult(now, p.upTo, forwardDelivered)
				case "busy":
					tr.forwardResult(now, p.upTo, forwardBusy)
				case "fail":
					tr.forwardResult(now, p.upTo, forwardFailed)
				}
				if p.send != s.send || len(p.waiting) != s.waiting {
					t.Fatalf("step %d (t=%v): send %v with %d waiting, want %v with %d", i, s.at, p.send, len(p.waiting), s.send, s.waiting)
				}
				if p.send {
					tr.sendResult(now, true)
				}
			}
		})
	}
}

// An API server that keeps restarting answers a probe now and then: the
// outage goes on through those answers, with one outage message once After
// has passed, repeats at most every Repeat, and one recovery message once
// it answers for good.
func TestTrackerFlapping(t *testing.T) {
	const (
		after, repeat = time.Minute, 15 * time.Minute
		flapEnd       = 2400.0 // the API server answers for good from here
	)
	for name, up := range map[string]func(s float64) bool{
		"one answer every 50 s":        func(s float64) bool { return int(s)%50 == 0 },
		"one answer every 70 s":        func(s float64) bool { return int(s)%70 == 0 },
		"10 s of answers every minute": func(s float64) bool { return int(s)%60 < 10 },
	} {
		t.Run(name, func(t *testing.T) {
			tr := newTracker(after, repeat, func() time.Duration { return 0 })
			var sends, recoveries []float64
			for s := 0.0; s <= flapEnd+60; s += 2 {
				now := at(s)
				ok := s == 0 || s >= flapEnd || up(s)
				if !ok && int(s)%10 == 0 {
					tr.note(now, Group{Key: fmt.Sprintf("g%d", int(s)), Title: "T"})
				}
				if tr.observe(now, ok) {
					recoveries = append(recoveries, s)
				}
				if p := tr.plan(now, true, ""); p.send {
					sends = append(sends, s)
					tr.sendResult(now, true)
				}
			}
			if len(sends) == 0 || sends[0] < 2+after.Seconds() || sends[0] > 2+after.Seconds()+12 {
				t.Fatalf("outage messages at %v s; want the first about %v s after the outage began", sends, after.Seconds())
			}
			for i := 1; i < len(sends); i++ {
				if gap := sends[i] - sends[i-1]; gap < repeat.Seconds() || gap > repeat.Seconds()+12 {
					t.Fatalf("outage messages at %v s: %v s apart, want about Repeat", sends, gap)
				}
			}
			if want := int((flapEnd-sends[0])/repeat.Seconds()) + 1; len(sends) != want {
				t.Errorf("%d outage messages (%v s), want %d", len(sends), sends, want)
			}
			if len(recoveries) != 1 || recoveries[0] < flapEnd+RecoverAfter.Seconds() || recoveries[0] > flapEnd+RecoverAfter.Seconds()+2 {
				t.Errorf("recovered at %v s, want once, %v s after %v s", recoveries, RecoverAfter.Seconds(), flapEnd)
			}
		})
	}
}

// A failed send is retried, but not on every tick.
func TestTrackerRetriesAFailedSend(t *testing.T) {
	tr := newTracker(10*time.Second, time.Hour, func() time.Duration { return 0 })
	tr.observe(at(0), true)
	tr.observe(at(1), false)
	tr.note(at(2), Group{Key: "a"})
	if p := tr.plan(at(12), true, ""); !p.send {
		t.Fatal("no send once After passed")
	}
	tr.sendResult(at(12), false)
	if p := tr.plan(at(14), true, ""); p.send {
		t.Fatal("retried 2 s after a failure")
	}
	if p := tr.plan(at(12+30), true, ""); !p.send {
		t.Fatal("not retried 30 s after a failure")
	}
}

func TestTrackerBounds(t *testing.T) {
	tr := newTracker(time.Second, time.Hour, func() time.Duration { return 0 })
	tr.observe(at(0), true)
	tr.observe(at(1), false)
	long := strings.Repeat("x", 3*MaxTitleBytes)
	for i := range MaxGroups + 10 {
		// Keys alike up to the cut and different after it stay apart.
		tr.note(at(2), Group{Key: fmt.Sprintf("ns/route/%s%d", long, i), Title: "line one\nline two " + long})
	}
	tr.note(at(2), Group{Key: "  ", Title: "no key"})
	if len(tr.groups) != MaxGroups || !tr.overflow {
		t.Fatalf("%d groups kept (overflow %v), want %d and overflow", len(tr.groups), tr.overflow, MaxGroups)
	}
	for k, e := range tr.groups {
		if len(k) > MaxKeyBytes || len(e.title) > MaxTitleBytes || strings.Contains(e.title, "\n") {
			t.Fatalf("a group kept unbounded: key %d bytes, title %q", len(k), e.title)
		}
	}
	p := tr.plan(at(3), true, "")
	m := outageMessage(tr.downSince, at(3), p.waiting, tr.overflow, 1)
	if !strings.Contains(m.Incident.Title, "more than 1000 alert groups are waiting") {
		t.Errorf("title %q does not say more than 1000", m.Incident.Title)
	}
}

func TestMessages(t *testing.T) {
	since := at(0)
	for name, tc := range map[string]struct {
		waiting   []Group
		title     string
		impact    []string
		notImpact []string
	}{
		"one group": {
			waiting: []Group{{Key: "k1", Title: "Disk full"}},
			title:   "Klaxon cannot reach the Kubernetes API server since 2026-12-07T12:00:00Z; 1 alert group is waiting",
			impact:  []string{"- Disk full\n"},
		},
		"the first five titles, then how many more": {
			waiting:   []Group{{"k1", "T1"}, {"k2", "T2"}, {"k3", "T3"}, {"k4", "T4"}, {"k5", "T5"}, {"k6", "T6"}, {"k7", "T7"}},
			title:     "Klaxon cannot reach the Kubernetes API server since 2026-12-07T12:00:00Z; 7 alert groups are waiting",
			impact:    []string{"- T1\n- T2\n- T3\n- T4\n- T5\n- and 2 more\n"},
			notImpact: []string{"T6"},
		},
		"a group without a title shows its key": {
			waiting: []Group{{Key: "ns/r/{}:{alertname=\"X\"}"}},
			title:   "Klaxon cannot reach the Kubernetes API server since 2026-12-07T12:00:00Z; 1 alert group is waiting",
			impact:  []string{"- ns/r/{}:{alertname=\"X\"}\n"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			m := outageMessage(since, at(90), tc.waiting, false, 2)
			if m.Incident.Title != tc.title {
				t.Errorf("title %q, want %q", m.Incident.Title, tc.title)
			}
			for _, s := range tc.impact {
				if !strings.Contains(m.Incident.Impact, s) {
					t.Errorf("impact %q lacks %q", m.Incident.Impact, s)
				}
			}
			for _, s := range tc.notImpact {
				if strings.Contains(m.Incident.Impact, s) {
					t.Errorf("impact %q has %q", m.Incident.Impact, s)
				}
			}
			if m.Page.Round != 2 || !m.SentAt.Equal(at(90)) {
				t.Errorf("round %d sent at %s", m.Page.Round, m.SentAt)
			}
		})
	}
	r := recoveredMessage(since, at(90), at(105))
	if r.Incident.Title != "API server reachable again; paging resumed" {
		t.Errorf("recovered title %q", r.Incident.Title)
	}
	if !strings.Contains(r.Incident.Impact, "from 2026-12-07T12:00:00Z to 2026-12-07T12:01:30Z") {
		t.Errorf("recovered impact %q", r.Incident.Impact)
	}
}

func TestVerify(t *testing.T) {
	key := forwardingKey([]byte("webhook_configs: [{url: 'http://x.invalid/'}]"))
	body := []byte(`{"groups":[{"key":"a","title":"A"}]}`)
	ts := t0.Unix()
	good := sign(key, ts, body)
	for name, tc := range map[string]struct {
		now     time.Time
		ts, sig string
		body    []byte
		key     []byte
		want    error
	}{
		"valid":              {now: t0, ts: fmt.Sprint(ts), sig: good, body: body, key: key},
		"valid, 60 s late":   {now: t0.Add(60 * time.Second), ts: fmt.Sprint(ts), sig: good, body: body, key: key},
		"stale":              {now: t0.Add(61 * time.Second), ts: fmt.Sprint(ts), sig: good, body: body, key: key, want: errStale},
		"from the future":    {now: t0.Add(-61 * time.Second), ts: fmt.Sprint(ts), sig: good, body: body, key: key, want: errStale},
		"no timestamp":       {now: t0, sig: good, body: body, key: key, want: errStale},
		"another body":       {now: t0, ts: fmt.Sprint(ts), sig: good, body: []byte(`{"groups":[]}`), key: key, want: errSignature},
		"another timestamp":  {now: t0, ts: fmt.Sprint(ts + 1), sig: good, body: body, key: key, want: errSignature},
		"another file's key": {now: t0, ts: fmt.Sprint(ts), sig: good, body: body, key: forwardingKey([]byte("other")), want: errSignature},
		"not hex":            {now: t0, ts: fmt.Sprint(ts), sig: "zz", body: body, key: key, want: errSignature},
		"no signature":       {now: t0, ts: fmt.Sprint(ts), body: body, key: key, want: errSignature},
	} {
		t.Run(name, func(t *testing.T) {
			if got := verify(tc.key, tc.now, tc.ts, tc.sig, tc.body); !errors.Is(got, tc.want) {
				t.Errorf("verify = %v, want %v", got, tc.want)
			}
		})
	}
}
