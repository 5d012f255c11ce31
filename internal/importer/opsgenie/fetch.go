package opsgenie

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Limits of reading Opsgenie.
const (
	// pageSize is the limit asked of a paged list; Opsgenie may answer
	// fewer, and paging.next says where the next page starts.
	pageSize = 100
	// maxPages bounds the pages of one list, so that an answer whose
	// paging.next never ends cannot keep the import reading.
	maxPages = 1000
)

// safeID is the form of an id the import puts into a path: Opsgenie's ids
// are UUIDs, and anything else could step out of the path it belongs to.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func usableID(id string) bool { return safeID.MatchString(id) }

// readUsers reads every page of GET /users.
func readUsers(ctx context.Context, src importer.Source) ([]user, error) {
	var all []user
	query := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {"0"}}
	offset := 0
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("reading users: more than %d pages", maxPages)
		}
		var env envelope[[]user]
		if err := src.Get(ctx, "users", query, &env); err != nil {
			return nil, err
		}
		all = append(all, env.Data...)
		if len(env.Data) == 0 || env.Paging == nil || env.Paging.Next == "" {
			return all, nil
		}
		if env.TotalCount != nil && len(all) >= *env.TotalCount {
			return all, nil
		}
		next, err := nextPage(env.Paging.Next, offset)
		if err != nil {
			return nil, fmt.Errorf("reading users: %w", err)
		}
		offset, _ = strconv.Atoi(next.Get("offset"))
		query = next
	}
}

// nextPage returns the query of a paging.next link: its offset (which must
// move past the current one) and limit.
func nextPage(link string, offset int) (url.Values, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("paging.next %s is no URL", importer.Quote(link))
	}
	q := u.Query()
	next, err := strconv.Atoi(q.Get("offset"))
	if err != nil || next <= offset {
		return nil, fmt.Errorf("paging.next %s does not move past offset %d", importer.Quote(link), offset)
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = pageSize
	}
	return url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(next)}}, nil
}

func readContacts(ctx context.Context, src importer.Source, userID string) ([]contact, error) {
	var env envelope[[]contact]
	if err := src.Get(ctx, "users/"+userID+"/contacts", nil, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

func readRuleList(ctx context.Context, src importer.Source, userID string) ([]notificationRuleSummary, error) {
	var env envelope[[]notificationRuleSummary]
	if err := src.Get(ctx, "users/"+userID+"/notification-rules", nil, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

func readRule(ctx context.Context, src importer.Source, userID, ruleID string) (notificationRule, error) {
	var env envelope[notificationRule]
	if err := src.Get(ctx, "users/"+userID+"/notification-rules/"+ruleID, nil, &env); err != nil {
		return notificationRule{}, err
	}
	return env.Data, nil
}

func readSchedules(ctx context.Context, src importer.Source) ([]schedule, error) {
	var env envelope[[]schedule]
	if err := src.Get(ctx, "schedules", url.Values{"expand": {"rotation"}}, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

func readOverrides(ctx context.Context, src importer.Source, scheduleID string) ([]override, error) {
	var env envelope[[]override]
	if err := src.Get(ctx, "schedules/"+scheduleID+"/overrides", nil, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

func readEscalations(ctx context.Context, src importer.Source) ([]escalation, error) {
	var env envelope[[]escalation]
	if err := src.Get(ctx, "escalations", nil, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

// timelineQuery asks for the whole weeks from the window's start that
// cover the window.
func timelineQuery(w importer.Window) url.Values {
	week := 7 * 24 * time.Hour
	weeks := int(math.Ceil(float64(w.To.Sub(w.From)) / float64(week)))
	weeks = max(weeks, 1)
	return url.Values{
		"date":         {w.From.UTC().Format(time.RFC3339)},
		"interval":     {strconv.Itoa(weeks)},
		"intervalUnit": {"weeks"},
	}
}

func readTimeline(ctx context.Context, src importer.Source, scheduleID string, w importer.Window) (timeline, error) {
	var env envelope[timeline]
	if err := src.Get(ctx, "schedules/"+scheduleID+"/timeline", timelineQuery(w), &env); err != nil {
		return timeline{}, err
	}
	return env.Data, nil
}
