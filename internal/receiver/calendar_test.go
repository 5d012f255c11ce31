package receiver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/acklink"
	"github.com/klaxon-dev/klaxon/internal/metrics"
	"github.com/klaxon-dev/klaxon/internal/notice"
	"github.com/klaxon-dev/klaxon/internal/receiver"
)

// calendarNow is the receivers' time in the calendar tests: four days
// before Europe/Berlin moves to summer time (2027-03-28), which falls
// inside every feed's window.
var calendarNow = time.Date(2027, 3, 24, 12, 0, 0, 0, time.UTC)

// calendarReceiver serves a receiver whose clock stands at calendarNow.
func calendarReceiver(t *testing.T) string {
	t.Helper()
	return newReceiver(t, nil, func(o *receiver.Options) { o.Clock = testingclock.NewFakePassiveClock(calendarNow) }).URL
}

// calendarFixture creates, in a new namespace, the schedule
// payments-primary (alice and bob, a day each from 09:00 in Berlin), an
// override putting erin in alice's place on 2 April 12:00-18:00 UTC, and
// the schedule pairs (carol and dave together, then frank, a week each);
// carol has a display name. It waits until the cache has them all.
func calendarFixture(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := newNamespace(t)
	if err := cluster.GrantSecretAccess(ctx, ns); err != nil {
		t.Fatal(err)
	}
	day := metav1.Duration{Duration: 24 * time.Hour}
	objs := []client.Object{
		&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "payments-primary", Namespace: ns},
			Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{
				{Name: "days", Participants: []string{"alice", "bob"}, Start: "2027-03-01T09:00:00", Shift: day},
			}}},
		&klaxonv1alpha1.OnCallSchedule{ObjectMeta: metav1.ObjectMeta{Name: "pairs", Namespace: ns},
			Spec: klaxonv1alpha1.OnCallScheduleSpec{TimeZone: "Europe/Berlin", Layers: []klaxonv1alpha1.ScheduleLayer{
				{Name: "weeks", Groups: []klaxonv1alpha1.ScheduleGroup{{Members: []string{"carol", "dave"}}, {Members: []string{"frank"}}},
					Start: "2027-03-01T09:00:00", Shift: metav1.Duration{Duration: 7 * 24 * time.Hour}},
			}}},
		&klaxonv1alpha1.OnCallOverride{ObjectMeta: metav1.ObjectMeta{Name: "erin-covers", Namespace: ns},
			Spec: klaxonv1alpha1.OnCallOverrideSpec{ScheduleRef: klaxonv1alpha1.LocalObjectReference{Name: "payments-primary"},
				Replace: &klaxonv1alpha1.OverrideReplacement{User: "alice", With: "erin"},
				Start:   metav1.NewTime(time.Date(2027, 4, 2, 12, 0, 0, 0, time.UTC)),
				End:     metav1.NewTime(time.Date(2027, 4, 2, 18, 0, 0, 0, time.UTC))}},
		&klaxonv1alpha1.Responder{ObjectMeta: metav1.ObjectMeta{Name: "carol", Namespace: ns},
			Spec: klaxonv1alpha1.ResponderSpec{DisplayName: "Carol Smith"}},
	}
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the cache to see the schedules, the override and the responder", func(ctx context.Context) (bool, error) {
		for _, o := range objs {
			if err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(o), o.DeepCopyObject().(client.Object)); err != nil {
				return false, client.IgnoreNotFound(err)
			}
		}
		return true, nil
	})
	return ns
}

// feedKey gives the feed a new key in the namespace's calendar keys Secret
// (creating it) and returns the feed's path with a token signed by it.
func feedKey(t *testing.T, ns, kind, name string) string {
	t.Helper()
	ctx := context.Background()
	key := acklink.NewCalendarKey()
	entry := acklink.CalendarKeyName(kind, name)
	var secret corev1.Secret
	err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: acklink.CalendarKeysSecret}, &secret)
	switch {
	case err == nil:
		secret.Data[entry] = key
		err = k8s.Update(ctx, &secret)
	case client.IgnoreNotFound(err) == nil:
		err = k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: acklink.CalendarKeysSecret, Namespace: ns, Labels: map[string]string{acklink.CalendarKeysLabel: "true"}},
			Data:       map[string][]byte{entry: key},
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return feedPath(t, key, acklink.CalendarClaims{Namespace: ns, Kind: kind, Name: name})
}

// feedPath is the path of the feed c with a token signed by key
// (CalendarURL under an empty public URL).
func feedPath(t *testing.T, key []byte, c acklink.CalendarClaims) string {
	t.Helper()
	signer, err := acklink.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return signer.CalendarURL("", c)
}

// getNewFeed reads a feed whose key was just made: the receiver rereads
// the keys for a token that fails at most every quarter second.
func getNewFeed(t *testing.T, url string) fetched {
	t.Helper()
	var got fetched
	pollUntil(t, "a new key to work", func() bool {
		got = getFeed(t, http.MethodGet, url, nil)
		return got.code == http.StatusOK
	})
	return got
}

// fetched is one answer of the receiver.
type fetched struct {
	code   int
	header http.Header
	body   string
}

func getFeed(t *testing.T, method, url string, header map[string]string) fetched {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fetched{code: resp.StatusCode, header: resp.Header, body: string(body)}
}

// vevent is an event as a calendar client reads it.
type vevent struct {
	uid, summary, description string
	start, end                time.Time
	sequence                  int
}

// parseCalendar parses a feed with a real iCalendar parser, checks the
// properties RFC 5545 requires of a calendar and of each event, and
// returns the events.
func parseCalendar(t *testing.T, body string) []vevent {
	t.Helper()
	if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
		t.Errorf("a line of the feed does not end with CRLF")
	}
	cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("parsing the feed: %v\n%s", err, body)
	}
	for _, p := range []string{ical.PropVersion, ical.PropProductID} {
		if cal.Props.Get(p) == nil {
			t.Errorf("the calendar has no %s", p)
		}
	}
	if v := cal.Props.Get(ical.PropVersion); v != nil && v.Value != "2.0" {
		t.Errorf("VERSION = %q", v.Value)
	}
	var out []vevent
	for _, e := range cal.Events() {
		for _, p := range []string{ical.PropUID, ical.PropDateTimeStamp, ical.PropDateTimeStart} {
			if e.Props.Get(p) == nil {
				t.Errorf("an event has no %s", p)
			}
		}
		var v vevent
		var errs []error
		v.uid, err = e.Props.Text(ical.PropUID)
		errs = append(errs, err)
		v.summary, err = e.Props.Text(ical.PropSummary)
		errs = append(errs, err)
		v.description, err = e.Props.Text(ical.PropDescription)
		errs = append(errs, err)
		v.start, err = e.DateTimeStart(nil)
		errs = append(errs, err)
		v.end, err = e.DateTimeEnd(nil)
		errs = append(errs, err)
		v.sequence, err = e.Props.Get(ical.PropSequence).Int()
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("reading an event: %v", err)
			}
		}
		if !strings.HasSuffix(e.Props.Get(ical.PropDateTimeStart).Value, "Z") || !strings.HasSuffix(e.Props.Get(ical.PropDateTimeEnd).Value, "Z") {
			t.Errorf("event %s is not in UTC", v.uid)
		}
		out = append(out, v)
	}
	return out
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// A responder's feed holds their shifts at the right instants across a
// change to summer time, and the override that gives one to someone else.
func TestCalendarResponderFeed(t *testing.T) {
	ns := calendarFixture(t)
	base := calendarReceiver(t)
	alice := getFeed(t, http.MethodGet, base+feedKey(t, ns, acklink.CalendarResponder, "alice"), nil)
	if alice.code != http.StatusOK {
		t.Fatalf("alice's feed: %d %s", alice.code, alice.body)
	}
	if ct := alice.header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := alice.header.Get("Cache-Control"); cc != "private, max-age=300" {
		t.Errorf("Cache-Control = %q", cc)
	}
	events := parseCalendar(t, alice.body)
	find := func(events []vevent, start string) *vevent {
		i := slices.IndexFunc(events, func(e vevent) bool { return e.start.Equal(utc(start)) })
		if i < 0 {
			t.Fatalf("no event starts at %s", start)
		}
		return &events[i]
	}
	// 09:00 in Berlin is 08:00Z in winter, 07:00Z in summer.
	for start, end := range map[string]string{
		"2027-03-25T08:00:00Z": "2027-03-26T08:00:00Z",
		"2027-03-27T08:00:00Z": "2027-03-28T07:00:00Z",
		"2027-03-29T07:00:00Z": "2027-03-30T07:00:00Z",
	} {
		e := find(events, start)
		if !e.end.Equal(utc(end)) {
			t.Errorf("the shift from %s ends at %s, want %s", start, e.end, end)
		}
		if e.summary != "On call: payments-primary" {
			t.Errorf("SUMMARY = %q", e.summary)
		}
		if want := "Schedule: " + ns + "/payments-primary\nTakes over from: bob\nHands over to: bob"; e.description != want {
			t.Errorf("DESCRIPTION = %q, want %q", e.description, want)
		}
	}
	// erin takes 12:00-18:00 of alice's shift of 2 April.
	find(events, "2027-04-02T07:00:00Z")
	if e := find(events, "2027-04-02T18:00:00Z"); !strings.Contains(e.description, "Takes over from: erin") {
		t.Errorf("the rest of alice's shift after the override: %q", e.description)
	}
	for _, e := range events {
		if e.summary != "On call: payments-primary" {
			t.Errorf("alice's feed has %q", e.summary)
		}
	}

	erin := parseCalendar(t, getNewFeed(t, base+feedKey(t, ns, acklink.CalendarResponder, "erin")).body)
	if len(erin) != 1 {
		t.Fatalf("erin has %d shifts, want the override's", len(erin))
	}
	e := erin[0]
	if !e.start.Equal(utc("2027-04-02T12:00:00Z")) || !e.end.Equal(utc("2027-04-02T18:00:00Z")) ||
		e.description != "Schedule: "+ns+"/payments-primary\nTakes over from: alice\nHands over to: alice" {
		t.Errorf("erin's shift: %+v", e)
	}
	if slices.ContainsFunc(events, func(a vevent) bool { return a.uid == e.uid }) {
		t.Errorf("the override's shift has the UID of one of alice's")
	}
	// The UIDs stay when the feed is read again a day later.
	later := newReceiver(t, nil, func(o *receiver.Options) {
		o.Clock = testingclock.NewFakePassiveClock(calendarNow.Add(24 * time.Hour))
	}).URL
	again := parseCalendar(t, getFeed(t, http.MethodGet, later+feedKey(t, ns, acklink.CalendarResponder, "alice"), nil).body)
	if a, b := find(events, "2027-03-29T07:00:00Z"), find(again, "2027-03-29T07:00:00Z"); a.uid != b.uid {
		t.Errorf("the UID of a shift changed from one day to the next: %s, %s", a.uid, b.uid)
	}
}

// A schedule's feed holds everyone's shifts: each member of a group has
// an event of their own, titled with their display name when they have one.
func TestCalendarScheduleFeedOfAGroup(t *testing.T) {
	ns := calendarFixture(t)
	base := calendarReceiver(t)
	got := getFeed(t, http.MethodGet, base+feedKey(t, ns, acklink.CalendarSchedule, "pairs")+"&weeks=2", nil)
	if got.code != http.StatusOK {
		t.Fatalf("%d %s", got.code, got.body)
	}
	var lines []string
	for _, e := range parseCalendar(t, got.body) {
		lines = append(lines, e.start.Format(time.RFC3339)+" "+e.end.Format(time.RFC3339)+" "+e.summary+" | "+strings.ReplaceAll(e.description, "\n", " | "))
	}
	sched := "Schedule: " + ns + "/pairs"
	want := []string{
		// The window starts a week before today's midnight, 17 March; the
		// shift in progress then keeps its own start, 15 March.
		"2027-03-15T08:00:00Z 2027-03-22T08:00:00Z On call: Carol Smith | " + sched + " | Takes over from: frank | Hands over to: frank | With: dave",
		"2027-03-15T08:00:00Z 2027-03-22T08:00:00Z On call: dave | " + sched + " | Takes over from: frank | Hands over to: frank | With: carol",
		"2027-03-22T08:00:00Z 2027-03-29T07:00:00Z On call: frank | " + sched + " | Takes over from: carol, dave | Hands over to: carol, dave",
		"2027-03-29T07:00:00Z 2027-04-05T07:00:00Z On call: Carol Smith | " + sched + " | Takes over from: frank | Hands over to: frank | With: dave",
		"2027-03-29T07:00:00Z 2027-04-05T07:00:00Z On call: dave | " + sched + " | Takes over from: frank | Hands over to: frank | With: carol",
		// The window ends two weeks from today's midnight, 7 April; the
		// shift across its end keeps its own end.
		"2027-04-05T07:00:00Z 2027-04-12T07:00:00Z On call: frank | " + sched + " | Takes over from: carol, dave | Hands over to: carol, dave",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("the feed of pairs:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// settledRevision waits until the schedule controller has recorded the
// schedule's shifts for its spec and overrides as they are now, and the
// receiver's cache shows it, and returns their revision.
func settledRevision(t *testing.T, key client.ObjectKey) int64 {
	t.Helper()
	var s klaxonv1alpha1.OnCallSchedule
	eventually(t, "the schedule's shifts recorded for its spec and overrides", func(ctx context.Context) (bool, error) {
		var live klaxonv1alpha1.OnCallSchedule
		var overrides klaxonv1alpha1.OnCallOverrideList
		if err := k8s.Get(ctx, key, &live); err != nil {
			return false, err
		}
		if err := k8s.List(ctx, &overrides, client.InNamespace(key.Namespace)); err != nil {
			return false, err
		}
		if err := mgr.GetClient().Get(ctx, key, &s); err != nil {
			return false, err
		}
		want := notice.Inputs(key.Name, &live.Spec, overrides.Items)
		return s.Status.Shifts != nil && s.Status.Shifts.Inputs == want && s.ResourceVersion == live.ResourceVersion, nil
	})
	return s.Status.Shifts.Revision
}

// An unchanged feed costs a 304; an edit of the schedule, which the
// schedule controller records as a new revision of its shifts, changes
// the ETag and every event's SEQUENCE.
func TestCalendarConditionalGetAndSequence(t *testing.T) {
	ns := calendarFixture(t)
	base := calendarReceiver(t)
	key := client.ObjectKey{Namespace: ns, Name: "payments-primary"}
	revision := settledRevision(t, key)
	url := base + feedKey(t, ns, acklink.CalendarSchedule, "payments-primary")
	first := getFeed(t, http.MethodGet, url, nil)
	etag := first.header.Get("ETag")
	if first.code != http.StatusOK || etag == "" {
		t.Fatalf("%d, ETag %q", first.code, etag)
	}
	for _, e := range parseCalendar(t, first.body) {
		if int64(e.sequence) != revision {
			t.Fatalf("SEQUENCE %d, want the recorded revision, %d", e.sequence, revision)
		}
	}
	notModified := testutil.ToFloat64(metrics.CalendarRequests.WithLabelValues(metrics.CalendarNotModified))
	again := getFeed(t, http.MethodGet, url, map[string]string{"If-None-Match": etag})
	if got := testutil.ToFloat64(metrics.CalendarRequests.WithLabelValues(metrics.CalendarNotModified)); got != notModified+1 {
		t.Errorf("klaxon_calendar_requests_total{answer=\"not_modified\"} went from %v to %v", notModified, got)
	}
	if again.code != http.StatusNotModified || again.body != "" || again.header.Get("ETag") != etag {
		t.Errorf("the same feed again: %d, ETag %q, body %q", again.code, again.header.Get("ETag"), again.body)
	}
	head := getFeed(t, http.MethodHead, url, nil)
	if head.code != http.StatusOK || head.body != "" || head.header.Get("ETag") != etag {
		t.Errorf("HEAD: %d, ETag %q, body %q", head.code, head.header.Get("ETag"), head.body)
	}

	// An edit: the layer hands over an hour later.
	ctx := context.Background()
	var s klaxonv1alpha1.OnCallSchedule
	if err := k8s.Get(ctx, key, &s); err != nil {
		t.Fatal(err)
	}
	s.Spec.Layers[0].Start = "2027-03-01T10:00:00"
	if err := k8s.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	edited := settledRevision(t, key)
	if edited <= revision {
		t.Fatalf("the edit left the revision at %d, from %d", edited, revision)
	}
	var changed fetched
	eventually(t, "the feed to answer anew at the new revision", func(context.Context) (bool, error) {
		changed = getFeed(t, http.MethodGet, url, map[string]string{"If-None-Match": etag})
		if changed.code != http.StatusOK {
			return false, nil
		}
		events := parseCalendar(t, changed.body)
		return len(events) > 0 && int64(events[0].sequence) == edited, nil
	})
	if changed.header.Get("ETag") == etag {
		t.Errorf("the ETag did not change")
	}
	handsOverAtTen := false
	for _, e := range parseCalendar(t, changed.body) {
		if int64(e.sequence) != edited {
			t.Errorf("SEQUENCE %d, want the new revision, %d", e.sequence, edited)
		}
		// 10:00 in Berlin, in winter time or in summer time.
		handsOverAtTen = handsOverAtTen || e.start.In(berlin(t)).Hour() == 10
	}
	if !handsOverAtTen {
		t.Errorf("no shift starts at 10:00 in Berlin after the edit")
	}
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// A forged token, another feed's, and one whose key was replaced are
// answered alike; a flood of bad tokens from one address is answered 429.
func TestCalendarTokens(t *testing.T) {
	ns := calendarFixture(t)
	base := calendarReceiver(t)
	alice := feedKey(t, ns, acklink.CalendarResponder, "alice")
	bob := feedKey(t, ns, acklink.CalendarResponder, "bob")
	if got := getFeed(t, http.MethodGet, base+alice, nil); got.code != http.StatusOK {
		t.Fatalf("alice's feed: %d %s", got.code, got.body)
	}
	_, bobToken, _ := strings.Cut(bob, "?token=")
	refusals := map[string]string{
		"forged":        feedPath(t, bytes.Repeat([]byte{7}, 32), acklink.CalendarClaims{Namespace: ns, Kind: acklink.CalendarResponder, Name: "alice"}),
		"another feed":  "/calendar/" + ns + "/responder/alice.ics?token=" + bobToken,
		"as a schedule": "/calendar/" + ns + "/schedule/alice.ics?token=" + strings.SplitN(alice, "?token=", 2)[1],
		"no token":      "/calendar/" + ns + "/responder/alice.ics",
		"no keys":       "/calendar/default/responder/alice.ics?token=" + bobToken,
	}
	// Replacing alice's key revokes her old link within seconds.
	newAlice := feedKey(t, ns, acklink.CalendarResponder, "alice")
	var rotated fetched
	pollUntil(t, "the old link to stop working", func() bool {
		rotated = getFeed(t, http.MethodGet, base+alice, nil)
		return rotated.code != http.StatusOK
	})
	if got := getFeed(t, http.MethodGet, base+newAlice, nil); got.code != http.StatusOK {
		t.Errorf("the new link: %d %s", got.code, got.body)
	}
	if got := getFeed(t, http.MethodGet, base+bob, nil); got.code != http.StatusOK {
		t.Errorf("bob's link after alice's rotation: %d %s", got.code, got.body)
	}
	answers := map[string]fetched{"rotated": rotated}
	for name, path := range refusals {
		answers[name] = getFeed(t, http.MethodGet, base+path, nil)
	}
	for name, a := range answers {
		if a.code != http.StatusForbidden || a.body != answers["rotated"].body {
			t.Errorf("%s: %d %q, want 403 %q", name, a.code, a.body, answers["rotated"].body)
		}
	}

	// Six failures so far; the limit lets ten through at once.
	var codes []int
	for range 10 {
		codes = append(codes, getFeed(t, http.MethodGet, base+refusals["forged"], nil).code)
	}
	if !slices.Contains(codes, http.StatusTooManyRequests) {
		t.Errorf("a flood of bad tokens was answered %v, never 429", codes)
	}
	// A good link from the same address is not a failure and still works.
	if got := getFeed(t, http.MethodGet, base+newAlice, nil); got.code != http.StatusOK {
		t.Errorf("a good link during the flood: %d", got.code)
	}
}

// Wrong methods and weeks are answered with a sentence.
func TestCalendarBadRequests(t *testing.T) {
	ns := calendarFixture(t)
	base := calendarReceiver(t)
	alice := feedKey(t, ns, acklink.CalendarResponder, "alice")
	for name, tc := range map[string]struct {
		method, path string
		code         int
	}{
		"POST":           {http.MethodPost, alice, http.StatusMethodNotAllowed},
		"weeks 0":        {http.MethodGet, alice + "&weeks=0", http.StatusBadRequest},
		"weeks 27":       {http.MethodGet, alice + "&weeks=27", http.StatusBadRequest},
		"weeks a word":   {http.MethodGet, alice + "&weeks=many", http.StatusBadRequest},
		"weeks 26":       {http.MethodGet, alice + "&weeks=26", http.StatusOK},
		"not a calendar": {http.MethodGet, strings.Replace(alice, ".ics", ".html", 1), http.StatusForbidden},
	} {
		t.Run(name, func(t *testing.T) {
			got := getFeed(t, tc.method, base+tc.path, nil)
			if got.code != tc.code {
				t.Errorf("%d %q, want %d", got.code, got.body, tc.code)
			}
			if tc.code == http.StatusMethodNotAllowed && got.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", got.header.Get("Allow"))
			}
			if tc.code == http.StatusBadRequest && !strings.Contains(got.body, "weeks must be") {
				t.Errorf("body %q", got.body)
			}
		})
	}
}

// pollUntil polls cond every quarter second for up to half a minute.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
