package opsgenie

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// overlay reads one answer from its own directory and the others from
// the fixture's, so that a fuzz run writes one file an input.
type overlay struct {
	name      string
	one, base importer.DirSource
}

func (o overlay) Get(ctx context.Context, path string, query url.Values, v any) error {
	if importer.FileName(path, query) == o.name {
		return o.one.Get(ctx, path, query, v)
	}
	return o.base.Get(ctx, path, query, v)
}

// smallAnswers are a few short answers with every shape the import reads,
// so that the fuzzer's inputs stay small.
func smallAnswers(tb testing.TB) *answers {
	a := newAnswers(tb)
	alice := user{ID: "u1", Username: "alice@example.com", FullName: "Alice"}
	a.users(alice, user{ID: "u2", Username: "bob@example.com", FullName: "Bob"})
	a.put("users/u1/contacts", nil, []contact{{ID: "c1", Method: "email", To: "alice@example.com"}, {ID: "c2", Method: "sms", To: "1-555"}})
	a.put("users/u1/notification-rules", nil, []notificationRuleSummary{{ID: "r1", Name: "New", ActionType: actionCreate, Enabled: true}})
	a.put("users/u1/notification-rules/r1", nil, notificationRule{ID: "r1", Name: "New", ActionType: actionCreate, Enabled: true,
		Criteria: &criteria{Type: "match-any-condition", Conditions: []condition{{Field: "priority", Operation: "equals", ExpectedValue: "P1"}}},
		Steps:    []ruleStep{{Enabled: true, Contact: stepContact{Method: "sms", To: "1-555"}, SendAfter: &timeAmount{TimeAmount: 5}}}})
	a.schedules(schedule{ID: "s1", Name: "Primary", Timezone: "Europe/Berlin", Rotations: []rotation{
		{ID: "r1", Name: "Weekend", StartDate: "2026-12-04T17:00:00Z", Type: "weekly", Length: 1, Participants: []recipient{u("u1"), u("u2")},
			TimeRestriction: &timeRestriction{Type: "weekday-and-time-of-day", Restrictions: []weekdayTimeOfDay{{StartDay: "friday", StartHour: 18, EndDay: "monday", EndHour: 9}}}},
		{ID: "r2", Name: "Days", StartDate: "2026-12-07T08:00:00Z", Type: "hourly", Length: 8, Participants: []recipient{u("u2")},
			TimeRestriction: &timeRestriction{Type: "time-of-day", Restriction: &timeOfDay{StartHour: 9, EndHour: 17}}},
	}})
	a.put("schedules/s1/overrides", nil, []override{{Alias: "o1", User: u("u2"), StartDate: "2026-12-12T10:00:00Z", EndDate: "2026-12-12T14:00:00Z"}})
	a.put("schedules/s1/timeline", timelineQuery(testWindow), timeline{StartDate: "2026-12-07T00:00:00Z", EndDate: "2027-01-04T00:00:00Z", FinalTimeline: finalTimeline{Rotations: []timelineRotation{{ID: "r1", Periods: []timelinePeriod{
		{StartDate: "2026-12-11T17:00:00Z", EndDate: "2026-12-14T08:00:00Z", Type: "default", Recipient: recipient{Type: "user", ID: "u2", Name: "bob@example.com"}},
	}}}}})
	a.put("escalations", nil, []escalation{{ID: "e1", Name: "Esc", Rules: []escalationRule{
		{Condition: "if-not-acked", NotifyType: "default", Recipient: recipient{Type: "schedule", ID: "s1"}},
		{Condition: "if-not-acked", NotifyType: "default", Delay: timeAmount{TimeAmount: 5}, Recipient: u("u1")},
	}, Repeat: &escalationRepeat{WaitInterval: 10, Count: 2}}})
	return a
}

// FuzzImport replaces one answer of small saved answers with the fuzzer's
// bytes and imports through DirSources: whatever the answer, the import
// returns a result or an error, what it returns verifies without a panic,
// and every schedule and override it writes is admitted once read back.
func FuzzImport(f *testing.F) {
	base := smallAnswers(f).dir
	entries, err := os.ReadDir(base)
	if err != nil {
		f.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != importer.ManifestFile && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for i, name := range names {
		data, err := os.ReadFile(filepath.Join(base, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), data)
	}
	f.Add(uint8(0), []byte(`{"data":[{"id":"x","fullName":"\u0000"}],"totalCount":-1,"paging":{"next":"?offset=99999999999999999999"}}`))
	f.Add(uint8(1), []byte(`{"data":{"rotations":null}}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := t.TempDir()
		target := names[int(which)%len(names)]
		if err := os.WriteFile(filepath.Join(dir, target), data, 0o644); err != nil {
			t.Fatal(err)
		}
		src := overlay{name: target, one: importer.DirSource{Dir: dir}, base: importer.DirSource{Dir: base}}
		res, err := Import(context.Background(), src, importer.Options{Window: testWindow})
		if err != nil {
			return
		}
		_, _ = importer.Verify(res)
		for _, o := range res.Objects {
			admitted(t, o)
		}
	})
}
