package grafanaoncall

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// maxPages and maxItems bound what is read of one list, so that an API
// whose pages never end, or a list too large for one import, stops with an
// error rather than filling memory.
const (
	maxPages = 1000
	maxItems = 10000
)

// page is one page of a Grafana OnCall list.
type page[T any] struct {
	Count       int     `json:"count"`
	Next        *string `json:"next"`
	Previous    *string `json:"previous"`
	Results     []T     `json:"results"`
	PageSize    int     `json:"page_size"`
	CurrentPage int     `json:"current_page_number"`
	TotalPages  int     `json:"total_pages"`
}

// list reads every page of the list at path: the first without a page
// parameter, then ?page=N while the answer names a next page.
func list[T any](ctx context.Context, src importer.Source, path string, query url.Values) ([]T, error) {
	var out []T
	for n := 1; ; n++ {
		if n > maxPages {
			return nil, fmt.Errorf("reading %s: more than %d pages", path, maxPages)
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		var p page[T]
		if err := src.Get(ctx, path, q, &p); err != nil {
			return nil, err
		}
		if len(out)+len(p.Results) > maxItems {
			return nil, fmt.Errorf("reading %s: more than %d items, more than an import reads of a list: import part of it, or a shorter window for final shifts", path, maxItems)
		}
		out = append(out, p.Results...)
		if p.Next == nil || *p.Next == "" {
			return out, nil
		}
		// The next page must be further on: a next that points back would
		// read the same pages forever.
		if next, err := url.Parse(*p.Next); err == nil {
			if got, err := strconv.Atoi(next.Query().Get("page")); err == nil && got <= n {
				return nil, fmt.Errorf("reading %s: page %d names page %d as the next one", path, n, got)
			}
		}
	}
}

// schedule is a Grafana OnCall schedule.
type schedule struct {
	ID             string   `json:"id"`
	TeamID         *string  `json:"team_id"`
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	TimeZone       *string  `json:"time_zone"`
	Shifts         []string `json:"shifts"`
	ICalURLPrimary *string  `json:"ical_url_primary"`
	ICalOverrides  *string  `json:"ical_url_overrides"`
}

// shift is a Grafana OnCall on-call shift.
type shift struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name"`
	Type               string     `json:"type"`
	TimeZone           *string    `json:"time_zone"`
	Level              int        `json:"level"`
	Start              string     `json:"start"`
	Duration           int64      `json:"duration"`
	Frequency          *string    `json:"frequency"`
	Interval           *int       `json:"interval"`
	Until              *string    `json:"until"`
	WeekStart          *string    `json:"week_start"`
	ByDay              []string   `json:"by_day"`
	ByMonth            []int      `json:"by_month"`
	ByMonthday         []int      `json:"by_monthday"`
	Users              []string   `json:"users"`
	RollingUsers       [][]string `json:"rolling_users"`
	StartRotationIndex *int       `json:"start_rotation_from_user_index"`
}

// finalShift is one person's stretch in a schedule's final shifts.
type finalShift struct {
	UserPK       string    `json:"user_pk"`
	UserEmail    string    `json:"user_email"`
	UserUsername string    `json:"user_username"`
	ShiftStart   time.Time `json:"shift_start"`
	ShiftEnd     time.Time `json:"shift_end"`
}

// escalationChain is a Grafana OnCall escalation chain.
type escalationChain struct {
	ID     string  `json:"id"`
	TeamID *string `json:"team_id"`
	Name   string  `json:"name"`
}

// escalationPolicy is one step of an escalation chain.
type escalationPolicy struct {
	ID                   string   `json:"id"`
	EscalationChainID    string   `json:"escalation_chain_id"`
	Position             int      `json:"position"`
	Type                 string   `json:"type"`
	Duration             *int64   `json:"duration"`
	Important            bool     `json:"important"`
	PersonsToNotify      []string `json:"persons_to_notify"`
	PersonsNextEachTime  []string `json:"persons_to_notify_next_each_time"`
	NotifyOnCallSchedule *string  `json:"notify_on_call_from_schedule"`
	GroupToNotify        *string  `json:"group_to_notify"`
	ActionToTrigger      *string  `json:"action_to_trigger"`
	NotifyIfTimeFrom     *string  `json:"notify_if_time_from"`
	NotifyIfTimeTo       *string  `json:"notify_if_time_to"`
	NumAlertsInWindow    *int     `json:"num_alerts_in_window"`
	NumMinutesInWindow   *int     `json:"num_minutes_in_window"`
	Severity             *string  `json:"severity"`
}

// integration is a Grafana OnCall integration: an alert source.
type integration struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	Link         string `json:"link"`
	DefaultRoute *struct {
		ID                string  `json:"id"`
		EscalationChainID *string `json:"escalation_chain_id"`
	} `json:"default_route"`
}

// route is one of an integration's routes.
type route struct {
	ID                string  `json:"id"`
	IntegrationID     string  `json:"integration_id"`
	EscalationChainID *string `json:"escalation_chain_id"`
	RoutingRegex      *string `json:"routing_regex"`
	RoutingType       string  `json:"routing_type"`
	Position          int     `json:"position"`
	IsTheLastRoute    bool    `json:"is_the_last_route"`
}

// user is a Grafana OnCall user.
type user struct {
	ID       string          `json:"id"`
	Email    string          `json:"email"`
	Slack    json.RawMessage `json:"slack"`
	Username string          `json:"username"`
	Role     string          `json:"role"`
	Timezone *string         `json:"timezone"`
}

// slackIDs returns the Slack user ids of u: the API gives a list of
// {user_id, team_id}, older versions one such object.
func (u *user) slackIDs() []string {
	type slackUser struct {
		UserID string `json:"user_id"`
	}
	var many []slackUser
	if json.Unmarshal(u.Slack, &many) != nil {
		var one slackUser
		if json.Unmarshal(u.Slack, &one) != nil {
			return nil
		}
		many = []slackUser{one}
	}
	var out []string
	for _, s := range many {
		if s.UserID != "" {
			out = append(out, s.UserID)
		}
	}
	return out
}

// notificationRule is one step of a user's personal notification rules.
type notificationRule struct {
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	Position  int    `json:"position"`
	Important bool   `json:"important"`
	Type      string `json:"type"`
	Duration  *int64 `json:"duration"`
}
