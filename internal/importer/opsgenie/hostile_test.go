package opsgenie

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

var testWindow = importer.Window{From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}

// answers builds a directory of saved answers.
type answers struct {
	t   testing.TB
	dir string
}

func newAnswers(t testing.TB) *answers {
	t.Helper()
	a := &answers{t: t, dir: t.TempDir()}
	if err := importer.WriteManifest(a.dir, importer.Manifest{Source: "opsgenie", Window: testWindow}); err != nil {
		t.Fatal(err)
	}
	return a
}

// put saves data as the answer of path?query, in Opsgenie's envelope.
func (a *answers) put(path string, query url.Values, data any) {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"data": data, "took": 0.01, "requestId": "r"})
	if err != nil {
		a.t.Fatal(err)
	}
	a.raw(path, query, body)
}

func (a *answers) raw(path string, query url.Values, body []byte) {
	a.t.Helper()
	if err := os.WriteFile(filepath.Join(a.dir, importer.FileName(path, query)), body, 0o644); err != nil {
		a.t.Fatal(err)
	}
}

var firstPage = url.Values{"limit": {"100"}, "offset": {"0"}}

// users saves one page of users, each without contacts or rules.
func (a *answers) users(list ...user) {
	a.put("users", firstPage, list)
	for _, u := range list {
		if usableID(u.ID) {
			a.put("users/"+u.ID+"/contacts", nil, []contact{})
			a.put("users/"+u.ID+"/notification-rules", nil, []notificationRuleSummary{})
		}
	}
}

// schedules saves the schedules, each without overrides and with an empty
// timeline.
func (a *answers) schedules(list ...schedule) {
	a.put("schedules", url.Values{"expand": {"rotation"}}, list)
	for _, s := range list {
		if usableID(s.ID) {
			a.put("schedules/"+s.ID+"/overrides", nil, []override{})
			a.put("schedules/"+s.ID+"/timeline", timelineQuery(testWindow), timelineOver(testWindow))
		}
	}
}

// timelineOver is an empty timeline of the weeks timelineQuery asks for.
func timelineOver(w importer.Window) timeline {
	weeks, _ := strconv.Atoi(timelineQuery(w).Get("interval"))
	return timeline{StartDate: w.From.Format(time.RFC3339), EndDate: w.From.AddDate(0, 0, 7*weeks).Format(time.RFC3339)}
}

func (a *answers) run() (*importer.Result, error) {
	return Import(context.Background(), importer.DirSource{Dir: a.dir}, importer.Options{Window: testWindow})
}

func weekly(id string, who ...recipient) rotation {
	return rotation{ID: id, Name: id, StartDate: "2026-11-30T08:00:00Z", Type: "weekly", Length: 1, Participants: who}
}

func copyDir(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTruncatedAnswers cuts each answer of the team fixture short in turn:
// the import fails with an error naming the answer, and so writes nothing.
func TestTruncatedAnswers(t *testing.T) {
	entries, err := os.ReadDir(teamDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == importer.ManifestFile {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			dir := copyDir(t, teamDir)
			path := filepath.Join(dir, e.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err = os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: testWindow})
			if err == nil {
				t.Fatalf("no error, %d objects", len(res.Objects))
			}
			if !strings.Contains(err.Error(), e.Name()) || !strings.Contains(err.Error(), "not the JSON expected") {
				t.Errorf("err = %v, want one naming %s", err, e.Name())
			}
		})
	}
}

// TestTenThousandRotations: a schedule of 10,000 rotations is reported
// not mapped, at once, and the others are imported.
func TestTenThousandRotations(t *testing.T) {
	a := newAnswers(t)
	a.users(user{ID: "u1", Username: "alice@example.com", FullName: "Alice"})
	huge := schedule{ID: "s1", Name: "Huge", Timezone: "UTC"}
	for i := range 10000 {
		huge.Rotations = append(huge.Rotations, weekly(fmt.Sprint("r", i), u("u1")))
	}
	a.schedules(huge, schedule{ID: "s2", Name: "Small", Timezone: "UTC", Rotations: []rotation{weekly("r", u("u1"))}})
	a.put("escalations", nil, []escalation{})
	start := time.Now()
	res, err := a.run()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	e := res.Entries[1]
	if e.SourceID != "s1" || e.Outcome != importer.NotMapped || len(e.Notes) != 1 ||
		e.Notes[0] != "it has 10000 rotations and Klaxon's schedules at most 16 layers: split it into schedules by hand" {
		t.Errorf("entry = %+v", e)
	}
	if len(res.Finals) != 1 || res.Finals[0].Schedule != "small" {
		t.Errorf("finals = %+v, want small's only", res.Finals)
	}
}

// TestOddNames: names that are no Kubernetes names are sanitized, clashes
// are told apart and said, and ids that could leave their path are not
// read.
func TestOddNames(t *testing.T) {
	a := newAnswers(t)
	long := strings.Repeat("Ω long name ", 40)
	a.users(
		user{ID: "u1", Username: "a@example.com", FullName: "Alice"},
		user{ID: "u2", Username: "a2@example.com", FullName: "ALICE!"},
		user{ID: "u3", Username: "x@example.com", FullName: "!!!"},
		user{ID: "u4", Username: "l@example.com", FullName: long},
		user{ID: "../../etc", Username: "evil@example.com", FullName: "Evil"},
		user{ID: "u1", Username: "again@example.com", FullName: "Alice again"},
	)
	a.schedules(
		schedule{ID: "s1", Name: "../../etc/passwd", Timezone: "UTC", Rotations: []rotation{weekly("r", u("u1"), u("u2"), u("u3"), u("u4"))}},
		schedule{ID: "s2", Name: "🔥🔥🔥", Timezone: "UTC", Rotations: []rotation{weekly("r", u("u1"))}},
	)
	a.put("escalations", nil, []escalation{{ID: "e1", Name: "../../etc/passwd", Rules: []escalationRule{{Recipient: recipient{Type: "schedule", ID: "s1"}}}}})
	res, err := a.run()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]importer.Entry{}
	for _, e := range res.Entries {
		key := e.SourceKind + "/" + e.SourceID
		if _, twice := got[key]; twice {
			key += "/again"
		}
		got[key] = e
	}
	want := map[string]struct {
		name, note string
	}{
		"user/u1":        {"alice", ""},
		"user/u2":        {"alice-u2", "name alice was taken by Responder u1: named alice-u2"},
		"user/u3":        {"responder-u3", `"!!!" has no letters or digits to name it by: named responder-u3 after its id`},
		"user/u4":        {importer.Sanitize(long), ""},
		"schedule/s1":    {"etc-passwd", ""},
		"schedule/s2":    {"oncallschedule-s2", `"🔥🔥🔥" has no letters or digits to name it by: named oncallschedule-s2 after its id`},
		"escalation/e1":  {"etc-passwd", ""},
		"user/../../etc": {"", `its id "../../etc" is no Opsgenie id: write its Responder by hand`},
	}
	for key, w := range want {
		e, ok := got[key]
		if !ok {
			t.Errorf("no entry for %s", key)
			continue
		}
		if e.Name != w.name {
			t.Errorf("%s: name %q, want %q", key, e.Name, w.name)
		}
		if w.note != "" && (len(e.Notes) == 0 || e.Notes[len(e.Notes)-1] != w.note) {
			t.Errorf("%s: notes %q, want the last %q", key, e.Notes, w.note)
		}
		if len(e.Name) > 63 {
			t.Errorf("%s: name %q is longer than 63", key, e.Name)
		}
	}
	// The names are safe file names: the import writes them.
	out := filepath.Join(t.TempDir(), "out")
	if err := importer.Write(out, res); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "oncallschedules", "etc-passwd.yaml")); err != nil {
		t.Error(err)
	}
}

// TestReferenceLoop: an escalation takes a turn in a schedule that the
// escalation pages. The import reports both and stops.
func TestReferenceLoop(t *testing.T) {
	a := newAnswers(t)
	a.users(user{ID: "u1", Username: "a@example.com", FullName: "Alice"})
	a.schedules(schedule{ID: "s1", Name: "Loop", Timezone: "UTC", Rotations: []rotation{
		weekly("Escalating", recipient{Type: "escalation", ID: "e1", Name: "Back to Loop"}),
	}})
	a.put("escalations", nil, []escalation{{ID: "e1", Name: "Back to Loop", Rules: []escalationRule{
		{Condition: "if-not-acked", Recipient: recipient{Type: "schedule", ID: "s1", Name: "Loop"}},
	}}})
	done := make(chan struct{})
	var res *importer.Result
	var err error
	go func() {
		defer close(done)
		res, err = a.run()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the import did not end")
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []importer.Entry{
		{SourceKind: "user", SourceID: "u1", SourceName: "a@example.com", Outcome: importer.Mapped, Kind: "Responder", Name: "alice"},
		{SourceKind: "schedule", SourceID: "s1", SourceName: "Loop", Outcome: importer.NotMapped, Notes: []string{
			`none of its rotations could be mapped: rotation "Escalating" left out: its participant escalation "Back to Loop" is no person, and Klaxon's layers rotate people: put the people it stands for into a layer by hand`,
			`rotation "Escalating" left out: its participant escalation "Back to Loop" is no person, and Klaxon's layers rotate people: put the people it stands for into a layer by hand`,
		}},
		{SourceKind: "escalation", SourceID: "e1", SourceName: "Back to Loop", Outcome: importer.Approximated, Kind: "EscalationPolicy", Name: "back-to-loop", Notes: []string{
			`rule 1 pages schedule "Loop", which was not imported: the policy waits for an OnCallSchedule loop, which you write by hand`,
		}},
	}
	if len(res.Entries) != len(want) {
		t.Fatalf("entries = %+v", res.Entries)
	}
	for i := range want {
		if fmt.Sprint(res.Entries[i]) != fmt.Sprint(want[i]) {
			t.Errorf("entry %d = %+v\nwant %+v", i, res.Entries[i], want[i])
		}
	}
}

// TestPagingThatNeverEnds: a paging.next that does not move on is an
// error, not a loop.
func TestPagingThatNeverEnds(t *testing.T) {
	a := newAnswers(t)
	total := 10
	body, err := json.Marshal(map[string]any{
		"data":       []user{{ID: "u1", Username: "a@example.com"}},
		"totalCount": total,
		"paging":     map[string]string{"next": "https://api.opsgenie.com/v2/users?limit=100&offset=0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.raw("users", firstPage, body)
	_, err = a.run()
	if err == nil || !strings.Contains(err.Error(), "does not move past offset 0") {
		t.Fatalf("err = %v, want one about paging", err)
	}
}

// TestHostileValues: values past every bound are notes, not crashes.
func TestHostileValues(t *testing.T) {
	a := newAnswers(t)
	huge := strings.Repeat("x", 5000)
	a.users(user{ID: "u1", Username: huge, FullName: huge})
	contacts := []contact{{Method: "email", To: huge}, {Method: huge, To: "a"}}
	for i := range 100 {
		contacts = append(contacts, contact{Method: "fax", To: fmt.Sprint(i)})
	}
	a.put("users/u1/contacts", nil, contacts)
	a.put("users/u1/notification-rules", nil, []notificationRuleSummary{{ID: "r1", Name: huge, ActionType: actionCreate, Enabled: true}})
	a.put("users/u1/notification-rules/r1", nil, notificationRule{ID: "r1", Name: huge, Enabled: true, Steps: []ruleStep{
		{Enabled: true, Contact: stepContact{Method: "sms", To: "1"}, SendAfter: &timeAmount{TimeAmount: -5}},
	}})
	a.schedules(schedule{ID: "s1", Name: huge, Timezone: "UTC", Rotations: []rotation{
		{Name: huge, StartDate: "2026-12-01T00:00:00Z", Type: "hourly", Length: 1, Participants: []recipient{u("u1")},
			TimeRestriction: &timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: -1 << 40, EndHour: 1 << 40}}},
		{Name: "ok", StartDate: "2026-12-01T00:00:00Z", Type: "hourly", Length: 1, Participants: []recipient{u("u1")}},
	}})
	a.put("schedules/s1/overrides", nil, []override{
		{Alias: huge, User: u("u1"), StartDate: "2026-12-01T00:00:00Z", EndDate: "2027-12-01T00:00:00Z"},
		{Alias: "b", User: recipient{Type: "team", Name: huge}, StartDate: "2026-12-01T00:00:00Z", EndDate: "2026-12-02T00:00:00Z"},
	})
	a.put("escalations", nil, []escalation{{ID: "e1", Name: huge, Rules: []escalationRule{{Recipient: u("u1")}},
		Repeat: &escalationRepeat{WaitInterval: 1 << 50, Count: 1 << 30}}})
	res, err := a.run()
	if err != nil {
		t.Fatal(err)
	}
	if notes := res.Entries[0].Notes; len(notes) != maxNotes+1 || notes[maxNotes] != "more notes left out: the source object has more than can be listed" {
		t.Errorf("the user has %d notes, want %d and a last one saying more were left out", len(notes), maxNotes+1)
	}
	for _, e := range res.Entries {
		for _, n := range e.Notes {
			if len(n) > 1000 {
				t.Errorf("%s %s: a note of %d bytes", e.SourceKind, e.SourceID, len(n))
			}
		}
		if len(e.SourceID) > 1000 || len(e.SourceName) > 1000 {
			t.Errorf("%s: a source id or name of %d bytes", e.SourceKind, len(e.SourceID)+len(e.SourceName))
		}
	}
	if _, err := importer.Verify(res); err != nil {
		t.Fatal(err)
	}
	if err := importer.Write(filepath.Join(t.TempDir(), "out"), res); err != nil {
		t.Fatal(err)
	}
}
