package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

var testWindow = importer.Window{From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}

// account answers writes a directory of saved answers for one page of
// users, schedules (each with no overrides) and policies.
func writeAccount(t testing.TB, dir string, users []user, schedules []schedule, policies []escalationPolicy) {
	t.Helper()
	since, until := testWindow.From.Format(time.RFC3339), testWindow.To.Format(time.RFC3339)
	page0 := url.Values{"limit": {"100"}, "offset": {"0"}}
	save := func(path string, q url.Values, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, importer.FileName(path, q)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save("users", url.Values{"include[]": {"contact_methods", "notification_rules"}, "limit": {"100"}, "offset": {"0"}},
		map[string]any{"users": users, "limit": 100, "offset": 0, "more": false})
	var listed []map[string]string
	for _, s := range schedules {
		listed = append(listed, map[string]string{"id": s.ID, "name": s.Name, "time_zone": s.TimeZone})
		save("schedules/"+s.ID, url.Values{"since": {since}, "until": {until}, "time_zone": {s.TimeZone}}, map[string]any{"schedule": s})
		save("schedules/"+s.ID+"/overrides", url.Values{"since": {since}, "until": {testWindow.From.Add(overridesAhead).Format(time.RFC3339)}},
			map[string]any{"overrides": []any{}})
	}
	save("schedules", page0, map[string]any{"schedules": listed, "limit": 100, "offset": 0, "more": false})
	save("escalation_policies", url.Values{"include[]": {"escalation_rule_assignment_strategies"}, "limit": {"100"}, "offset": {"0"}}, map[string]any{"escalation_policies": policies, "limit": 100, "offset": 0, "more": false})
}

func importDir(t testing.TB, dir string) (*importer.Result, error) {
	t.Helper()
	return Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: testWindow})
}

func dailyLayer(name string, users ...string) scheduleLayer {
	l := scheduleLayer{Name: name, Start: "2026-11-30T00:00:00Z", RotationVirtualStart: "2026-11-30T00:00:00Z", RotationTurnLengthSeconds: 86400}
	for _, u := range users {
		l.Users = append(l.Users, layerUser{User: reference{ID: u, Type: "user_reference"}})
	}
	return l
}

func TestImportTruncatedAnswer(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join("testdata", "team")
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	spoilt := ""
	for _, e := range entries {
		data, rerr := os.ReadFile(filepath.Join(from, e.Name()))
		if rerr != nil {
			t.Fatal(rerr)
		}
		if strings.HasPrefix(e.Name(), "schedules_PLAYER3@") {
			spoilt = e.Name()
			data = data[:len(data)/3]
		}
		if err = os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := importDir(t, dir)
	if err == nil || !strings.Contains(err.Error(), "not the JSON expected") || !strings.Contains(err.Error(), spoilt) {
		t.Fatalf("import of a truncated answer: %v, %v; want an error naming %s", r, err, spoilt)
	}
}

func TestImportTenThousandLayers(t *testing.T) {
	dir := t.TempDir()
	s := schedule{ID: "PHUGE01", Name: "Huge", TimeZone: "UTC", FinalSchedule: &subSchedule{}}
	for i := range 10000 {
		s.ScheduleLayers = append(s.ScheduleLayers, dailyLayer(fmt.Sprint("layer ", i), "PUSER01"))
	}
	writeAccount(t, dir, []user{{ID: "PUSER01", Name: "Ann"}}, []schedule{s}, nil)
	start := time.Now()
	r, err := importDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	e := r.Entries[1]
	if e.SourceID != "PHUGE01" || e.Outcome != importer.NotMapped || len(e.Notes) != 1 ||
		e.Notes[0] != "it has 10000 layers; a Klaxon schedule has at most 16: split it by hand" {
		t.Errorf("entry %+v", e)
	}
	if r.Object(kindSchedule, "huge") != nil || len(r.Finals) != 0 {
		t.Error("a schedule not mapped was written or verified")
	}
}

func TestImportSeventeenLayers(t *testing.T) {
	dir := t.TempDir()
	s := schedule{ID: "PMANY01", Name: "Many", TimeZone: "UTC", FinalSchedule: &subSchedule{}}
	for i := range 17 {
		s.ScheduleLayers = append(s.ScheduleLayers, dailyLayer(fmt.Sprint("layer ", i), "PUSER01"))
	}
	writeAccount(t, dir, []user{{ID: "PUSER01", Name: "Ann"}}, []schedule{s}, nil)
	r, err := importDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	e := r.Entries[1]
	if e.Outcome != importer.NotMapped || e.Notes[len(e.Notes)-1] != "its layers make 17 Klaxon layers; a Klaxon schedule has at most 16: split it by hand" {
		t.Errorf("entry %+v", e)
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func TestImportOddNames(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("Überlange Bereitschaft ", 30)
	users := []user{
		{ID: "PUSER01", Name: "../../etc/passwd"},
		{ID: "PUSER02", Name: "🔥🔥🔥"},
		{ID: "PUSER03", Name: long},
		{ID: "PUSER04", Name: "Ann", Email: "ann@example.com", ContactMethods: []contactMethod{
			{ID: "C1", Type: "email_contact_method", Label: strings.Repeat("Label! ", 40), Address: "ann@example.com"},
			{ID: "C2", Type: "email_contact_method", Label: strings.Repeat("Label! ", 40), Address: "ann2@example.com"},
		}},
	}
	schedules := []schedule{
		{ID: "PSCHED1", Name: long, TimeZone: "UTC", FinalSchedule: &subSchedule{},
			ScheduleLayers: []scheduleLayer{dailyLayer(long, "PUSER01", "PUSER02", "PUSER03"), dailyLayer(long+"!", "PUSER04")}},
		{ID: "PSCHED2", Name: "", TimeZone: "UTC", FinalSchedule: &subSchedule{}, ScheduleLayers: []scheduleLayer{dailyLayer("", "PUSER04")}},
	}
	policies := []escalationPolicy{{ID: "PPOL001", Name: "\x00\x01", EscalationRules: []escalationRule{
		{EscalationDelayInMinutes: 5, Targets: []reference{{ID: "PSCHED1", Type: "schedule_reference"}, {ID: "PSCHED2", Type: "schedule_reference"}}}}}}
	writeAccount(t, dir, users, schedules, policies)
	r, err := importDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Entries {
		if e.Name != "" && !dnsLabel.MatchString(e.Name) {
			t.Errorf("%s %s is named %q, no DNS label", e.SourceKind, e.SourceID, e.Name)
		}
		for _, n := range e.Notes {
			if len([]rune(n)) > importer.MaxNote {
				t.Errorf("%s %s has a note of %d characters", e.SourceKind, e.SourceID, len(n))
			}
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	if err = importer.Write(out, r); err != nil {
		t.Fatal(err)
	}
	verdicts, err := importer.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 2 {
		t.Errorf("%d verdicts, want 2", len(verdicts))
	}
	if got := r.Entries[0].Name; got != "etc-passwd" {
		t.Errorf("../../etc/passwd is named %q", got)
	}
	if got := r.Entries[1].Name; got != "responder-puser02" {
		t.Errorf("🔥🔥🔥 is named %q", got)
	}
}

// PagerDuty's escalation targets are users and schedules; a policy that
// names policies, itself or each other, is reported, not followed.
func TestImportPolicyReferenceLoop(t *testing.T) {
	dir := t.TempDir()
	policies := []escalationPolicy{
		{ID: "PPOLA01", Name: "A", NumLoops: 3, EscalationRules: []escalationRule{
			{EscalationDelayInMinutes: 5, Targets: []reference{{ID: "PPOLB02", Type: "escalation_policy_reference", Summary: "B"}}}}},
		{ID: "PPOLB02", Name: "B", EscalationRules: []escalationRule{
			{EscalationDelayInMinutes: 5, Targets: []reference{{ID: "PPOLA01", Type: "escalation_policy_reference", Summary: "A"}}},
			{EscalationDelayInMinutes: 5, Targets: []reference{{ID: "PPOLB02", Type: "escalation_policy_reference", Summary: "B"}}}}},
	}
	writeAccount(t, dir, nil, nil, policies)
	r, err := importDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Entries) != 2 || len(r.Objects) != 0 {
		t.Fatalf("entries %+v, %d objects", r.Entries, len(r.Objects))
	}
	for _, e := range r.Entries {
		want := `rule 1 targets escalation_policy_reference "B" (PPOLB02), which a Klaxon level cannot page: left out`
		if e.SourceID == "PPOLB02" {
			want = `rule 1 targets escalation_policy_reference "A" (PPOLA01), which a Klaxon level cannot page: left out`
		}
		if e.Outcome != importer.NotMapped || e.Notes[0] != want {
			t.Errorf("entry %+v", e)
		}
	}
}

// endless answers every page of every list with the same item and "more".
type endless struct{ asked int }

func (s *endless) Get(_ context.Context, path string, q url.Values, v any) error {
	s.asked++
	return json.Unmarshal([]byte(`{"users":[{"id":"PUSER01","name":"Ann"}],"more":true}`), v)
}

func TestImportEndlessPaging(t *testing.T) {
	src := &endless{}
	_, err := Import(context.Background(), src, importer.Options{Window: testWindow})
	if err == nil || !strings.Contains(err.Error(), "more than 1000 pages") {
		t.Errorf("import of a list without end: %v", err)
	}
	if src.asked != maxPages {
		t.Errorf("asked %d pages", src.asked)
	}
}

func TestImportEmptyPageSayingMore(t *testing.T) {
	dir := t.TempDir()
	writeAccount(t, dir, nil, nil, nil)
	data := []byte(`{"escalation_policies":[],"limit":100,"offset":0,"more":true}`)
	q := url.Values{"include[]": {"escalation_rule_assignment_strategies"}, "limit": {"100"}, "offset": {"0"}}
	if err := os.WriteFile(filepath.Join(dir, importer.FileName("escalation_policies", q)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := importDir(t, dir); err == nil || !strings.Contains(err.Error(), "empty but says there are more") {
		t.Errorf("import: %v", err)
	}
}

func TestImportRefusesIDsThatAreNoPagerDutyIDs(t *testing.T) {
	dir := t.TempDir()
	writeAccount(t, dir, nil, []schedule{{ID: "../../x", Name: "x", TimeZone: "UTC"}}, nil)
	if _, err := importDir(t, dir); err == nil || !strings.Contains(err.Error(), `"../../x" is not a PagerDuty id`) {
		t.Errorf("import: %v", err)
	}
}

// A source object with thousands of faults gets a readable entry.
func TestImportBoundsTheNotesOfAnEntry(t *testing.T) {
	dir := t.TempDir()
	u := user{ID: "PUSER01", Name: "Ann"}
	for i := range 5000 {
		u.ContactMethods = append(u.ContactMethods, contactMethod{ID: fmt.Sprint("C", i), Type: "whatsapp_contact_method", Address: "1"})
	}
	l := dailyLayer("Odd", "PUSER01")
	for range 1000 {
		l.Restrictions = append(l.Restrictions, restriction{Type: "monthly_restriction", StartTimeOfDay: "08:00:00", DurationSeconds: 60})
	}
	writeAccount(t, dir, []user{u}, []schedule{{ID: "PSCHED1", Name: "Odd", TimeZone: "UTC", ScheduleLayers: []scheduleLayer{l}}}, nil)
	r, err := importDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range r.Entries {
		if len(e.Notes) != maxEntryNotes {
			t.Errorf("%s %s has %d notes, want %d", e.SourceKind, e.SourceID, len(e.Notes), maxEntryNotes)
			continue
		}
		if last := e.Notes[maxEntryNotes-1]; !strings.HasPrefix(last, "and ") || !strings.HasSuffix(last, " more notes like these") {
			t.Errorf("%s %s ends its notes with %q", e.SourceKind, e.SourceID, last)
		}
	}
}

// fullPages answers every page of users with a hundred new users and
// "more": an account larger than the import holds.
type fullPages struct{ asked int }

func (s *fullPages) Get(_ context.Context, path string, q url.Values, v any) error {
	s.asked++
	var b strings.Builder
	b.WriteString(`{"users":[`)
	for i := range pageSize {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"PU%d","name":"Ann"}`, s.asked*pageSize+i)
	}
	b.WriteString(`],"more":true}`)
	return json.Unmarshal([]byte(b.String()), v)
}

func TestImportBoundsTheItemsOfAList(t *testing.T) {
	src := &fullPages{}
	_, err := Import(context.Background(), src, importer.Options{Window: testWindow})
	if err == nil || !strings.Contains(err.Error(), "reading users: more than 10000 items") {
		t.Errorf("import of a list larger than the bound: %v", err)
	}
	if want := maxUsers/pageSize + 1; src.asked != want {
		t.Errorf("asked %d pages, want %d", src.asked, want)
	}
}
