package grafanaoncall

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
)

var testWindow = importer.Window{From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}

// answers is a fixture built in a test: the results of each list, by
// path and query, answered as one page.
type answers map[string]any

func (a answers) set(path string, query url.Values, results any) {
	a[importer.FileName(path, query)] = map[string]any{
		"count": 0, "next": nil, "previous": nil, "results": results,
		"page_size": 50, "current_page_number": 1, "total_pages": 1,
	}
}

// write saves the answers into a new directory, with empty lists for
// whatever was not set.
func (a answers) write(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"users", "personal_notification_rules", "schedules", "on_call_shifts", "escalation_chains", "integrations"} {
		if _, ok := a[importer.FileName(p, nil)]; !ok {
			a.set(p, nil, []any{})
		}
	}
	dir := t.TempDir()
	for name, body := range a {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func importAnswers(t *testing.T, dir string) (*importer.Result, error) {
	t.Helper()
	return Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: testWindow})
}

func copyFixture(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTruncatedAnswer: an answer cut short is a clear error, and no result
// to write.
func TestTruncatedAnswer(t *testing.T) {
	for _, name := range []string{"users@page=2.json", "on_call_shifts.json", "escalation_policies@escalation_chain_id=FCRITICAL0001.json", "schedules_SPLATFORM0001_final_shifts@end_date=2027-01-03&page=2&start_date=2026-12-07.json"} {
		t.Run(name, func(t *testing.T) {
			dir := copyFixture(t, "testdata/team")
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err = os.WriteFile(filepath.Join(dir, name), data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := importAnswers(t, dir)
			if err == nil || res != nil {
				t.Fatalf("import of a truncated %s: %v, %v; want an error and no result", name, res, err)
			}
			if !strings.Contains(err.Error(), "is not the JSON expected") || !strings.Contains(err.Error(), "importing Grafana OnCall") {
				t.Errorf("error %q does not say which answer is broken", err)
			}
		})
	}
}

// TestTenThousandLayers: a schedule of more shifts than Klaxon has layers
// is reported, quickly.
func TestTenThousandLayers(t *testing.T) {
	a := answers{}
	a.set("users", nil, []any{map[string]any{"id": "UA", "username": "alice", "email": "a@example.com"}})
	var ids []string
	var shifts []any
	for i := 0; i < 10000; i++ {
		id := fmt.Sprintf("O%05d", i)
		ids = append(ids, id)
		shifts = append(shifts, map[string]any{"id": id, "name": id, "type": "rolling_users", "level": i, "start": "2026-12-07T09:00:00",
			"duration": 3600, "frequency": "daily", "interval": 1, "rolling_users": [][]string{{"UA"}}})
	}
	a.set("schedules", nil, []any{map[string]any{"id": "S1", "name": "huge", "type": "web", "time_zone": "UTC", "shifts": ids}})
	a.set("on_call_shifts", nil, shifts)
	dir := a.write(t)
	start := time.Now()
	res, err := importAnswers(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	e := entry(t, res, "schedule", "S1")
	if e.Outcome != importer.NotMapped || !strings.Contains(strings.Join(e.Notes, " "), "10000 shifts; Klaxon allows 16 layers") {
		t.Errorf("schedule of 10,000 shifts: %+v", e)
	}
	if len(res.Finals) != 0 {
		t.Errorf("final shifts read for a schedule not imported")
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// TestOddNames: names that are no Kubernetes names become DNS labels, and
// the report says so.
func TestOddNames(t *testing.T) {
	long := strings.Repeat("ä-very-long-name-", 30)
	a := answers{}
	a.set("users", nil, []any{
		map[string]any{"id": "U1", "username": "Alice", "email": "a@example.com"},
		map[string]any{"id": "U2", "username": "alice", "email": "b@example.com"},
		map[string]any{"id": "U3", "username": "!!!"},
		map[string]any{"id": "U4", "username": ""},
		map[string]any{"id": "U5", "username": long},
		map[string]any{"id": "U6", "username": "Zoë Müller"},
	})
	a.set("schedules", nil, []any{map[string]any{"id": "S1", "name": "🔥🔥", "type": "web", "time_zone": "UTC", "shifts": []string{"O1", "O2", "O1"}}})
	a.set("on_call_shifts", nil, []any{
		map[string]any{"id": "O1", "name": "", "type": "rolling_users", "level": 0, "start": "2026-12-07T09:00:00", "duration": 86400,
			"frequency": "daily", "rolling_users": [][]string{{"U1"}, {"U2"}, {"U3"}, {"U4"}, {"U5"}, {"U6"}}},
		map[string]any{"id": "O2", "name": "", "type": "single_event", "level": 1, "start": "2026-12-08T09:00:00", "duration": 3600, "users": []string{"U6"}},
	})
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2026-12-07"}, "end_date": {"2027-01-03"}}, []any{})
	dir := a.write(t)
	res, err := importAnswers(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if n := o.GetName(); len(n) > 63 || !dnsLabel.MatchString(n) {
			t.Errorf("%s %q is no DNS label", importer.KindOf(o), n)
		}
	}
	for id, want := range map[string]string{"U2": "was taken", "U3": "no letters or digits", "U4": "no letters or digits", "U5": "no Kubernetes name", "U6": "no Kubernetes name"} {
		if e := entry(t, res, "user", id); !strings.Contains(strings.Join(e.Notes, " "), want) {
			t.Errorf("user %s: notes %q lack %q", id, e.Notes, want)
		}
	}
	if e := entry(t, res, "schedule", "S1"); e.Name != "oncallschedule-s1" {
		t.Errorf("schedule named only by emoji: %q, want oncallschedule-s1", e.Name)
	}
	verdicts, err := importer.Verify(res)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(verdicts) != 1 || len(verdicts[0].Differences) == 0 {
		t.Errorf("verdicts %+v: the empty final shifts should differ from the imported schedule", verdicts)
	}
}

// TestPagesLoop: a page whose next points back is an error, not an
// endless read.
func TestPagesLoop(t *testing.T) {
	a := answers{}
	users := func(id, next string) map[string]any {
		return map[string]any{"count": 2, "next": next, "previous": nil, "page_size": 1, "current_page_number": 1, "total_pages": 2,
			"results": []any{map[string]any{"id": id, "username": id}}}
	}
	a["users.json"] = users("U1", "https://oncall.example.com/api/v1/users/?page=2")
	a["users@page=2.json"] = users("U2", "https://oncall.example.com/api/v1/users/?page=1")
	dir := a.write(t)
	_, err := importAnswers(t, dir)
	if err == nil || !strings.Contains(err.Error(), "page 2 names page 1 as the next one") {
		t.Fatalf("pages that loop: %v", err)
	}
}

// TestDanglingReferences: Grafana OnCall's chains name no other chains, so
// references cannot loop; what they name may be missing or named twice,
// which the report says and the import survives.
func TestDanglingReferences(t *testing.T) {
	a := answers{}
	a.set("users", nil, []any{map[string]any{"id": "UA", "username": "alice", "email": "a@example.com"}, map[string]any{"id": "UA", "username": "alice-again"}})
	a.set("escalation_chains", nil, []any{map[string]any{"id": "F1", "name": "one"}, map[string]any{"id": "F1", "name": "one again"}})
	a.set("escalation_policies", url.Values{"escalation_chain_id": {"F1"}}, []any{
		map[string]any{"id": "E1", "escalation_chain_id": "F1", "position": 0, "type": "notify_persons", "persons_to_notify": []string{"UA", "UNKNOWN"}},
		map[string]any{"id": "E2", "escalation_chain_id": "F2", "position": 1, "type": "notify_persons", "persons_to_notify": []string{"UA"}},
	})
	sched := map[string]any{"id": "S1", "name": "twice", "type": "web", "time_zone": "UTC", "shifts": []string{"O1", "O1"}}
	a.set("schedules", nil, []any{sched, sched})
	a.set("on_call_shifts", nil, []any{map[string]any{"id": "O1", "name": "all", "type": "rolling_users", "level": 0, "start": "2026-01-05T00:00:00",
		"duration": 604800, "frequency": "weekly", "rolling_users": [][]string{{"UA"}}}})
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2026-12-07"}, "end_date": {"2027-01-03"}}, []any{})
	a.set("integrations", nil, []any{map[string]any{"id": "C1", "name": "am", "type": "alertmanager", "link": "https://x/", "default_route": map[string]any{"id": "R1", "escalation_chain_id": "MISSING"}}})
	a.set("routes", url.Values{"integration_id": {"C1"}}, []any{
		map[string]any{"id": "R2", "integration_id": "C1", "position": 0, "routing_type": "regex", "routing_regex": strings.Repeat("x", 10000), "escalation_chain_id": "F1"},
	})
	dir := a.write(t)
	res, err := importAnswers(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Objects); n != 4 {
		t.Errorf("%d objects, want a Responder, an OnCallSchedule of one layer, an EscalationPolicy and an AlertRoute", n)
	}
	if s, ok := res.Object("OnCallSchedule", "twice").(*klaxonv1alpha1.OnCallSchedule); !ok || len(s.Spec.Layers) != 1 {
		t.Errorf("a schedule listed twice, listing its shift twice: %+v", s)
	}
	if e := entry(t, res, "escalation_chain", "F1"); e.Outcome != importer.Approximated || !strings.Contains(strings.Join(e.Notes, " "), `user "UNKNOWN" is not among the users read`) {
		t.Errorf("chain naming a missing user: %+v", e)
	}
	if e := entry(t, res, "route", "R1"); e.Outcome != importer.Approximated || !strings.Contains(strings.Join(e.Notes, " "), `escalation chain "MISSING" was not imported`) {
		t.Errorf("route naming a missing chain: %+v", e)
	}
	e := entry(t, res, "route", "R2")
	if e.Outcome != importer.NotMapped {
		t.Errorf("regex route: %+v", e)
	}
	for _, n := range e.Notes {
		if len(n) > 400 {
			t.Errorf("a note of %d characters: the source's strings are not bounded", len(n))
		}
	}
}

// memory answers from saved answers held in memory, one of them replaced
// by data: the fuzz target reads no files, so each run is quick.
type memory struct {
	answers map[string][]byte
	name    string
	data    []byte
}

func (m memory) Get(_ context.Context, path string, query url.Values, v any) error {
	name := importer.FileName(path, query)
	body, ok := m.answers[name]
	if name == m.name {
		body, ok = m.data, true
	}
	if !ok {
		return fmt.Errorf("reading %s: no saved answer", path)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// FuzzImport feeds arbitrary bytes as one of the team fixture's answers:
// the import may fail, but never panics, and what it writes is named as
// Kubernetes names must be, passes the CRDs' rules and verifies without a
// panic.
func FuzzImport(f *testing.F) {
	paths, err := filepath.Glob("testdata/team/*.json")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no answers: %v", err)
	}
	answers := map[string][]byte{}
	var names []string
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		answers[filepath.Base(p)] = data
		names = append(names, filepath.Base(p))
		f.Add(uint8(i), data)
	}
	f.Add(uint8(slices.Index(names, "on_call_shifts.json")), []byte(`{"results":[{"id":"OROTATION0001","type":"rolling_users","start":"0001-01-01T00:00:00","duration":1,"frequency":"hourly","interval":1,"until":"9999-12-31T00:00:00","rolling_users":[["UALICE4K7Q2M9"]],"by_day":["MO","XX"]}]}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		src := memory{answers: answers, name: names[int(which)%len(names)], data: data}
		res, err := Import(context.Background(), src, importer.Options{Window: testWindow})
		if err != nil {
			return
		}
		for _, o := range res.Objects {
			if n := o.GetName(); len(n) > 63 || !dnsLabel.MatchString(n) {
				t.Errorf("%s %q is no DNS label", importer.KindOf(o), n)
			}
			if _, err := importer.Marshal(o); err != nil {
				t.Errorf("marshal %s: %v", o.GetName(), err)
			}
			if err := importer.Check(o); err != nil {
				t.Errorf("the API server would refuse it: %v", err)
			}
		}
		_, _ = importer.Verify(res)
	})
}

// TestLongWindow: the API answers final shifts for at most 365 days from
// start_date, so a longer window is read in parts.
func TestLongWindow(t *testing.T) {
	a := answers{}
	a.set("users", nil, []any{map[string]any{"id": "UA", "username": "alice"}})
	a.set("schedules", nil, []any{map[string]any{"id": "S1", "name": "long", "type": "web", "time_zone": "UTC", "shifts": []string{"O1"}}})
	a.set("on_call_shifts", nil, []any{map[string]any{"id": "O1", "name": "all", "type": "rolling_users", "level": 0, "start": "2026-01-05T00:00:00",
		"duration": 604800, "frequency": "weekly", "rolling_users": [][]string{{"UA"}}}})
	shift := func(from, to string) []any {
		return []any{map[string]any{"user_pk": "UA", "user_username": "alice", "shift_start": from, "shift_end": to}}
	}
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2026-12-07"}, "end_date": {"2027-12-06"}}, shift("2026-12-07T00:00:00Z", "2027-12-07T00:00:00Z"))
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2027-12-07"}, "end_date": {"2028-01-10"}}, shift("2027-12-07T00:00:00Z", "2028-01-11T00:00:00Z"))
	dir := a.write(t)
	w := importer.Window{From: testWindow.From, To: time.Date(2028, 1, 11, 0, 0, 0, 0, time.UTC)}
	res, err := Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: w})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Finals[0].Intervals); n != 2 {
		t.Errorf("%d intervals, want one from each part", n)
	}
	verdicts, err := importer.Verify(res)
	if err != nil {
		t.Fatal(err)
	}
	if d := verdicts[0].Differences; len(d) != 0 {
		t.Errorf("differences %+v", d)
	}
}

// TestFarDates: turns from the year 1 until the year 9999 are counted
// without overflow or a walk through the centuries.
func TestFarDates(t *testing.T) {
	a := answers{}
	a.set("users", nil, []any{map[string]any{"id": "UA", "username": "alice"}, map[string]any{"id": "UB", "username": "bob"}})
	a.set("schedules", nil, []any{map[string]any{"id": "S1", "name": "far", "type": "web", "time_zone": "UTC", "shifts": []string{"O1", "O2"}}})
	a.set("on_call_shifts", nil, []any{
		map[string]any{"id": "O1", "name": "hourly", "type": "rolling_users", "level": 0, "start": "0001-01-01T00:00:00", "duration": 1800,
			"frequency": "hourly", "interval": 1, "until": "9999-12-31T23:59:59", "rolling_users": [][]string{{"UA"}, {"UB"}}},
		map[string]any{"id": "O2", "name": "monthly", "type": "rolling_users", "level": 1, "start": "0001-01-31T00:00:00", "duration": 86400,
			"frequency": "monthly", "interval": 7, "until": "9999-12-31T23:59:59", "rolling_users": [][]string{{"UA"}, {"UB"}}},
	})
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2026-12-07"}, "end_date": {"2027-01-03"}}, []any{})
	dir := a.write(t)
	start := time.Now()
	res, err := importAnswers(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := res.Object("OnCallSchedule", "far").(*klaxonv1alpha1.OnCallSchedule)
	if !ok {
		t.Fatalf("no schedule: %+v", res.Entries)
	}
	// The last hourly turn to begin by until begins at 23:00 on the last
	// day and runs its half hour.
	if got := s.Spec.Layers[0].End; got != "9999-12-31T23:30:00" {
		t.Errorf("hourly layer ends %s, want 9999-12-31T23:30:00", got)
	}
	if e := entry(t, res, "on_call_shift", "O1"); e.Outcome != importer.Mapped {
		t.Errorf("hourly shift: %+v", e)
	}
	_, _ = importer.Verify(res)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s", took)
	}
}

// TestTimesTheAPIServerRefuses: an override past the year 9999 is not
// mapped, a layer ending in 10000 has no end, and a layer ending where
// the clocks go back ends after its start: everything written applies.
func TestTimesTheAPIServerRefuses(t *testing.T) {
	a := answers{}
	a.set("users", nil, []any{map[string]any{"id": "UA", "username": "alice"}, map[string]any{"id": "UB", "username": "bob"}})
	a.set("schedules", nil, []any{map[string]any{"id": "S1", "name": "edges", "type": "web", "time_zone": "Europe/Berlin", "shifts": []string{"O1", "O2", "O3"}}})
	a.set("on_call_shifts", nil, []any{
		map[string]any{"id": "O1", "name": "forever", "type": "rolling_users", "level": 0, "start": "2026-01-05T09:00:00", "duration": 86400,
			"frequency": "daily", "until": "9999-12-31T12:00:00", "rolling_users": [][]string{{"UA"}, {"UB"}}},
		map[string]any{"id": "O2", "name": "fold", "type": "single_event", "level": 1, "start": "2027-10-31T02:40:00+02:00", "duration": 1800, "users": []string{"UB"}},
		map[string]any{"id": "O3", "name": "far", "type": "override", "start": "9999-12-31T23:00:00", "duration": 7200, "users": []string{"UA"}},
	})
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2026-12-07"}, "end_date": {"2027-01-03"}}, []any{})
	res, err := importAnswers(t, a.write(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if err := importer.Check(o); err != nil {
			t.Error(err)
		}
	}
	s, ok := res.Object("OnCallSchedule", "edges").(*klaxonv1alpha1.OnCallSchedule)
	if !ok {
		t.Fatalf("no schedule: %+v", res.Entries)
	}
	if got := s.Spec.Layers[0].End; got != "" {
		t.Errorf("the layer until 9999 ends %q, want no end", got)
	}
	if got := s.Spec.Layers[1].End; got != "2027-10-31T03:10:00" {
		t.Errorf("the single event ends %q, want 2027-10-31T03:10:00", got)
	}
	if e := entry(t, res, "on_call_shift", "O2"); e.Outcome != importer.Approximated {
		t.Errorf("single event: %+v", e)
	}
	if e := entry(t, res, "on_call_shift", "O3"); e.Outcome != importer.NotMapped || !strings.Contains(strings.Join(e.Notes, " "), "beyond the years") {
		t.Errorf("override past 9999: %+v", e)
	}
	if len(s.Spec.Overrides) != 0 {
		t.Errorf("overrides %+v", s.Spec.Overrides)
	}
}

// TestNotesBounded: a schedule listing thousands of missing shifts and a
// shift of hundreds of unknown users each get a few notes, which say how
// many more there were.
func TestNotesBounded(t *testing.T) {
	var ids []string
	for i := range 5000 {
		ids = append(ids, fmt.Sprintf("OMISSING%05d", i))
	}
	var turns [][]string
	for g := range 32 {
		var turn []string
		for u := range 49 {
			turn = append(turn, fmt.Sprintf("UGONE%02d%02d", g, u))
		}
		turns = append(turns, append(turn, "UA"))
	}
	a := answers{}
	a.set("users", nil, []any{map[string]any{"id": "UA", "username": "alice"}})
	a.set("schedules", nil, []any{map[string]any{"id": "S1", "name": "many", "type": "web", "time_zone": "UTC", "shifts": append(ids, "O1")}})
	a.set("on_call_shifts", nil, []any{map[string]any{"id": "O1", "name": "crowd", "type": "rolling_users", "level": 0, "start": "2026-12-07T00:00:00",
		"duration": 86400, "frequency": "daily", "rolling_users": turns}})
	a.set("schedules/S1/final_shifts", url.Values{"start_date": {"2026-12-07"}, "end_date": {"2027-01-03"}}, []any{})
	res, err := importAnswers(t, a.write(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, id, more string }{
		{"schedule", "S1", "and 4990 more"},
		{"on_call_shift", "O1", "and 1558 more"},
	} {
		e := entry(t, res, c.kind, c.id)
		if len(e.Notes) > maxNotes+1 || !strings.Contains(strings.Join(e.Notes, "\n"), c.more) {
			t.Errorf("%s %s: %d notes %q, want at most %d, one saying %q", c.kind, c.id, len(e.Notes), e.Notes, maxNotes+1, c.more)
		}
		for _, n := range e.Notes {
			if len(n) > 2000 {
				t.Errorf("%s %s: a note of %d bytes", c.kind, c.id, len(n))
			}
		}
	}
}

// TestCapNotes: an entry keeps its first notes and one saying how many
// more there were.
func TestCapNotes(t *testing.T) {
	var notes []string
	for i := range 25 {
		notes = append(notes, fmt.Sprint(i))
	}
	got := capNotes(notes)
	if len(got) != maxNotes+1 || got[0] != "0" || got[maxNotes] != "and 15 more notes like these, left out of the report" {
		t.Errorf("capNotes: %q", got)
	}
	if got := capNotes(notes[:maxNotes+1]); len(got) != maxNotes+1 || got[maxNotes] != "10" {
		t.Errorf("capNotes of %d notes: %q", maxNotes+1, got)
	}
}

// TestListBudget: a list of more items than an import reads stops with an
// error naming the list, rather than filling memory.
func TestListBudget(t *testing.T) {
	a := answers{}
	var users []any
	for i := range maxItems + 1 {
		users = append(users, map[string]any{"id": fmt.Sprintf("U%06d", i), "username": fmt.Sprintf("u%06d", i)})
	}
	a.set("users", nil, users)
	_, err := importAnswers(t, a.write(t))
	if err == nil || !strings.Contains(err.Error(), "reading users: more than 10000 items") {
		t.Fatalf("a list over the budget: %v", err)
	}
}
