// Package notify sends pages: one message about one incident to one
// address, over mail, Slack, Klaxon's webhook or an Alertmanager receiver.
// It knows nothing of Kubernetes: callers resolve channels and Secrets and
// hand over plain settings.
package notify

import (
	"context"
	"errors"
	"time"
)

// SendTimeout bounds one send, connection included. Callers pass a context
// with this deadline; every sender also sets its own client timeouts.
const SendTimeout = 30 * time.Second

// Incident is what a message says about the incident, already bounded by
// the CRD's limits.
type Incident struct {
	Namespace string
	Name      string
	UID       string
	Title     string
	Severity  string
	Service   string
	Impact    string
	// Phase is the accepted lifecycle phase, such as Triggered.
	Phase   string
	Episode int32
	// URL links to a page about the incident, when the caller has one;
	// Klaxon's own messages link to the acknowledge page instead.
	URL string
	// TriggeredAt is when the current episode began.
	TriggeredAt time.Time
}

// Page is what a message says about the page it delivers.
type Page struct {
	Level, Round int32
	// Responder is the person paged, empty for a team channel named by the
	// escalation policy.
	Responder string
	// DisplayName is the responder's display name, if any.
	DisplayName string
	// Paged are the people paged at this level, the responder included.
	Paged []string
	// AcknowledgeURL acknowledges the incident as the responder; empty
	// until acknowledge links exist.
	AcknowledgeURL string
	// AcknowledgeToken is the signed token of AcknowledgeURL, for channels
	// that build callback URLs of their own (a call's TwiML and status
	// callbacks); empty when AcknowledgeURL is.
	AcknowledgeToken string
	// AcknowledgeCode is the short code a text asks to reply with
	// (acklink.Signer.Code); empty when AcknowledgeURL is.
	AcknowledgeCode string
}

// StakeholderNews is what a message to stakeholders tells: a step of the
// incident rather than a page.
type StakeholderNews struct {
	// Event is Triggered, Update, Resolved or Closed.
	Event string
	// Author and Text are those of a stakeholder update (Event Update).
	Author, Text string
	// Time is when it happened.
	Time time.Time
	// PostmortemURL links the post-incident review, when set.
	PostmortemURL string
}

// The events stakeholders hear about.
const (
	EventTriggered = "Triggered"
	EventUpdate    = "Update"
	EventResolved  = "Resolved"
	EventClosed    = "Closed"
)

// Bundle is a message that stands for several pages to one contact.
type Bundle struct {
	// ID names the bundle; each incident it names records it.
	ID string
	// Incidents are all the incidents the bundle names, in the order paged.
	Incidents []BundledIncident
	// AcknowledgeURL acknowledges every incident named, as the responder; empty without acknowledge links.
	AcknowledgeURL string
}

// BundledIncident is what a bundle says about one of its incidents.
type BundledIncident struct {
	Namespace, Name, UID, Title, Severity string
	Level, Round                          int32
}

// ShiftNotice is a message about a person's shifts rather than a page: a
// word before a shift starts, or that an edit moved their shifts.
type ShiftNotice struct {
	// Kind is ShiftStart or ShiftChange.
	Kind string
	// Namespace and Schedule name the OnCallSchedule.
	Namespace, Schedule string
	// Responder and DisplayName are the person told.
	Responder, DisplayName string
	// Start and End are the shift's (ShiftStart).
	Start, End time.Time
	// Location is the schedule's time zone, in which times are shown; nil
	// shows them in UTC.
	Location *time.Location
	// Text is what the notice says beyond its subject, worked out when it
	// was planned: who hands over and to whom, or what the shifts were and
	// are.
	Text string
}

// The kinds of shift notice.
const (
	NoticeShiftStart  = "ShiftStart"
	NoticeShiftChange = "ShiftChange"
)

// MaxBundleTitles is how many incidents a bundle lists by title.
const MaxBundleTitles = 5

// Message is one page, or one piece of news for stakeholders, to one
// address.
type Message struct {
	Incident Incident
	// Page is the page delivered; zero for news to stakeholders.
	Page Page
	// Stakeholder is set for news to stakeholders instead of a page.
	Stakeholder *StakeholderNews
	// Bundle is set for a message that stands for several pages to one
	// contact; nil for a normal message. Page then carries only Responder
	// and DisplayName, and Incident only the Namespace of all the
	// incidents bundled.
	Bundle *Bundle
	// Notice is set for a shift notice instead of a page; Incident and
	// Page are then zero.
	Notice *ShiftNotice
	// Address is the contact's address: a mail address, a Slack user or
	// channel ID, a phone number, an ntfy topic, anything the receiving
	// end understands.
	Address string
	// Kind is the contact's kind for channels that reach one address in
	// more than one way: "sms" or "voice" for Twilio, "" for a text.
	Kind string
	// SentAt is the time of the attempt.
	SentAt time.Time
}

// Sender delivers messages over one channel. Send returns a reference the
// channel gave the message (Slack's "channel/ts"), or "".
type Sender interface {
	Send(ctx context.Context, m *Message) (ref string, err error)
}

// permanentError marks a failure that retrying cannot fix: a refused
// address, a rejected token, a 4xx answer other than 408 and 429.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked
// Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
