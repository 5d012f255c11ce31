package pagerduty

import (
	"bytes"
	"encoding/json"
)

// The shapes of PagerDuty REST API v2 answers, as far as the import reads
// them. Fields the import does not use are left out; unknown fields are
// ignored.

// page is the classic pagination every list answer carries.
type page struct {
	Limit  int  `json:"limit"`
	Offset int  `json:"offset"`
	More   bool `json:"more"`
}

// reference is a reference to another object, such as a user_reference.
type reference struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	// DeletedAt is set on references to deleted objects.
	DeletedAt *string `json:"deleted_at"`
}

type scheduleList struct {
	page
	Schedules []schedule `json:"schedules"`
}

type scheduleAnswer struct {
	Schedule schedule `json:"schedule"`
}

type schedule struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Summary        string          `json:"summary"`
	TimeZone       string          `json:"time_zone"`
	ScheduleLayers []scheduleLayer `json:"schedule_layers"`
	FinalSchedule  *subSchedule    `json:"final_schedule"`
}

type scheduleLayer struct {
	ID                        string        `json:"id"`
	Name                      string        `json:"name"`
	Start                     string        `json:"start"`
	End                       *string       `json:"end"`
	RotationVirtualStart      string        `json:"rotation_virtual_start"`
	RotationTurnLengthSeconds int64         `json:"rotation_turn_length_seconds"`
	Users                     []layerUser   `json:"users"`
	Restrictions              []restriction `json:"restrictions"`
}

type layerUser struct {
	User reference `json:"user"`
}

type restriction struct {
	Type            string `json:"type"`
	StartTimeOfDay  string `json:"start_time_of_day"`
	DurationSeconds int64  `json:"duration_seconds"`
	StartDayOfWeek  int    `json:"start_day_of_week"`
}

type subSchedule struct {
	Name                    string          `json:"name"`
	RenderedScheduleEntries []renderedEntry `json:"rendered_schedule_entries"`
}

type renderedEntry struct {
	Start string     `json:"start"`
	End   string     `json:"end"`
	User  *reference `json:"user"`
}

type overrideList struct {
	Overrides []override `json:"overrides"`
}

type override struct {
	ID    string    `json:"id"`
	Start string    `json:"start"`
	End   string    `json:"end"`
	User  reference `json:"user"`
}

type escalationPolicyList struct {
	page
	EscalationPolicies []escalationPolicy `json:"escalation_policies"`
}

type escalationPolicy struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Summary         string           `json:"summary"`
	NumLoops        int              `json:"num_loops"`
	EscalationRules []escalationRule `json:"escalation_rules"`
}

type escalationRule struct {
	ID                       string      `json:"id"`
	EscalationDelayInMinutes int         `json:"escalation_delay_in_minutes"`
	Targets                  []reference `json:"targets"`
	// AssignmentStrategy is a string in the rule's schema and an object
	// ({"type": "round_robin"}) in some of the reference's examples.
	AssignmentStrategy json.RawMessage `json:"escalation_rule_assignment_strategy"`
}

// strategy returns the rule's assignment strategy, whichever form it has.
func (r *escalationRule) strategy() string {
	raw := bytes.TrimSpace(r.AssignmentStrategy)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Type
	}
	var list []struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0].Type
	}
	return "unknown"
}

type userList struct {
	page
	Users []user `json:"users"`
}

type user struct {
	ID                string             `json:"id"`
	Type              string             `json:"type"`
	Name              string             `json:"name"`
	Summary           string             `json:"summary"`
	Email             string             `json:"email"`
	DeletedAt         *string            `json:"deleted_at"`
	ContactMethods    []contactMethod    `json:"contact_methods"`
	NotificationRules []notificationRule `json:"notification_rules"`
}

type contactMethod struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Label       string `json:"label"`
	Address     string `json:"address"`
	CountryCode int    `json:"country_code"`
}

type notificationRule struct {
	ID                  string    `json:"id"`
	Type                string    `json:"type"`
	StartDelayInMinutes int       `json:"start_delay_in_minutes"`
	ContactMethod       reference `json:"contact_method"`
	Urgency             string    `json:"urgency"`
}
