package opsgenie

// The shapes of Opsgenie's REST API v2 answers that the import reads. Every
// answer wraps its payload in data, beside took and requestId; lists that
// page carry totalCount and paging.next.

// envelope is one answer: data, and for a paged list its paging.
type envelope[T any] struct {
	Data       T       `json:"data"`
	TotalCount *int    `json:"totalCount,omitempty"`
	Paging     *paging `json:"paging,omitempty"`
}

type paging struct {
	Next string `json:"next,omitempty"`
}

// user is an entry of GET /users.
type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	FullName string `json:"fullName"`
	TimeZone string `json:"timeZone,omitempty"`
	Blocked  bool   `json:"blocked,omitempty"`
}

// contact is an entry of GET /users/{id}/contacts.
type contact struct {
	ID     string         `json:"id"`
	Method string         `json:"method"`
	To     string         `json:"to"`
	Status *contactStatus `json:"status,omitempty"`
}

type contactStatus struct {
	Enabled bool `json:"enabled"`
}

// notificationRuleSummary is an entry of GET /users/{id}/notification-rules.
type notificationRuleSummary struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ActionType string `json:"actionType"`
	Order      int    `json:"order"`
	Enabled    bool   `json:"enabled"`
}

// notificationRule is GET /users/{id}/notification-rules/{ruleId}.
type notificationRule struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	ActionType      string           `json:"actionType"`
	Order           int              `json:"order"`
	Enabled         bool             `json:"enabled"`
	Criteria        *criteria        `json:"criteria,omitempty"`
	Steps           []ruleStep       `json:"steps,omitempty"`
	Repeat          *ruleRepeat      `json:"repeat,omitempty"`
	TimeRestriction *timeRestriction `json:"timeRestriction,omitempty"`
}

type criteria struct {
	Type       string      `json:"type"`
	Conditions []condition `json:"conditions,omitempty"`
}

type condition struct {
	Field         string `json:"field"`
	Key           string `json:"key,omitempty"`
	Not           bool   `json:"not,omitempty"`
	Operation     string `json:"operation"`
	ExpectedValue string `json:"expectedValue,omitempty"`
}

type ruleStep struct {
	ID        string      `json:"id,omitempty"`
	SendAfter *timeAmount `json:"sendAfter,omitempty"`
	Contact   stepContact `json:"contact"`
	Enabled   bool        `json:"enabled"`
}

type stepContact struct {
	Method string `json:"method"`
	To     string `json:"to"`
}

type ruleRepeat struct {
	LoopAfter int  `json:"loopAfter"`
	Enabled   bool `json:"enabled"`
}

// timeAmount is a duration as Opsgenie writes one; the unit defaults to
// minutes.
type timeAmount struct {
	TimeAmount int64  `json:"timeAmount"`
	TimeUnit   string `json:"timeUnit,omitempty"`
}

// schedule is an entry of GET /schedules?expand=rotation.
type schedule struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Timezone  string     `json:"timezone"`
	Enabled   *bool      `json:"enabled,omitempty"`
	Rotations []rotation `json:"rotations"`
}

type rotation struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	StartDate       string           `json:"startDate"`
	EndDate         string           `json:"endDate,omitempty"`
	Type            string           `json:"type"`
	Length          int              `json:"length"`
	Participants    []recipient      `json:"participants"`
	TimeRestriction *timeRestriction `json:"timeRestriction,omitempty"`
}

// recipient is a participant, an override's user, an escalation rule's
// recipient or a timeline period's recipient: a user, team, escalation,
// schedule or none.
type recipient struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
}

type timeRestriction struct {
	Type         string             `json:"type"`
	Restriction  *timeOfDay         `json:"restriction,omitempty"`
	Restrictions []weekdayTimeOfDay `json:"restrictions,omitempty"`
}

type timeOfDay struct {
	StartHour int `json:"startHour"`
	StartMin  int `json:"startMin"`
	EndHour   int `json:"endHour"`
	EndMin    int `json:"endMin"`
}

type weekdayTimeOfDay struct {
	StartDay  string `json:"startDay"`
	StartHour int    `json:"startHour"`
	StartMin  int    `json:"startMin"`
	EndDay    string `json:"endDay"`
	EndHour   int    `json:"endHour"`
	EndMin    int    `json:"endMin"`
}

// override is an entry of GET /schedules/{id}/overrides.
type override struct {
	Alias     string      `json:"alias"`
	User      recipient   `json:"user"`
	StartDate string      `json:"startDate"`
	EndDate   string      `json:"endDate"`
	Rotations []recipient `json:"rotations,omitempty"`
}

// escalation is an entry of GET /escalations.
type escalation struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Rules  []escalationRule  `json:"rules"`
	Repeat *escalationRepeat `json:"repeat,omitempty"`
}

type escalationRule struct {
	Condition  string     `json:"condition"`
	NotifyType string     `json:"notifyType"`
	Delay      timeAmount `json:"delay"`
	Recipient  recipient  `json:"recipient"`
}

type escalationRepeat struct {
	WaitInterval         int64 `json:"waitInterval"`
	Count                int   `json:"count"`
	ResetRecipientStates bool  `json:"resetRecipientStates"`
	CloseAlertAfterAll   bool  `json:"closeAlertAfterAll"`
}

// timeline is GET /schedules/{id}/timeline.
type timeline struct {
	StartDate     string        `json:"startDate"`
	EndDate       string        `json:"endDate"`
	FinalTimeline finalTimeline `json:"finalTimeline"`
}

type finalTimeline struct {
	Rotations []timelineRotation `json:"rotations"`
}

type timelineRotation struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Periods []timelinePeriod `json:"periods"`
}

type timelinePeriod struct {
	StartDate string    `json:"startDate"`
	EndDate   string    `json:"endDate"`
	Type      string    `json:"type"`
	Recipient recipient `json:"recipient"`
}
