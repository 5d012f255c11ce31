package pagerduty

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/importer"
	"github.com/klaxon-dev/klaxon/internal/importer/apitest"
)

const testToken = "u+pd-test-token"

// api answers as PagerDuty's REST API v2 does: the token in
// "Authorization: Token token=...", the v2 Accept header, and its error
// bodies.
var api = apitest.API{
	Authorized: func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Token token="+testToken &&
			r.Header.Get("Accept") == "application/vnd.pagerduty+json;version=2"
	},
	Unauthorized: `{"error":{"message":"Authentication failed","code":2006}}`,
	NotFound:     `{"error":{"message":"Not Found","code":2100}}`,
}

// want is the expected report entry of one source object.
type want struct {
	kind, id string
	outcome  importer.Outcome
	name     string // Klaxon object name; "" when nothing was written
	notes    []string
}

// fixture is a directory of saved answers and what importing it must give.
type fixture struct {
	entries []want
	// differ are the expected differing intervals of each schedule that
	// is reported approximated; every other schedule must agree.
	differ map[string][]importer.Difference
}

var fixtures = map[string]fixture{
	"team": {
		entries: []want{
			{"user", "PALICE1", importer.Mapped, "alice-doe", nil},
			{"user", "PBOB002", importer.Approximated, "bob-muller", []string{
				"contact push-pixel-8: PagerDuty's push address is its app's device, which no Klaxon channel reaches: set the address the push channel delivers to by hand"}},
			{"user", "PCAROL3", importer.Mapped, "carol-nakamura", nil},
			{"user", "PDAVE04", importer.Mapped, "dave-o-brien", nil},
			{"user", "PERIN05", importer.Mapped, "erin-smith", nil},
			{"user", "PFRANK6", importer.Mapped, "frank-zhang", nil},
			{"schedule", "PDAILY1", importer.Mapped, "payments-primary", nil},
			{"override", "PO1A", importer.Mapped, "", []string{"frank-zhang on call in place of everyone from 2026-12-06 20:00Z to 2026-12-07 08:00Z, in spec.overrides of OnCallSchedule/payments-primary"}},
			{"override", "PO1B", importer.Mapped, "", []string{"dave-o-brien on call in place of everyone from 2026-12-10 08:00Z to 2026-12-10 12:00Z, in spec.overrides of OnCallSchedule/payments-primary"}},
			{"override", "PO1C", importer.Mapped, "", []string{"erin-smith on call in place of everyone from 2026-12-23 23:00Z to 2026-12-26 23:00Z, in spec.overrides of OnCallSchedule/payments-primary"}},
			{"override", "PO1D", importer.Mapped, "", []string{"alice-doe on call in place of everyone from 2027-01-31 23:00Z to 2027-02-02 23:00Z, in spec.overrides of OnCallSchedule/payments-primary"}},
			{"schedule", "PWEEKL2", importer.Approximated, "platform-secondary", []string{
				`user "Gina Former" (PGINA07) is deactivated or deleted in PagerDuty but still takes turns: kept as gina-former, who has no Responder, so those turns page nobody; put someone else in their place`}},
			{"schedule", "PLAYER3", importer.Mapped, "database", []string{
				`layer "Retired": ended 2026-11-15 00:00Z, before 2026-12-07 00:00Z: left out`,
				`layer "New Nights": starts 2026-12-18 20:00Z, within a turn: that turn is layer new-nights-first-turn, the rotation goes on from the handoff at 2026-12-19 08:00Z`}},
			// Begun in summer: the December window checks that turns keep
			// their local handoff time (09:00 New York, now 14:00Z).
			{"schedule", "PSUMMR5", importer.Mapped, "support-weekly", nil},
			{"escalation_policy", "PEPPAY1", importer.Mapped, "payments", nil},
			{"escalation_policy", "PEPDB02", importer.Approximated, "database", []string{
				"rule 1 assigns round robin, one target after another; Klaxon pages all of the level's targets at once",
				"num_loops 12: Klaxon repeats at most 10 times"}},
			{"escalation_policy", "PEPLEG3", importer.Approximated, "legacy-ops", []string{
				`rule 1 pages user "Gina Former" (PGINA07), who is deactivated or deleted in PagerDuty: kept as gina-former, who has no Responder`,
				`rule 1 targets schedule_v3_reference "Flexible Rotation" (PV3SCH9), which a Klaxon level cannot page: left out`}},
		},
		differ: map[string][]importer.Difference{
			// Klaxon and PagerDuty agree on whose turn it is, but the
			// turns of the deleted Gina page nobody in Klaxon.
			"platform-secondary": nil,
		},
	},
	"approximated": {
		entries: []want{
			{"user", "PALEX01", importer.Mapped, "alex-kim", nil},
			{"user", "PALEX02", importer.Mapped, "alex-kim-palex02", []string{"name alex-kim was taken by Responder PALEX01: named alex-kim-palex02"}},
			{"user", "PBOB002", importer.Mapped, "bob-muller", nil},
			{"user", "PCAROL3", importer.Mapped, "carol-nakamura", nil},
			{"user", "PDAVE04", importer.Mapped, "dave-o-brien", nil},
			{"user", "PLILEI8", importer.Approximated, "responder-plilei8", []string{
				`"李雷" has no letters or digits to name it by: named responder-plilei8 after its id`,
				`contact method PLW1 of type "whatsapp_contact_method" has no Klaxon channel: left out; add it by hand if a channel can reach it`,
				"notification rule PLWR uses contact method PLW1, which was not imported: left out"}},
			{"schedule", "PLUNCH4", importer.Approximated, "lunch-desk", []string{
				`layer "Lunch Relay": turns of 1800s are shorter than the hour a Klaxon shift lasts at least: left out, so its people are not on call in Klaxon`}},
		},
		differ: map[string][]importer.Difference{
			// PagerDuty's relay hands the Wednesday lunch hour to Carol
			// and Dave in half hours; Klaxon leaves Bob's desk on call.
			"lunch-desk": lunchRelay("2026-12-09", "2026-12-16", "2026-12-23", "2026-12-30"),
		},
	},
}

func lunchRelay(days ...string) []importer.Difference {
	var out []importer.Difference
	for _, d := range days {
		at := func(hhmm string) time.Time {
			t, err := time.Parse(time.RFC3339, d+"T"+hhmm+":00Z")
			if err != nil {
				panic(err)
			}
			return t
		}
		out = append(out,
			importer.Difference{Start: at("12:00"), End: at("12:30"), Source: []string{"carol-nakamura"}, Klaxon: []string{"bob-muller"}},
			importer.Difference{Start: at("12:30"), End: at("13:00"), Source: []string{"dave-o-brien"}, Klaxon: []string{"bob-muller"}})
	}
	return out
}

func TestImportFixtures(t *testing.T) {
	for name, fx := range fixtures {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			m, err := importer.ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			opts := importer.Options{Window: m.Window}

			fromDir, err := Import(context.Background(), importer.DirSource{Dir: dir}, opts)
			if err != nil {
				t.Fatalf("import from the directory: %v", err)
			}
			checkEntries(t, fromDir, fx.entries)
			checkVerify(t, fromDir, fx.differ)

			srv := apitest.Serve(t, api, dir)
			srv.ThrottleOnce("users")
			var waited []time.Duration
			save := t.TempDir()
			src := httpSource(t, srv, testToken)
			src.SaveDir = save
			src.Sleep = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
			overHTTP, err := Import(context.Background(), src, opts)
			if err != nil {
				t.Fatalf("import over HTTP: %v", err)
			}
			if !reflect.DeepEqual(waited, []time.Duration{time.Second}) {
				t.Errorf("waits after the 429: %v, want the Retry-After of 1s", waited)
			}
			sameResult(t, "over HTTP", overHTTP, fromDir)

			// The answers saved while importing over HTTP import alike.
			fromSaved, err := Import(context.Background(), importer.DirSource{Dir: save}, opts)
			if err != nil {
				t.Fatalf("import from the saved answers: %v", err)
			}
			sameResult(t, "from the saved answers", fromSaved, fromDir)

			// Each object is written, and the report prints.
			out := filepath.Join(t.TempDir(), "klaxon-import")
			if err := importer.Write(out, fromDir); err != nil {
				t.Fatal(err)
			}
			for _, o := range fromDir.Objects {
				f := filepath.Join(out, importer.Plural(importer.KindOf(o)), o.GetName()+".yaml")
				if _, err := os.Stat(f); err != nil {
					t.Errorf("not written: %v", err)
				}
			}
		})
	}
}

func TestImportPaging(t *testing.T) {
	dir := filepath.Join("testdata", "team")
	m, err := importer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := apitest.Serve(t, api, dir)
	if _, err := Import(context.Background(), httpSource(t, srv, testToken), importer.Options{Window: m.Window}); err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "/users?") {
			u, err := url.Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			users = append(users, q.Get("limit")+"/"+q.Get("offset")+"/"+strings.Join(q["include[]"], ","))
		}
	}
	wantUsers := []string{"100/0/contact_methods,notification_rules", "100/3/contact_methods,notification_rules"}
	if !reflect.DeepEqual(users, wantUsers) {
		t.Errorf("users pages asked for (limit/offset/include): %v, want %v", users, wantUsers)
	}
}

func TestImportWrongToken(t *testing.T) {
	dir := filepath.Join("testdata", "team")
	srv := apitest.Serve(t, api, dir)
	_, err := Import(context.Background(), httpSource(t, srv, "not-the-token"), importer.Options{Window: importer.Window{
		From: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}})
	if !errors.Is(err, importer.ErrUnauthorized) {
		t.Fatalf("import with a wrong token: %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "Authentication failed") {
		t.Errorf("the error does not carry PagerDuty's message: %v", err)
	}
}

func httpSource(t *testing.T, srv *apitest.Server, token string) *importer.HTTPSource {
	t.Helper()
	base, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &importer.HTTPSource{Base: base, Token: token, Authorize: Provider.Authorize, Name: Provider.Name,
		Sleep: func(context.Context, time.Duration) error { return nil }}
}

func checkEntries(t *testing.T, r *importer.Result, wants []want) {
	t.Helper()
	if len(r.Entries) != len(wants) {
		t.Errorf("%d entries, want %d", len(r.Entries), len(wants))
	}
	for i := 0; i < len(r.Entries) && i < len(wants); i++ {
		got, w := r.Entries[i], wants[i]
		if got.SourceKind != w.kind || got.SourceID != w.id || got.Outcome != w.outcome || got.Name != w.name {
			t.Errorf("entry %d: %s %s %s %s, want %s %s %s %s", i, got.SourceKind, got.SourceID, got.Outcome, got.Name, w.kind, w.id, w.outcome, w.name)
		}
		if !reflect.DeepEqual(got.Notes, w.notes) {
			t.Errorf("entry %d (%s %s) notes:\n%q\nwant\n%q", i, w.kind, w.id, got.Notes, w.notes)
		}
	}
}

func checkVerify(t *testing.T, r *importer.Result, differ map[string][]importer.Difference) {
	t.Helper()
	verdicts, err := importer.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	approximated := map[string]bool{}
	for _, e := range r.Entries {
		if e.Kind == kindSchedule && e.Outcome == importer.Approximated {
			approximated[e.Name] = true
		}
	}
	schedules := 0
	for _, e := range r.Entries {
		if e.Kind == kindSchedule {
			schedules++
		}
	}
	if len(verdicts) != schedules {
		t.Errorf("%d verdicts for %d imported schedules", len(verdicts), schedules)
	}
	for _, v := range verdicts {
		want, listed := differ[v.Schedule]
		if !approximated[v.Schedule] && listed {
			t.Errorf("%s: the test expects differences of a schedule reported mapped", v.Schedule)
		}
		if approximated[v.Schedule] && !listed {
			t.Errorf("%s is reported approximated: the test must name the intervals that differ (nil: none)", v.Schedule)
		}
		if (len(v.Differences) > 0 || len(want) > 0) && !reflect.DeepEqual(v.Differences, want) {
			var b bytes.Buffer
			_ = importer.WriteReport(&b, r, []importer.Verdict{v}, nil, false)
			t.Errorf("%s: verify gives %d differences, want %d:\n%s", v.Schedule, len(v.Differences), len(want), b.String())
		}
	}
}

func sameResult(t *testing.T, how string, got, want *importer.Result) {
	t.Helper()
	if !reflect.DeepEqual(got.Entries, want.Entries) {
		t.Errorf("%s: the entries differ from the directory's", how)
	}
	if !reflect.DeepEqual(got.Finals, want.Finals) {
		t.Errorf("%s: the final schedules differ from the directory's", how)
	}
	if len(got.Objects) != len(want.Objects) {
		t.Fatalf("%s: %d objects, want %d", how, len(got.Objects), len(want.Objects))
	}
	for i := range got.Objects {
		a, err1 := importer.Marshal(got.Objects[i])
		b, err2 := importer.Marshal(want.Objects[i])
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: object %d differs:\n%s\nwant\n%s", how, i, a, b)
		}
	}
}

// PagerDuty overrides become the schedule's own overrides, each putting
// one person on call in place of everyone: those begun before the window
// and those planned beyond it too.
func TestImportOverrides(t *testing.T) {
	dir := filepath.Join("testdata", "team")
	m, err := importer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Import(context.Background(), importer.DirSource{Dir: dir}, importer.Options{Window: m.Window})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := r.Object(kindSchedule, "payments-primary").(*klaxonv1alpha1.OnCallSchedule)
	if !ok {
		t.Fatal("payments-primary was not imported")
	}
	at := func(s string) metav1.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return metav1.NewTime(tm)
	}
	want := []klaxonv1alpha1.ScheduleOverride{
		{User: "frank-zhang", Start: at("2026-12-06T20:00:00Z"), End: at("2026-12-07T08:00:00Z")},
		{User: "dave-o-brien", Start: at("2026-12-10T08:00:00Z"), End: at("2026-12-10T12:00:00Z")},
		{User: "erin-smith", Start: at("2026-12-23T23:00:00Z"), End: at("2026-12-26T23:00:00Z")},
		{User: "alice-doe", Start: at("2027-01-31T23:00:00Z"), End: at("2027-02-02T23:00:00Z")},
	}
	if len(s.Spec.Overrides) != len(want) {
		t.Fatalf("overrides %+v, want %+v", s.Spec.Overrides, want)
	}
	for i := range want {
		g, w := s.Spec.Overrides[i], want[i]
		if g.User != w.User || !g.Start.Equal(&w.Start) || !g.End.Equal(&w.End) {
			t.Errorf("override %d: %s %s to %s, want %s %s to %s", i, g.User, g.Start, g.End, w.User, w.Start, w.End)
		}
	}
}
