package notify

import (
	"slices"
	"time"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// PayloadVersion is the version of Payload. A change that could break a
// receiver (a field removed, renamed or given another meaning) gets a new
// version; new optional fields do not.
const PayloadVersion = "klaxon.dev/v1"

// The kinds of Payload: one page, news for stakeholders, a bundle of
// pages to one contact, or a shift notice.
const (
	PayloadKind            = "Page"
	PayloadKindStakeholder = "Stakeholder"
	PayloadKindBundle      = "Bundle"
	PayloadKindShiftNotice = "ShiftNotice"
)

// MaxPayloadBundleIncidents bounds the incidents a bundle's payload lists;
// its count says how many the bundle holds.
const MaxPayloadBundleIncidents = 500

// Payload is the JSON body Klaxon's webhook posts for one page. Times are
// RFC 3339 in UTC, to the second; optional fields are left out when empty.
type Payload struct {
	// Version is PayloadVersion.
	Version string `json:"version"`
	// Kind is PayloadKind.
	Kind string `json:"kind"`
	// SentAt is when the attempt was made.
	SentAt time.Time `json:"sentAt,omitzero"`
	// Address is the contact's address the page is for, if any.
	Address string `json:"address,omitempty"`
	// Incident is the incident paged about; absent for a shift notice,
	// which is about no incident.
	Incident PayloadIncident `json:"incident,omitzero"`
	// Page is the page delivered; absent for news to stakeholders.
	Page *PayloadPage `json:"page,omitempty"`
	// Stakeholder is the news told to stakeholders; absent for a page.
	Stakeholder *PayloadStakeholder `json:"stakeholder,omitempty"`
	// Bundle is the bundle of pages (Kind PayloadKindBundle); absent
	// otherwise. Incident then holds only the namespace, and Page only
	// the responder.
	Bundle *PayloadBundle `json:"bundle,omitempty"`
	// Notice is the shift notice (Kind PayloadKindShiftNotice); absent
	// otherwise, and Incident and Page are then absent.
	Notice *PayloadNotice `json:"notice,omitempty"`
}

// PayloadNotice is what Payload says about a shift notice.
type PayloadNotice struct {
	// Kind is ShiftStart or ShiftChange.
	Kind string `json:"kind"`
	// Namespace and Schedule name the OnCallSchedule.
	Namespace string `json:"namespace"`
	Schedule  string `json:"schedule"`
	// Responder and DisplayName are the person told.
	Responder   string `json:"responder,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// Start and End are the shift's, for ShiftStart.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// TimeZone is the schedule's zone (an IANA name), in which Subject
	// and Text show times.
	TimeZone string `json:"timeZone"`
	// Text is what the notice says beyond its subject: who hands over and
	// to whom, or what the shifts were and are.
	Text string `json:"text,omitempty"`
	// Subject is the notice's one-line summary, as mail and Slack show it.
	Subject string `json:"subject"`
}

// PayloadBundle is what Payload says about a bundle of pages.
type PayloadBundle struct {
	// ID names the bundle; each incident records it in its notifications.
	ID string `json:"id"`
	// Count is how many incidents the bundle holds.
	Count int `json:"count"`
	// Incidents are the incidents, in the order paged, at most
	// MaxPayloadBundleIncidents of them.
	Incidents []PayloadBundledIncident `json:"incidents"`
	// AcknowledgeURL acknowledges every incident of the bundle as the
	// responder.
	AcknowledgeURL string `json:"acknowledgeURL,omitempty"`
}

// PayloadBundledIncident is one incident of a bundle: BundledIncident,
// field for field, with JSON names.
type PayloadBundledIncident struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	Title     string `json:"title"`
	Severity  string `json:"severity,omitempty"`
	Level     int32  `json:"level"`
	Round     int32  `json:"round"`
}

// PayloadStakeholder is what Payload tells stakeholders.
type PayloadStakeholder struct {
	// Event is Triggered, Update, Resolved or Closed.
	Event string `json:"event"`
	// Author and Text are those of a stakeholder update.
	Author string `json:"author,omitempty"`
	Text   string `json:"text,omitempty"`
	// Time is when it happened.
	Time time.Time `json:"time,omitzero"`
	// PostmortemURL links the post-incident review.
	PostmortemURL string `json:"postmortemURL,omitempty"`
}

// PayloadIncident is what Payload says about the incident.
type PayloadIncident struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	Title     string `json:"title"`
	// Severity is SEV1 (the worst) to SEV4.
	Severity string `json:"severity,omitempty"`
	Service  string `json:"service,omitempty"`
	Impact   string `json:"impact,omitempty"`
	// Phase is the accepted lifecycle phase, such as Triggered.
	Phase string `json:"phase,omitempty"`
	// Episode counts the times the incident was triggered, from 1.
	Episode int32 `json:"episode,omitempty"`
	// URL links to a page about the incident. Klaxon serves none of its
	// own (the acknowledge link shows the incident), so it is absent for
	// now; receivers must not require it.
	URL string `json:"url,omitempty"`
	// TriggeredAt is when the current episode began.
	TriggeredAt time.Time `json:"triggeredAt,omitzero"`
}

// PayloadPage is what Payload says about the page.
type PayloadPage struct {
	// Level and Round of the escalation policy, both from 0; always present.
	Level int32 `json:"level"`
	Round int32 `json:"round"`
	// Responder is the person paged; absent for a team channel.
	Responder   string `json:"responder,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// Paged are the people paged at this level, the responder included.
	Paged []string `json:"paged,omitempty"`
	// AcknowledgeURL acknowledges the incident as the responder.
	AcknowledgeURL string `json:"acknowledgeURL,omitempty"`
}

// NewPayload returns the webhook payload of m.
func NewPayload(m *Message) Payload {
	if m.Notice != nil {
		return noticePayload(m)
	}
	if m.Bundle != nil {
		return bundlePayload(m)
	}
	inc, page := &m.Incident, &m.Page
	p := Payload{
		Version: PayloadVersion,
		Kind:    PayloadKind,
		SentAt:  payloadTime(m.SentAt),
		Address: m.Address,
		Incident: PayloadIncident{
			Namespace:   inc.Namespace,
			Name:        inc.Name,
			UID:         inc.UID,
			Title:       inc.Title,
			Severity:    inc.Severity,
			Service:     inc.Service,
			Impact:      inc.Impact,
			Phase:       inc.Phase,
			Episode:     inc.Episode,
			URL:         inc.URL,
			TriggeredAt: payloadTime(inc.TriggeredAt),
		},
	}
	if news := m.Stakeholder; news != nil {
		p.Kind = PayloadKindStakeholder
		p.Stakeholder = &PayloadStakeholder{Event: news.Event, Author: news.Author, Text: news.Text,
			Time: payloadTime(news.Time), PostmortemURL: news.PostmortemURL}
		return p
	}
	p.Page = &PayloadPage{
		Level:          page.Level,
		Round:          page.Round,
		Responder:      page.Responder,
		DisplayName:    page.DisplayName,
		Paged:          slices.Clone(page.Paged),
		AcknowledgeURL: page.AcknowledgeURL,
	}
	return p
}

// bundlePayload is the payload of a bundle.
func bundlePayload(m *Message) Payload {
	b := m.Bundle
	incs := b.Incidents[:min(len(b.Incidents), MaxPayloadBundleIncidents)]
	pb := &PayloadBundle{ID: b.ID, Count: len(b.Incidents), AcknowledgeURL: b.AcknowledgeURL,
		Incidents: make([]PayloadBundledIncident, 0, len(incs))}
	for _, inc := range incs {
		pb.Incidents = append(pb.Incidents, PayloadBundledIncident(inc))
	}
	return Payload{
		Version:  PayloadVersion,
		Kind:     PayloadKindBundle,
		SentAt:   payloadTime(m.SentAt),
		Address:  m.Address,
		Incident: PayloadIncident{Namespace: m.Incident.Namespace},
		Page:     &PayloadPage{Responder: m.Page.Responder, DisplayName: m.Page.DisplayName},
		Bundle:   pb,
	}
}

// noticePayload is the payload of a shift notice: no incident, no page.
func noticePayload(m *Message) Payload {
	n := m.Notice
	zone := time.UTC.String()
	if n.Location != nil {
		zone = n.Location.String()
	}
	return Payload{
		Version: PayloadVersion,
		Kind:    PayloadKindShiftNotice,
		SentAt:  payloadTime(m.SentAt),
		Address: m.Address,
		Notice: &PayloadNotice{
			Kind:        n.Kind,
			Namespace:   n.Namespace,
			Schedule:    n.Schedule,
			Responder:   n.Responder,
			DisplayName: n.DisplayName,
			Start:       payloadTime(n.Start),
			End:         payloadTime(n.End),
			TimeZone:    zone,
			// The planner bounds the text; the payload does not rely on it.
			Text:    bounded.Bytes(n.Text, MaxTextBytes),
			Subject: noticeSubject(n),
		},
	}
}

// payloadTime is t in UTC to the second, so it encodes as plain RFC 3339
// ("2026-11-24T10:00:00Z"), as Kubernetes writes times; zero stays zero.
func payloadTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}
