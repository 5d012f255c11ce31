package fallback

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// Bounds on what the Pager keeps and says.
const (
	// MaxGroups bounds the waiting groups kept; more are counted as "more
	// than" this many.
	MaxGroups = 1000
	// MaxKeyBytes and MaxTitleBytes bound a waiting group's key and title.
	MaxKeyBytes   = 512
	MaxTitleBytes = 256
	// ShownTitles is how many titles an outage message lists.
	ShownTitles = 5
	// MaxSelfDelay bounds the random wait of a replica that cannot reach
	// the leader before it sends itself, so that replicas in that state
	// rarely send at the same moment.
	MaxSelfDelay = 5 * time.Second
	// retryAfter is the least time between two attempts of a message that
	// failed.
	retryAfter = 30 * time.Second
	// RecoverAfter is how long the API server must answer every probe
	// before the outage counts as over: one that keeps restarting answers
	// a probe now and then, and each of those must neither end the outage
	// (no message ever, or one per restart) nor drop the waiting groups.
	RecoverAfter = 15 * time.Second
	// leaderFailures and leaderFailedFor: a follower sends itself only once
	// this many forwards in a row failed, the first at least this long
	// before the last, so one lost request does not make a second message.
	leaderFailures  = 2
	leaderFailedFor = 5 * time.Second
)

// forwardOutcome is how a forward to the leader ended.
type forwardOutcome int

const (
	// forwardDelivered: the leader holds the groups.
	forwardDelivered forwardOutcome = iota
	// forwardBusy: the leader answered but could not read them now; it is
	// alive, so the groups go again on the next tick.
	forwardBusy
	// forwardFailed: the leader did not take them (no answer, an error,
	// or it is not the leader).
	forwardFailed
)

// Group is a notification the receiver could not record: its group's key
// and its incident's title.
type Group struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

type entry struct {
	title string
	// at is when the group was last noted.
	at time.Time
}

// tracker decides, without any I/O, what the Pager does: when the API
// server went away, which groups wait, when to send, forward or say that
// it is back. Every method takes the time it is called at.
type tracker struct {
	after, repeat time.Duration
	// jitter picks the wait of a replica that sends itself, in
	// [0, MaxSelfDelay].
	jitter func() time.Duration

	// lastOK is the last successful probe outside an outage; downSince
	// the first failure after it, zero while the API server is reachable.
	// upSince is the first of the successful probes in a row during an
	// outage, zero after a failure: the outage ends RecoverAfter later.
	lastOK, downSince, upSince time.Time
	groups                     map[string]entry
	// overflow says groups were left out at MaxGroups.
	overflow bool

	// sent counts the outage messages this replica sent in this outage;
	// lastSent is the last, lastAttempt the last try, failed or not.
	sent                  int
	lastSent, lastAttempt time.Time
	// selfAt is when a replica that cannot hand over to a leader sends
	// itself; zero until it is picked.
	selfAt time.Time
	// forwardedUpTo: groups noted after it were not yet forwarded to the
	// leader. failures counts the forwards in a row that failed, the first
	// at failedSince.
	forwardedUpTo time.Time
	failures      int
	failedSince   time.Time
}

func newTracker(after, repeat time.Duration, jitter func() time.Duration) *tracker {
	return &tracker{after: after, repeat: repeat, jitter: jitter, groups: map[string]entry{}}
}

// clean makes s valid UTF-8 on one line, without control characters:
// what is left costs at most 2 bytes of JSON per byte (a quote or a
// backslash), which MaxForwardBytes counts on.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	// Fields also drops U+2028 and U+2029, which JSON escapes.
	return strings.Join(strings.Fields(s), " ")
}

// oneLine makes s clean and at most n bytes.
func oneLine(s string, n int) string {
	return bounded.Bytes(clean(s), n)
}

// groupKey makes a group's key clean and at most MaxKeyBytes; a longer
// key keeps its start and a digest of the whole, so that two keys that
// differ only past the cut stay two groups.
func groupKey(key string) string {
	key = clean(key)
	if len(key) <= MaxKeyBytes {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return bounded.Bytes(key, MaxKeyBytes-17) + "~" + hex.EncodeToString(sum[:8])
}

// note remembers a group that could not be recorded.
func (t *tracker) note(now time.Time, g Group) {
	key := groupKey(g.Key)
	if key == "" {
		return
	}
	if _, ok := t.groups[key]; !ok && len(t.groups) >= MaxGroups {
		t.prune()
		if len(t.groups) >= MaxGroups {
			t.overflow = true
			return
		}
	}
	t.groups[key] = entry{title: oneLine(g.Title, MaxTitleBytes), at: now}
}

// prune drops the groups noted before the API server was last reached:
// they were recorded since, or their senders retry them.
func (t *tracker) prune() {
	for k, e := range t.groups {
		if !e.at.After(t.lastOK) {
			delete(t.groups, k)
		}
	}
}

// observe takes a probe's result, and reports whether the outage has just
// ended (the API server answered every probe for RecoverAfter) after this
// replica sent an outage message, which then owes the message that it is
// back. A shorter spell of answers keeps the outage as it is: its start,
// its messages, its repeat clock and its waiting groups.
func (t *tracker) observe(now time.Time, reachable bool) (recovered bool) {
	if !reachable {
		t.upSince = time.Time{}
		if t.downSince.IsZero() {
			t.downSince = now
		}
		return false
	}
	if !t.downSince.IsZero() {
		if t.upSince.IsZero() {
			t.upSince = now
		}
		if now.Sub(t.upSince) < RecoverAfter {
			return false
		}
	}
	recovered = !t.downSince.IsZero() && t.sent > 0
	t.lastOK = now
	t.downSince, t.upSince = time.Time{}, time.Time{}
	t.sent, t.lastSent, t.lastAttempt, t.selfAt = 0, time.Time{}, time.Time{}, time.Time{}
	t.failures, t.failedSince, t.overflow = 0, time.Time{}, false
	t.prune()
	return recovered
}

// leaderFailed says forwarding to the leader has failed for long enough
// that this replica should send itself.
func (t *tracker) leaderFailed(now time.Time) bool {
	return t.failures >= leaderFailures && now.Sub(t.failedSince) >= leaderFailedFor
}

// waiting returns the groups noted since the API server was last reached,
// first noted first.
func (t *tracker) waiting() []Group {
	type noted struct {
		Group
		at time.Time
	}
	var list []noted
	for k, e := range t.groups {
		if e.at.After(t.lastOK) {
			list = append(list, noted{Group{Key: k, Title: e.title}, e.at})
		}
	}
	slices.SortFunc(list, func(a, b noted) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	out := make([]Group, len(list))
	for i := range list {
		out[i] = list[i].Group
	}
	return out
}

// waitingCount is how many groups waiting returns.
func (t *tracker) waitingCount() int {
	n := 0
	for _, e := range t.groups {
		if e.at.After(t.lastOK) {
			n++
		}
	}
	return n
}

// plan is what the Pager does on one tick.
type plan struct {
	// forward are the groups to hand to the leader, noted up to upTo.
	forward []Group
	upTo    time.Time
	// send says to send the outage message about waiting.
	send    bool
	waiting []Group
}

// plan decides this tick's work. self says this replica is the leader (or
// the only one); peer is the leader's receiver address, "" if unknown.
func (t *tracker) plan(now time.Time, self bool, peer string) plan {
	var p plan
	if t.downSince.IsZero() {
		return p
	}
	waiting := t.waiting()
	handOver := !self && peer != ""
	if handOver {
		for _, g := range waiting {
			if t.groups[g.Key].at.After(t.forwardedUpTo) {
				p.forward = append(p.forward, g)
			}
		}
		p.upTo = now
	}
	// While the API server answers again, wait to see whether it stays.
	if len(waiting) == 0 || now.Sub(t.downSince) < t.after || !t.upSince.IsZero() {
		return p
	}
	if handOver && !t.leaderFailed(now) {
		return p
	}
	if !self {
		if t.selfAt.IsZero() {
			t.selfAt = now.Add(min(max(t.jitter(), 0), MaxSelfDelay))
		}
		if now.Before(t.selfAt) {
			return p
		}
	}
	if !t.lastAttempt.IsZero() && now.Sub(t.lastAttempt) < retryAfter {
		return p
	}
	if t.sent > 0 && now.Sub(t.lastSent) < t.repeat {
		return p
	}
	p.send, p.waiting = true, waiting
	return p
}

// sendResult records an outage message's send.
func (t *tracker) sendResult(now time.Time, ok bool) {
	t.lastAttempt = now
	if ok {
		t.sent++
		t.lastSent = now
	}
}

// forwardResult records how a forward of the groups noted up to upTo,
// made at now, ended. A delivered one clears the failures and the time
// picked to send itself: the leader sends.
func (t *tracker) forwardResult(now, upTo time.Time, o forwardOutcome) {
	switch o {
	case forwardDelivered:
		t.forwardedUpTo = upTo
		t.failures, t.failedSince, t.selfAt = 0, time.Time{}, time.Time{}
	case forwardFailed:
		if t.failures == 0 {
			t.failedSince = now
		}
		t.failures++
	case forwardBusy:
	}
}

// Names of the fallback's messages, in the alert's incident label.
const (
	outageName    = "kube-apiserver-unreachable"
	recoveredName = "kube-apiserver-reachable"
)

// outageMessage is the outage message: its title (the alert's summary, a
// mail's first line) says since when and how many groups wait, its impact
// (the description) lists the first few titles. round numbers the
// messages of one outage, so each is a new page for notifiers that
// deduplicate (PagerDuty, Opsgenie) rather than folded into the last.
func outageMessage(since, now time.Time, waiting []Group, overflow bool, round int) *notify.Message {
	count := fmt.Sprintf("%d alert groups are", len(waiting))
	switch {
	case overflow:
		count = fmt.Sprintf("more than %d alert groups are", len(waiting))
	case len(waiting) == 1:
		count = "1 alert group is"
	}
	var b strings.Builder
	b.WriteString("Waiting:\n")
	for i, g := range waiting {
		if i == ShownTitles {
			fmt.Fprintf(&b, "- and %d more\n", len(waiting)-ShownTitles)
			break
		}
		title := g.Title
		if title == "" {
			title = g.Key
		}
		fmt.Fprintf(&b, "- %s\n", title)
	}
	b.WriteString("Klaxon cannot record these notifications; their senders retry, and Klaxon pages for them once the API server is back.")
	return &notify.Message{
		Incident: notify.Incident{
			Name:        outageName,
			UID:         "fallback-" + since.UTC().Format("20060102T150405Z"),
			Title:       fmt.Sprintf("Klaxon cannot reach the Kubernetes API server since %s; %s waiting", since.UTC().Format(time.RFC3339), count),
			Severity:    "SEV1",
			Service:     "klaxon",
			Impact:      b.String(),
			Phase:       "Triggered",
			TriggeredAt: since,
		},
		Page:   notify.Page{Round: int32(round)},
		SentAt: now,
	}
}

// recoveredMessage says the API server is back: it answered from back on,
// unreachable since since.
func recoveredMessage(since, back, now time.Time) *notify.Message {
	return &notify.Message{
		Incident: notify.Incident{
			Name:        recoveredName,
			UID:         "fallback-" + since.UTC().Format("20060102T150405Z"),
			Title:       "API server reachable again; paging resumed",
			Severity:    "SEV1",
			Service:     "klaxon",
			Impact:      fmt.Sprintf("Klaxon could not reach the Kubernetes API server from %s to %s.", since.UTC().Format(time.RFC3339), back.UTC().Format(time.RFC3339)),
			Phase:       "Resolved",
			TriggeredAt: now,
		},
		SentAt: now,
	}
}
