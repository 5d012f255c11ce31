package pagerduty

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// pageSize is the limit asked for on each page: PagerDuty's maximum.
const pageSize = 100

// overridesAhead is how far ahead overrides are read: those planned
// beyond the verified weeks, such as a holiday's cover, are imported too.
const overridesAhead = 365 * 24 * time.Hour

// maxPages bounds the pages read of one list, so that an API that always
// says there are more ends the import with an error rather than never.
const maxPages = 1000

// The most items of each list an import holds in memory: far beyond any
// real account, they stop an API that answers without end long before it
// exhausts the machine.
const (
	maxUsers     = 10000
	maxSchedules = 2000
	maxPolicies  = 2000
)

// account is everything the import reads from PagerDuty.
type account struct {
	users     []user
	schedules []schedule
	// overrides are each schedule's overrides in the window, by schedule id.
	overrides map[string][]override
	policies  []escalationPolicy
}

// readAccount reads users, schedules with their final schedules over w
// and their overrides from w on, and escalation policies.
func readAccount(ctx context.Context, src importer.Source, w importer.Window) (*account, error) {
	acc := &account{overrides: map[string][]override{}}
	var err error
	acc.users, err = readList(ctx, src, "users", maxUsers, url.Values{"include[]": {"contact_methods", "notification_rules"}},
		func(l *userList) ([]user, page) { return l.Users, l.page })
	if err != nil {
		return nil, err
	}
	if acc.users, err = unique("users", acc.users, func(u user) string { return u.ID }); err != nil {
		return nil, err
	}
	listed, err := readList(ctx, src, "schedules", maxSchedules, nil,
		func(l *scheduleList) ([]schedule, page) { return l.Schedules, l.page })
	if err != nil {
		return nil, err
	}
	if listed, err = unique("schedules", listed, func(s schedule) string { return s.ID }); err != nil {
		return nil, err
	}
	since, until := w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339)
	overridesUntil := until
	if ahead := w.From.Add(overridesAhead); ahead.After(w.To) {
		overridesUntil = ahead.UTC().Format(time.RFC3339)
	}
	for _, s := range listed {
		// Restrictions are rendered in the time zone asked for, so ask
		// for the schedule's own: a restriction's wall-clock times are
		// what a Klaxon restriction writes.
		q := url.Values{"since": {since}, "until": {until}}
		if s.TimeZone != "" {
			q.Set("time_zone", s.TimeZone)
		}
		var one scheduleAnswer
		if err = src.Get(ctx, "schedules/"+s.ID, q, &one); err != nil {
			return nil, err
		}
		// The list's id is the one asked for and checked.
		one.Schedule.ID = s.ID
		if one.Schedule.TimeZone == "" {
			one.Schedule.TimeZone = s.TimeZone
		}
		acc.schedules = append(acc.schedules, one.Schedule)
		var ov overrideList
		if err = src.Get(ctx, "schedules/"+s.ID+"/overrides", url.Values{"since": {since}, "until": {overridesUntil}}, &ov); err != nil {
			return nil, err
		}
		acc.overrides[s.ID] = ov.Overrides
	}
	// A rule's assignment strategy (round robin) is only answered when
	// asked for.
	acc.policies, err = readList(ctx, src, "escalation_policies", maxPolicies, url.Values{"include[]": {"escalation_rule_assignment_strategies"}},
		func(l *escalationPolicyList) ([]escalationPolicy, page) { return l.EscalationPolicies, l.page })
	if err != nil {
		return nil, err
	}
	if acc.policies, err = unique("escalation_policies", acc.policies, func(p escalationPolicy) string { return p.ID }); err != nil {
		return nil, err
	}
	return acc, nil
}

// idPattern is what a PagerDuty object id looks like.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// unique checks the ids of a list's items and drops repeats, which a list
// that changes while it is paged through may show.
func unique[T any](what string, items []T, id func(T) string) ([]T, error) {
	seen := map[string]bool{}
	out := items[:0]
	for _, it := range items {
		i := id(it)
		if !idPattern.MatchString(i) {
			return nil, fmt.Errorf("reading %s: %q is not a PagerDuty id", what, importer.Clip(i, importer.MaxValue))
		}
		if !seen[i] {
			seen[i] = true
			out = append(out, it)
		}
	}
	return out, nil
}

// readList reads every page of the list at path, with PagerDuty's classic
// pagination: limit and offset asked, more answered. The next offset is
// counted from the items received, which is right also when the API gives
// fewer than asked. More than limit items in all end the import with an
// error.
func readList[L any, T any](ctx context.Context, src importer.Source, path string, limit int, query url.Values, items func(*L) ([]T, page)) ([]T, error) {
	var out []T
	offset := 0
	for n := 0; ; n++ {
		if n == maxPages {
			return nil, fmt.Errorf("reading %s: more than %d pages: the API keeps saying there are more", path, maxPages)
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(pageSize))
		q.Set("offset", strconv.Itoa(offset))
		var l L
		if err := src.Get(ctx, path, q, &l); err != nil {
			return nil, err
		}
		got, p := items(&l)
		if len(got) > limit-len(out) {
			return nil, fmt.Errorf("reading %s: more than %d items, the most the import reads of it", path, limit)
		}
		out = append(out, got...)
		if !p.More {
			return out, nil
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("reading %s: the page at offset %d is empty but says there are more", path, offset)
		}
		offset += len(got)
	}
}
