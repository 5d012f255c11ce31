package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// memSource answers as a DirSource over files held in memory.
type memSource map[string][]byte

func (s memSource) Get(_ context.Context, path string, q url.Values, v any) error {
	data, ok := s[importer.FileName(path, q)]
	if !ok {
		return fmt.Errorf("no saved answer for %s", path)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading %s: the answer is not the JSON expected: %w", path, err)
	}
	return nil
}

// FuzzImport feeds any bytes as one answer of a small account: the import
// either fails with an error or maps what it can into objects that marshal
// and verify; it never panics or hangs. The account is small because the
// fuzzer minimizes each input it finds, running it thousands of times.
func FuzzImport(f *testing.F) {
	dir := f.TempDir()
	mail := contactMethod{ID: "C1", Type: "email_contact_method", Label: "Work", Address: "ann@example.com"}
	users := []user{
		{ID: "PUSER01", Name: "Ann", ContactMethods: []contactMethod{mail},
			NotificationRules: []notificationRule{{StartDelayInMinutes: 5, Urgency: "high", ContactMethod: reference{ID: "C1"}}}},
		{ID: "PUSER02", Name: "Ben"},
	}
	night := dailyLayer("Nights", "PUSER02", "PGONE03")
	night.Start = "2026-12-10T20:00:00Z"
	night.Restrictions = []restriction{{Type: "daily_restriction", StartTimeOfDay: "20:00:00", DurationSeconds: 36000}}
	base := dailyLayer("Base", "PUSER01")
	end := "2026-12-20T00:00:00Z"
	base.End = &end
	s := schedule{ID: "PSCHED1", Name: "Ops", TimeZone: "Europe/Berlin", ScheduleLayers: []scheduleLayer{night, base},
		FinalSchedule: &subSchedule{RenderedScheduleEntries: []renderedEntry{
			{Start: "2026-12-07T00:00:00Z", End: "2026-12-10T20:00:00Z", User: &reference{ID: "PUSER01"}}}}}
	policies := []escalationPolicy{{ID: "PPOL001", Name: "Ops", NumLoops: 2, EscalationRules: []escalationRule{
		{EscalationDelayInMinutes: 5, Targets: []reference{{ID: "PSCHED1", Type: "schedule_reference"}}},
		{EscalationDelayInMinutes: 10, Targets: []reference{{ID: "PUSER01", Type: "user_reference"}}}}}}
	writeAccount(f, dir, users, []schedule{s}, policies)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	files := memSource{}
	var names []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		files[e.Name()] = data
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for i, n := range names {
		f.Add(uint8(i), files[n])
	}
	sched := uint8(slices.IndexFunc(names, func(n string) bool { return strings.HasPrefix(n, "schedules_PSCHED1@") }))
	f.Add(sched, []byte(`{"schedule":{"id":"PSCHED1","time_zone":"UTC","schedule_layers":[{"start":"2026-12-01T00:00:00Z","rotation_virtual_start":"0001-01-01T00:00:00Z","rotation_turn_length_seconds":3600,"users":[{"user":{"id":"X"}}],"restrictions":[{"type":"weekly_restriction","start_day_of_week":7,"start_time_of_day":"23:59:59","duration_seconds":604799}]}]}}`))
	// A layer begun in the hour the autumn change repeats.
	f.Add(sched, []byte(`{"schedule":{"id":"PSCHED1","time_zone":"America/New_York","schedule_layers":[{"start":"2026-11-01T01:30:00-05:00","end":"2026-11-08T01:30:00-05:00","rotation_virtual_start":"2026-10-01T01:00:00-04:00","rotation_turn_length_seconds":3600,"users":[{"user":{"id":"PUSER01"}}]}]}}`))
	f.Add(sched, []byte(`{"schedule":{"schedule_layers":[{"end":"2026-12-08T00:00:00Z","start":"2026-12-09T00:00:00Z"}],"final_schedule":{"rendered_schedule_entries":[{"start":"x"}]}}}`))
	f.Add(uint8(0), []byte(`{"escalation_policies":[{"id":"P1","num_loops":-5,"escalation_rules":[{"escalation_delay_in_minutes":-1,"targets":[{"id":"P1","type":"escalation_policy_reference"}],"escalation_rule_assignment_strategy":[{"type":"round_robin"}]}]}]}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		src := memSource{}
		for k, v := range files {
			src[k] = v
		}
		src[names[int(which)%len(names)]] = data
		r, err := Import(context.Background(), src, importer.Options{Window: testWindow})
		if err != nil {
			return
		}
		for _, o := range r.Objects {
			if err := importer.Check(o); err != nil {
				t.Errorf("the API server would refuse an imported object: %v", err)
			}
			if _, err := importer.Marshal(o); err != nil {
				t.Errorf("an imported object does not marshal: %v", err)
			}
		}
		if _, err := importer.Verify(r); err != nil {
			// Verify may refuse a hostile schedule, never crash on it.
			t.Logf("verify: %v", err)
		}
	})
}
