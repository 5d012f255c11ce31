package grafanaoncall

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/apitest"
)

var update = flag.Bool("update", false, "rewrite the golden reports and YAML from this import")

const testToken = "glsa_oncall_test_token"

// api answers as Grafana OnCall's public API does: the token alone in the
// Authorization header, DRF's error bodies.
var api = apitest.API{
	Prefix:       "/api/v1",
	Authorized:   func(r *http.Request) bool { return r.Header.Get("Authorization") == testToken },
	Unauthorized: `{"detail":"Invalid token."}`,
	NotFound:     `{"detail":"Not found."}`,
}

// fixtures are the directories of saved answers under testdata.
func fixtures(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("testdata/*/" + importer.ManifestFile)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

func importHTTP(t *testing.T, dir, token string, throttle string) (*importer.Result, *apitest.Server, error) {
	t.Helper()
	m, err := importer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := apitest.Serve(t, api, dir)
	if throttle != "" {
		srv.ThrottleOnce(throttle)
	}
	base, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	src := &importer.HTTPSource{
		Base: base, Token: token, Authorize: Provider.Authorize, Name: Provider.Name,
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	}
	res, err := Import(context.Background(), src, importer.Options{Window: m.Window})
	if throttle != "" && err == nil && !slices.Equal(slept, []time.Duration{time.Second}) {
		t.Errorf("waits after the 429 on %s: %v, want one of 1s as Retry-After said", throttle, slept)
	}
	return res, srv, err
}

func importDir(t *testing.T, dir string) *importer.Result {
	t.Helper()
	m, err := importer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: m.Window})
	if err != nil {
		t.Fatalf("importing %s: %v", dir, err)
	}
	return res
}

// TestImportOverHTTPAndFromDir imports every fixture over HTTP, with one
// list throttled once, and from its directory: both read the same and
// give the same result.
func TestImportOverHTTPAndFromDir(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got, srv, err := importHTTP(t, dir, testToken, "users")
			if err != nil {
				t.Fatalf("import over HTTP: %v", err)
			}
			users := 0
			for _, r := range srv.Requests() {
				if strings.HasPrefix(r, "/api/v1/users") && !strings.Contains(r, "page=") {
					users++
				}
			}
			if users != 2 {
				t.Errorf("the first page of users was asked %d times, want 2 (a 429, then the answer)", users)
			}
			want := importDir(t, dir)
			if !reflect.DeepEqual(got.Entries, want.Entries) || !reflect.DeepEqual(got.Finals, want.Finals) || len(got.Objects) != len(want.Objects) {
				t.Errorf("the import over HTTP and the one from the directory differ")
			}
			for i := range got.Objects {
				a, _ := importer.Marshal(got.Objects[i])
				b, _ := importer.Marshal(want.Objects[i])
				if !bytes.Equal(a, b) {
					t.Errorf("object %d differs over HTTP:\n%s\nfrom the directory:\n%s", i, a, b)
				}
			}
		})
	}
}

func TestImportWrongToken(t *testing.T) {
	_, _, err := importHTTP(t, "testdata/team", "not-the-token", "")
	if !errors.Is(err, importer.ErrUnauthorized) {
		t.Fatalf("import with a wrong token: %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "Invalid token") {
		t.Errorf("the error %q does not carry the API's answer", err)
	}
}

// TestImportGolden compares each fixture's report (with its verify
// verdicts) and YAML with the reviewed ones in testdata.
func TestImportGolden(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res := importDir(t, dir)
			verdicts, err := importer.Verify(res)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			var report bytes.Buffer
			if err := importer.WriteReport(&report, res, verdicts, nil, false); err != nil {
				t.Fatal(err)
			}
			var yaml bytes.Buffer
			for _, o := range res.Objects {
				b, err := importer.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				yaml.WriteString("---\n")
				yaml.Write(b)
			}
			golden(t, dir+".report.txt", report.Bytes())
			golden(t, dir+".yaml", yaml.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, got)
	}
}

// entry finds the entry of a source object; kinds with several entries
// for one id (an override of many people) give the first.
func entry(t *testing.T, res *importer.Result, kind, id string) importer.Entry {
	t.Helper()
	for _, e := range res.Entries {
		if e.SourceKind == kind && e.SourceID == id {
			return e
		}
	}
	t.Fatalf("no entry for %s %s", kind, id)
	return importer.Entry{}
}

// TestTeamReport asserts what became of every source object of the team
// fixture, and that verify agrees with Grafana OnCall wherever the report
// says mapped and lists exactly the differences where it says
// approximated.
func TestTeamReport(t *testing.T) {
	res := importDir(t, "testdata/team")
	type want struct {
		kind, id string
		outcome  importer.Outcome
		object   string // Kind/name, or "" for none
		notes    []string
	}
	const (
		mapped = importer.Mapped
		approx = importer.Approximated
		not    = importer.NotMapped
	)
	wants := []want{
		{"user", "UALICE4K7Q2M9", approx, "Responder/alice", []string{"important rules became SEV1 rules", "default rule 5 (notify_by_phone_call after 15m0s): the API does not expose phone numbers", "important rule 1 (notify_by_sms after 0s): the API does not expose phone numbers"}},
		{"user", "UBOB8P3X1R5TN", mapped, "Responder/bob", nil},
		{"user", "UCAROL2W6Y4HJ", approx, "Responder/carol", []string{"notify_by_mobile_app after 15m0s"}},
		{"user", "UDAVE5N8V3KQL", mapped, "Responder/dave", nil},
		{"user", "UERIN7T2M6BPC", mapped, "Responder/erin", []string{"no notification rules"}},
		{"user", "UFRANK3Q9L5XD", mapped, "Responder/frank", nil},
		{"user", "UGRACE6H4J8WF", mapped, "Responder/grace-o-neil", []string{`"grace.o'neil" is no Kubernetes name`}},
		{"user", "UHENRY9C2R7SG", mapped, "Responder/henry", nil},
		{"user", "UIVAN4D6K3ZPH", mapped, "Responder/ivan", nil},
		{"schedule", "SLEGACYICAL01", not, "", []string{"an iCal schedule", "https://calendar.example.com/platform-oncall.ics"}},
		{"schedule", "SMONTHLY00001", approx, "OnCallSchedule/database-monthly", nil},
		{"on_call_shift", "OMONTHLY0001", approx, "", []string{"layer monthly-dba (level 0) of OnCallSchedule/database-monthly", "mapped as 30-day turns"}},
		{"schedule", "SPLATFORM0001", mapped, "OnCallSchedule/platform-primary", nil},
		{"on_call_shift", "OROTATION0001", mapped, "", []string{"layer follow-the-sun (level 0) of OnCallSchedule/platform-primary"}},
		{"on_call_shift", "OWEEKDAYS001", mapped, "", []string{"layer office-hours (level 1) of OnCallSchedule/platform-primary"}},
		{"on_call_shift", "OWEEKEND0001", mapped, "", []string{"layer weekends (level 2) of OnCallSchedule/platform-primary"}},
		{"on_call_shift", "OXMAS0000001", mapped, "", []string{"layer christmas-eve (level 3) of OnCallSchedule/platform-primary"}},
		{"on_call_shift", "OOVERRIDE000", not, "", []string{"ended at 2026-11-20T12:00:00Z, before the imported window"}},
		{"on_call_shift", "OOVERRIDE001", mapped, "", []string{"override of bob from 2026-12-16T11:00:00Z to 2026-12-16T17:00:00Z"}},
		{"on_call_shift", "OOVERRIDE002", mapped, "", []string{"override of erin from 2026-12-30T11:00:00Z"}},
		{"on_call_shift", "OORPHAN00001", not, "", []string{"no schedule lists it"}},
		{"escalation_chain", "FCRITICAL0001", approx, "EscalationPolicy/platform-critical", []string{"trigger_webhook", "round robin", "5 more times"}},
		{"escalation_chain", "FDATABASE0001", approx, "EscalationPolicy/database", []string{"notify_if_time_from_to", "notify_user_group", "declare_incident", "resolve"}},
		{"escalation_chain", "FLEGACY000001", not, "", []string{`schedule "SLEGACYICAL01" was not imported`, "pages nobody"}},
		{"escalation_chain", "FLOWPRIO00001", mapped, "EscalationPolicy/low-priority", nil},
		{"route", "RCRITICAL0001", mapped, "AlertRoute/prometheus-production-1", []string{"create Secret prometheus-production-1"}},
		{"route", "RREGEX0000001", not, "", []string{"regular expression", "by hand"}},
		{"route", "RDEFAULT00001", approx, "AlertRoute/prometheus-production", []string{"also opens incidents for some of their alerts", "create Secret prometheus-production"}},
		{"integration", "CALERTMGR0001", mapped, "", []string{"re-point its senders", "Kjq8xBBmvJ6aTP0pQzXG7kXoT"}},
		{"route", "RGRAFTEAM0001", mapped, "AlertRoute/grafana-alerts-1", []string{"create Secret grafana-alerts-1"}},
		{"route", "RGRAFDEF00001", mapped, "AlertRoute/grafana-alerts", []string{"create Secret grafana-alerts"}},
		{"integration", "CGRAFANA00001", mapped, "", []string{"re-point its senders"}},
	}
	seen := map[string]bool{}
	for _, w := range wants {
		seen[w.kind+"/"+w.id] = true
		e := entry(t, res, w.kind, w.id)
		obj := ""
		if e.Name != "" {
			obj = e.Kind + "/" + e.Name
		}
		if e.Outcome != w.outcome || obj != w.object {
			t.Errorf("%s %s: %s %s, want %s %s (notes %q)", w.kind, w.id, e.Outcome, obj, w.outcome, w.object, e.Notes)
		}
		all := strings.Join(e.Notes, "\n")
		for _, n := range w.notes {
			if !strings.Contains(all, n) {
				t.Errorf("%s %s: notes %q lack %q", w.kind, w.id, e.Notes, n)
			}
		}
		if w.notes == nil && e.Outcome == importer.Mapped && w.kind != "schedule" && len(e.Notes) > 0 {
			t.Errorf("%s %s: notes %q, want none", w.kind, w.id, e.Notes)
		}
	}
	for _, e := range res.Entries {
		if !seen[e.SourceKind+"/"+e.SourceID] {
			t.Errorf("entry for %s %s not asserted", e.SourceKind, e.SourceID)
		}
		for _, n := range e.Notes {
			if len(n) > 1000 {
				t.Errorf("%s %s: a note of %d characters", e.SourceKind, e.SourceID, len(n))
			}
		}
	}

	verdicts, err := importer.Verify(res)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]importer.Difference{}
	for _, v := range verdicts {
		byName[v.Schedule] = v.Differences
	}
	if len(verdicts) != 2 {
		t.Errorf("verdicts for %d schedules, want platform-primary and database-monthly", len(verdicts))
	}
	if d := byName["platform-primary"]; len(d) != 0 {
		t.Errorf("platform-primary is mapped but differs from Grafana OnCall: %+v", d)
	}
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	wantMonthly := []importer.Difference{{Start: day(31), End: day(32), Source: []string{}, Klaxon: []string{"henry"}}}
	if d := byName["database-monthly"]; !sameDifferences(d, wantMonthly) {
		t.Errorf("database-monthly differs from Grafana OnCall in %+v, want exactly %+v: on 31 December Grafana OnCall's 30-day turn has ended and the next begins on 1 January, Klaxon's next turn begins after 30 days", d, wantMonthly)
	}
}

// TestTeamFinals checks the final shifts read at instants worked out from
// the fixture's shifts: the people Grafana OnCall says, in Klaxon's names.
func TestTeamFinals(t *testing.T) {
	res := importDir(t, "testdata/team")
	var final importer.Final
	for _, f := range res.Finals {
		if f.Schedule == "platform-primary" {
			final = f
		}
	}
	at := func(s string) []string {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, iv := range final.Intervals {
			if !ts.Before(iv.Start) && ts.Before(iv.End) {
				out = append(out, iv.People...)
			}
		}
		slices.Sort(out)
		return out
	}
	for instant, want := range map[string][]string{
		"2026-12-07T00:00:00Z": {"alice", "bob"},  // the rotation's first turn, before the Monday handoff
		"2026-12-07T08:30:00Z": {"carol"},         // the second turn, before office hours
		"2026-12-08T12:00:00Z": {"dave"},          // office hours win over the rotation
		"2026-12-12T12:00:00Z": {"frank"},         // the second weekend turn
		"2026-12-16T12:00:00Z": {"bob"},           // the override beats office hours
		"2026-12-24T20:00:00Z": {"grace-o-neil"},  // the single event at level 3
		"2026-12-27T12:00:00Z": {"frank"},         // the weekend turn begun before until runs to its end
		"2027-01-02T12:00:00Z": {"alice", "bob"},  // no weekend turn begins after until
		"2026-12-30T12:00:00Z": {"erin", "frank"}, // the override of two
		"2027-01-03T23:59:00Z": {"alice", "bob"},  // the window's end
	} {
		if got := at(instant); !slices.Equal(got, want) {
			t.Errorf("final shifts at %s: %v, want %v", instant, got, want)
		}
	}
	for _, iv := range final.Intervals {
		if iv.Start.Before(res.Window.From) || iv.End.After(res.Window.To) {
			t.Errorf("interval %v to %v is not clipped to the window", iv.Start, iv.End)
		}
	}
}

// TestLevelsReport: the second shift of a level adds to the layers below;
// verify lists exactly the Saturday stretches where that differs from
// Grafana OnCall, which has only the shift's person on call there.
func TestLevelsReport(t *testing.T) {
	res := importDir(t, "testdata/levels")
	for id, want := range map[string]importer.Outcome{
		"OSUPPORT0001": importer.Mapped, "OSATURDAY001": importer.Mapped, "OSATURDAY002": importer.Approximated,
	} {
		if e := entry(t, res, "on_call_shift", id); e.Outcome != want {
			t.Errorf("shift %s: %s, want %s (notes %q)", id, e.Outcome, want, e.Notes)
		}
	}
	if e := entry(t, res, "on_call_shift", "OSATURDAY002"); !strings.Contains(strings.Join(e.Notes, " "), "shares level 1") {
		t.Errorf("notes %q do not say why", e.Notes)
	}
	if e := entry(t, res, "schedule", "SSUPPORT00001"); e.Outcome != importer.Approximated {
		t.Errorf("schedule: %s, want approximated", e.Outcome)
	}
	verdicts, err := importer.Verify(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != 1 {
		t.Fatalf("verdicts %+v", verdicts)
	}
	// 14:00 to 16:00 in New York (UTC-5) each Saturday; the daily rotation
	// has alice on even days from 7 December, bob on odd ones.
	sat := func(d int, month time.Month, rotation string) importer.Difference {
		at := time.Date(2026, month, d, 19, 0, 0, 0, time.UTC)
		return importer.Difference{Start: at, End: at.Add(2 * time.Hour), Source: []string{"dave"}, Klaxon: []string{rotation, "dave"}}
	}
	want := []importer.Difference{sat(12, 12, "bob"), sat(19, 12, "alice"), sat(26, 12, "bob"), sat(2+31, 12, "alice")}
	if got := verdicts[0].Differences; !sameDifferences(got, want) {
		t.Errorf("differences\n%+v\nwant exactly\n%+v", got, want)
	}
}

// sameDifferences compares differences by instant, whatever the zone
// their times are read in.
func sameDifferences(a, b []importer.Difference) bool {
	return slices.EqualFunc(a, b, func(x, y importer.Difference) bool {
		return x.Start.Equal(y.Start) && x.End.Equal(y.End) && slices.Equal(x.Source, y.Source) && slices.Equal(x.Klaxon, y.Klaxon)
	})
}

// TestMappedSchedulesVerify: no entry calls a schedule mapped (as its own
// object or as the object of a shift) when verify finds a difference in
// it, which is what the cluster test reads from the report.
func TestMappedSchedulesVerify(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res := importDir(t, dir)
			verdicts, err := importer.Verify(res)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range verdicts {
				if len(v.Differences) == 0 {
					continue
				}
				for _, e := range res.Entries {
					if e.Kind == "OnCallSchedule" && e.Name == v.Schedule && e.Outcome == importer.Mapped {
						t.Errorf("%s %s calls %s mapped, and %s", e.SourceKind, e.SourceID, v.Schedule, importer.Differ(len(v.Differences)))
					}
				}
			}
		})
	}
}
