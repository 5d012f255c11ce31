package opsgenie

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/apitest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the fixtures")

const (
	teamDir = "testdata/team"
	apiKey  = "eb243592-faa2-4ba2-a551q-1afdf565c889"
)

// opsgenieAPI answers as Opsgenie's REST API v2 does: a GenieKey in the
// Authorization header, and its own bodies for 401 and 404.
func opsgenieAPI(key string) apitest.API {
	return apitest.API{
		Prefix:       "/v2",
		Authorized:   func(r *http.Request) bool { return r.Header.Get("Authorization") == "GenieKey "+key },
		Unauthorized: `{"message":"Could not authenticate","took":0.001,"requestId":"f0a5c1e2-5b3d-4c1a-9e2f-6a7b8c9d0e1f"}`,
		NotFound:     `{"message":"No handler found for this request","took":0.001,"requestId":"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"}`,
	}
}

// httpSource reads server with key; its retries do not wait.
func httpSource(t *testing.T, server *apitest.Server, key string, waits *[]time.Duration) *importer.HTTPSource {
	t.Helper()
	base, err := url.Parse(server.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &importer.HTTPSource{
		Base: base, Token: key, Authorize: Provider.Authorize, Name: Provider.Name,
		Sleep: func(_ context.Context, d time.Duration) error {
			if waits != nil {
				*waits = append(*waits, d)
			}
			return nil
		},
	}
}

func window(t testing.TB, dir string) importer.Window {
	t.Helper()
	m, err := importer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != Provider.Name {
		t.Fatalf("%s holds answers of %s", dir, m.Source)
	}
	return m.Window
}

func importDir(t *testing.T, dir string) *importer.Result {
	t.Helper()
	res, err := Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: window(t, dir)})
	if err != nil {
		t.Fatalf("importing %s: %v", dir, err)
	}
	return res
}

// objectsYAML is every object of r as the YAML the import writes.
func objectsYAML(t *testing.T, r *importer.Result) string {
	t.Helper()
	var b strings.Builder
	for _, o := range r.Objects {
		data, err := importer.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.String()
}

// golden compares got with the file name in testdata, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// wantTeamEntries are the report entries of testdata/team: every source
// object, with its outcome and notes.
var wantTeamEntries = []importer.Entry{
	{SourceKind: "user", SourceID: "4d2c7a10-0a1b-4c2d-8e3f-000000000001", SourceName: "alice@example.com", Outcome: importer.Approximated, Kind: "Responder", Name: "alice", Notes: []string{
		`contact push is Opsgenie's app on the device "Alice's Pixel", a label no push channel can deliver to: set its address to the person's push address by hand`,
		`rule "Acknowledged" (acknowledged-alert) not mapped: Klaxon's rules say how a page reaches the person, and it tells nobody of other events`,
		`rule "On-call starts" (schedule-start) not mapped: Klaxon's rules say how a page reaches the person, and it tells nobody of other events`,
	}},
	{SourceKind: "user", SourceID: "4d2c7a10-0a1b-4c2d-8e3f-000000000002", SourceName: "bob@example.com", Outcome: importer.Mapped, Kind: "Responder", Name: "bob"},
	{SourceKind: "user", SourceID: "4d2c7a10-0a1b-4c2d-8e3f-000000000003", SourceName: "carol@example.com", Outcome: importer.Approximated, Kind: "Responder", Name: "carol", Notes: []string{
		`rule "All but P5" matches P1, P2, P3, P4: Klaxon's SEV4 is both P4 and P5, so it applies to both`,
	}},
	{SourceKind: "user", SourceID: "4d2c7a10-0a1b-4c2d-8e3f-000000000004", SourceName: "dave@example.com", Outcome: importer.Mapped, Kind: "Responder", Name: "dave", Notes: []string{
		`contact voice is disabled in Opsgenie: written, but no rule uses it`,
		`rule "Old" is disabled in Opsgenie: left out`,
	}},
	{SourceKind: "user", SourceID: "4d2c7a10-0a1b-4c2d-8e3f-000000000005", SourceName: "zoe@example.com", Outcome: importer.Approximated, Kind: "Responder", Name: "zoe-muller", Notes: []string{
		`rule "Database alerts": the condition on "tags" not mapped (Klaxon's rules choose by severity only): taken to match every alert`,
	}},
	{SourceKind: "schedule", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000001", SourceName: "Payments Primary", Outcome: importer.Mapped, Kind: "OnCallSchedule", Name: "payments-primary"},
	{SourceKind: "override", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000001/christmas-cover", SourceName: "christmas-cover", Outcome: importer.Mapped, Kind: "OnCallOverride", Name: "payments-primary-20261224t1700-off", Notes: []string{
		`written as two OnCallOverrides: payments-primary-20261224t1700-off takes everyone else off call, payments-primary-20261224t1700 puts zoe-muller on`,
	}},
	{SourceKind: "schedule", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000002", SourceName: "Payments Weekend", Outcome: importer.Approximated, Kind: "OnCallSchedule", Name: "payments-weekend", Notes: []string{
		`1 of its overrides could not be imported as they are (see them below): verify shows where who is on call differs while they apply`,
	}},
	{SourceKind: "override", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000002/dentist", SourceName: "dentist", Outcome: importer.Approximated, Kind: "OnCallOverride", Name: "payments-weekend-20261212t1000", Notes: []string{
		`it puts carol on call in place of rotations "Weekend" only, and Klaxon's overrides cannot tell one layer's people from another's: carol is added beside whoever the schedule has, and verify shows the times those rotations have someone on call during it, whom Klaxon keeps`,
	}},
	{SourceKind: "schedule", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000003", SourceName: "Platform", Outcome: importer.Approximated, Kind: "OnCallSchedule", Name: "platform", Notes: []string{
		`rotation "SRE team" left out: its participant team "SRE" is no person, and Klaxon's layers rotate people: put the people it stands for into a layer by hand`,
		`verify shows as differences the times the rotations left out (1 of 2) have someone on call`,
	}},
	{SourceKind: "schedule", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000004", SourceName: "Follow the Sun", Outcome: importer.NotMapped, Notes: []string{
		`its time zone "Mars/Olympus_Mons" is unknown here: write the schedule by hand`,
	}},
	{SourceKind: "schedule", SourceID: "0b5e1c52-7d3a-4f0e-a1c4-000000000005", SourceName: "Support", Outcome: importer.Mapped, Kind: "OnCallSchedule", Name: "support"},
	{SourceKind: "escalation", SourceID: "c3d4e5f6-1a2b-4c3d-9e8f-000000000001", SourceName: "Payments Escalation", Outcome: importer.Mapped, Kind: "EscalationPolicy", Name: "payments-escalation"},
	{SourceKind: "escalation", SourceID: "c3d4e5f6-1a2b-4c3d-9e8f-000000000002", SourceName: "Platform Escalation", Outcome: importer.Approximated, Kind: "EscalationPolicy", Name: "platform-escalation", Notes: []string{
		`its rules notify until the alert is closed (if-not-closed): Klaxon stops escalating at acknowledgement`,
		`rule 1 pages the next on-call of schedule "Platform": Klaxon pages who is on call now`,
		`rule 3 left out: it notifies team "SRE", and Klaxon pages schedules and people: page the team's schedule or people instead`,
		`it repeats 15 times: Klaxon repeats at most 10`,
		`its repeat resets the recipients' states (resetRecipientStates): Klaxon's repeats follow an incident nobody acknowledged, so there is nothing to reset`,
		`it closes the alert after the last repeat (closeAlertAfterAll): Klaxon leaves the incident open and says escalation is exhausted`,
	}},
	{SourceKind: "escalation", SourceID: "c3d4e5f6-1a2b-4c3d-9e8f-000000000003", SourceName: "Follow the Sun Escalation", Outcome: importer.Approximated, Kind: "EscalationPolicy", Name: "follow-the-sun-escalation", Notes: []string{
		`rule 1 pages schedule "Follow the Sun", which was not imported: the policy waits for an OnCallSchedule follow-the-sun, which you write by hand`,
	}},
}

func day(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, time.UTC) }

// wantTeamDifferences are the intervals in which Klaxon differs from
// Opsgenie's final timelines, by schedule: none for a schedule mapped
// with its overrides, and exactly what the approximations change.
var wantTeamDifferences = map[string][]importer.Difference{
	"payments-primary": nil,
	// Carol stands in for the weekend rotation only; Klaxon adds her
	// beside Dave, whose weekend it is.
	"payments-weekend": {{Start: day(12, 10, 0), End: day(12, 14, 0), Source: []string{"bob", "carol"}, Klaxon: []string{"bob", "carol", "dave"}}},
	// The SRE team's day is not imported.
	// Turns that hand over inside their restriction windows.
	"support":  nil,
	"platform": {{Start: day(19, 0, 0), End: day(20, 0, 0), Source: []string{"bob", "team:SRE"}, Klaxon: []string{"bob"}}},
}

// checkTeam asserts everything the import of testdata/team must say.
func checkTeam(t *testing.T, res *importer.Result) {
	t.Helper()
	if diff := cmp.Diff(wantTeamEntries, res.Entries); diff != "" {
		t.Errorf("report entries differ (-want +got):\n%s", diff)
	}
	verdicts, err := importer.Verify(res)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]importer.Difference{}
	for _, v := range verdicts {
		got[v.Schedule] = v.Differences
	}
	if diff := cmp.Diff(wantTeamDifferences, got, cmp.Transformer("empty", func(d []importer.Difference) []importer.Difference {
		if len(d) == 0 {
			return nil
		}
		return d
	})); diff != "" {
		t.Errorf("verify differs (-want +got):\n%s", diff)
	}
	// Every schedule the report calls mapped agrees with Opsgenie.
	for _, e := range res.Entries {
		if e.Kind == "OnCallSchedule" && e.Outcome == importer.Mapped && len(got[e.Name]) != 0 {
			t.Errorf("schedule %s is reported mapped, and verify finds %d differences", e.Name, len(got[e.Name]))
		}
	}
}

func TestImportTeamFromDir(t *testing.T) {
	res := importDir(t, teamDir)
	checkTeam(t, res)
	golden(t, "team.golden.yaml", objectsYAML(t, res))
}

func TestImportTeamOverHTTP(t *testing.T) {
	server := apitest.Serve(t, opsgenieAPI(apiKey), teamDir)
	// The first page of users is throttled once: the import waits as
	// Retry-After says and reads it again.
	server.ThrottleOnce("users")
	var waits []time.Duration
	src := httpSource(t, server, apiKey, &waits)
	src.SaveDir = t.TempDir()
	res, err := Import(context.Background(), src, importer.Options{Window: window(t, teamDir)})
	if err != nil {
		t.Fatal(err)
	}
	checkTeam(t, res)
	if !slices.Equal(waits, []time.Duration{time.Second}) {
		t.Errorf("waits = %v, want one of 1s after the 429", waits)
	}
	// Both pages of users were read, the first one twice.
	var users []string
	for _, r := range server.Requests() {
		if strings.HasPrefix(r, "/v2/users?") {
			users = append(users, r)
		}
	}
	if want := []string{"/v2/users?limit=100&offset=0", "/v2/users?limit=100&offset=0", "/v2/users?limit=100&offset=3"}; !slices.Equal(users, want) {
		t.Errorf("user pages read = %v, want %v", users, want)
	}
	// What was read over HTTP and saved imports the same from the saved
	// answers.
	again, err := Import(context.Background(), importer.DirSource{Dir: src.SaveDir}, importer.Options{Window: window(t, teamDir)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objectsYAML(t, res), objectsYAML(t, again)); diff != "" {
		t.Errorf("the saved answers import differently (-http +saved):\n%s", diff)
	}
	if diff := cmp.Diff(res.Finals, again.Finals); diff != "" {
		t.Errorf("the saved answers give other finals (-http +saved):\n%s", diff)
	}
}

func TestImportWrongKey(t *testing.T) {
	server := apitest.Serve(t, opsgenieAPI(apiKey), teamDir)
	_, err := Import(context.Background(), httpSource(t, server, "not-the-key", nil), importer.Options{Window: window(t, teamDir)})
	if !errors.Is(err, importer.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "Could not authenticate") {
		t.Errorf("err = %v, want Opsgenie's message", err)
	}
}

// TestTeamFinalsByHand checks the fixture's final timelines (Opsgenie's
// answers, as the import reads them into Result.Finals) at instants worked
// out by hand from the rotations in testdata/build_team.py. What the
// imported schedules put on call is compared with these finals by verify,
// in checkTeam.
func TestTeamFinalsByHand(t *testing.T) {
	res := importDir(t, teamDir)
	cases := []struct {
		schedule string
		at       time.Time
		want     []string
	}{
		// Monday 07:59Z: Alice's week is not over; office hours closed.
		{"payments-primary", day(7, 7, 59), []string{"alice"}},
		// Tuesday 10:00Z: Bob's week; Dave's office day (day 7 from 1 Dec).
		{"payments-primary", day(8, 10, 0), []string{"bob", "dave"}},
		// 16:00Z is 17:00 in Berlin: office hours are over.
		{"payments-primary", day(8, 16, 0), []string{"bob"}},
		// Christmas Day: Zoë covers everyone.
		{"payments-primary", day(25, 12, 0), []string{"zoe-muller"}},
		// Monday 07:00Z: Zoë's weekend (from Friday 4 Dec) and Alice's
		// night watch.
		{"payments-weekend", day(7, 7, 0), []string{"alice", "zoe-muller"}},
		// Wednesday 12:00Z: only the night watch, Bob's turn.
		{"payments-weekend", day(9, 12, 0), []string{"bob"}},
		// Saturday 12 December 12:00Z: Carol covers Dave's weekend.
		{"payments-weekend", day(12, 12, 0), []string{"bob", "carol"}},
		// The night watch ended on 21 December: Friday 25th evening is Dave's.
		{"payments-weekend", day(25, 20, 0), []string{"dave"}},
		{"payments-weekend", day(23, 12, 0), nil},
		// Platform: Bob on even days from 1 December, the SRE team on the 19th.
		{"platform", day(8, 12, 0), []string{"carol"}},
		{"platform", day(19, 12, 0), []string{"bob", "team:SRE"}},
		// Support, in Berlin: days hand over at 12:00 (11:00Z) from
		// Tuesday 1 December, Carol, Dave, Zoë; weekends at Saturday 12:00
		// from 28 November, Alice, Bob. Tuesday 8 December 10:00Z: Carol's
		// turn from Monday noon, in its second window.
		{"support", day(8, 10, 0), []string{"carol"}},
		{"support", day(8, 12, 0), []string{"dave"}},
		// 17:30 in Berlin: the days are over, the weekend not begun.
		{"support", day(8, 16, 30), nil},
		// Friday 11 December 19:00 Berlin: Bob's weekend turn from 5
		// December, in its second window.
		{"support", day(11, 18, 0), []string{"bob"}},
		// Saturday 12 December 11:00 Berlin: Bob's weekend and Dave's day
		// (from Friday noon) both end at noon.
		{"support", day(12, 10, 0), []string{"bob", "dave"}},
		{"support", day(12, 12, 0), []string{"alice", "zoe-muller"}},
		// Monday 14 December 08:30 Berlin: Alice's weekend until 09:00.
		{"support", day(14, 7, 30), []string{"alice"}},
	}
	for _, c := range cases {
		i := slices.IndexFunc(res.Finals, func(f importer.Final) bool { return f.Schedule == c.schedule })
		if i < 0 {
			t.Fatalf("no final for %s", c.schedule)
		}
		if got := peopleAt(res.Finals[i].Intervals, c.at); !slices.Equal(got, c.want) {
			t.Errorf("Opsgenie's final %s at %s = %v, want %v", c.schedule, c.at.Format(time.RFC3339), got, c.want)
		}
	}
	// payments-primary on 27 December 08:00Z: the cover ends; Bob's week
	// (21 to 28 December) and Carol's office day (day 26 from 1 December).
	if got := peopleAt(res.Finals[0].Intervals, day(27, 8, 0)); !slices.Equal(got, []string{"bob", "carol"}) {
		t.Errorf("payments-primary at the end of the cover = %v, want [bob carol]", got)
	}
}

func peopleAt(list []importer.Interval, t time.Time) []string {
	var out []string
	for _, iv := range list {
		if !t.Before(iv.Start) && t.Before(iv.End) {
			out = append(out, iv.People...)
		}
	}
	slices.Sort(out)
	return out
}

// TestTeamReport is the text report of the team fixture with its verify
// verdicts, as the guide shows it.
func TestTeamReport(t *testing.T) {
	res := importDir(t, teamDir)
	verdicts, err := importer.Verify(res)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := importer.WriteReport(&b, res, verdicts, nil, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "team.report.txt", b.String())
}
