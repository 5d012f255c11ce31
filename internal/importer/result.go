package importer

import (
	"context"
	"net/http"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/phone"
)

// Outcome is what became of one source object.
type Outcome string

// The outcomes of an import.
const (
	// Mapped: the Klaxon object does what the source object did.
	Mapped Outcome = "mapped"
	// Approximated: the Klaxon object does nearly what the source object
	// did; the entry's notes say what changed and why.
	Approximated Outcome = "approximated"
	// NotMapped: nothing was written for the source object; the entry's
	// notes say why and what to do by hand.
	NotMapped Outcome = "not mapped"
)

// AnnotationSource names the tool and the source object an imported
// object came from, as "pagerduty:schedule:PABC123".
const AnnotationSource = "klaxon.dev/imported-from"

// Entry is the report of one source object.
type Entry struct {
	// SourceKind is the source's own word for the object, such as
	// "schedule", "escalation_policy", "user" or "integration".
	SourceKind string  `json:"sourceKind"`
	SourceID   string  `json:"sourceId"`
	SourceName string  `json:"sourceName,omitempty"`
	Outcome    Outcome `json:"outcome"`
	// Kind and Name are the Klaxon object written for it, if any.
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"`
	// Notes say how an approximation differs, why an object was not
	// mapped and what to do by hand, and how a name was changed.
	Notes []string `json:"notes,omitempty"`
}

// Interval is a stretch of time in which the same people are on call, in
// Klaxon's names of them, sorted. No people: nobody is on call.
type Interval struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	People []string  `json:"people"`
}

// Final is the source tool's own final schedule of one imported schedule:
// who it puts on call, overrides included, in the Result's window.
type Final struct {
	// Schedule is the name of the imported OnCallSchedule.
	Schedule  string     `json:"schedule"`
	SourceID  string     `json:"sourceId"`
	Intervals []Interval `json:"intervals"`
}

// Result is what an import made of a source.
type Result struct {
	// Source is the tool: "pagerduty", "grafana-oncall" or "opsgenie".
	Source string
	// Title is how people write the tool's name, "PagerDuty"; the report
	// uses it, and Source where it is empty.
	Title string
	// Objects are the Klaxon objects to write, without namespace: they are
	// applied into the namespace the user chooses.
	Objects []client.Object
	// Entries report every source object read, in the order read.
	Entries []Entry
	// Finals are the source's final schedules over Window, one for each
	// imported schedule.
	Finals []Final
	// Window is the interval the source's final schedules cover.
	Window Window
}

// Window is an interval of time, [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Add records obj and its report entry, setting the entry's kind and name
// and the object's source annotation.
func (r *Result) Add(obj client.Object, e Entry) {
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationSource] = r.Source + ":" + e.SourceKind + ":" + Clip(e.SourceID, MaxValue)
	obj.SetAnnotations(ann)
	e.Kind = KindOf(obj)
	e.Name = obj.GetName()
	r.Objects = append(r.Objects, obj)
	r.Entries = append(r.Entries, e)
}

// Report records the entry of a source object for which nothing, or
// nothing of its own, was written.
func (r *Result) Report(e Entry) {
	r.Entries = append(r.Entries, e)
}

// title is the tool's name for people.
func (r *Result) title() string {
	if r.Title != "" {
		return r.Title
	}
	return r.Source
}

// Count returns how many entries had each outcome.
func (r *Result) Count() map[Outcome]int {
	n := map[Outcome]int{Mapped: 0, Approximated: 0, NotMapped: 0}
	for _, e := range r.Entries {
		n[e.Outcome]++
	}
	return n
}

// Object returns the written object of the kind and name, or nil.
func (r *Result) Object(kind, name string) client.Object {
	i := slices.IndexFunc(r.Objects, func(o client.Object) bool { return KindOf(o) == kind && o.GetName() == name })
	if i < 0 {
		return nil
	}
	return r.Objects[i]
}

// Options are what every source's import is given.
type Options struct {
	// Window is the interval for which the source's final schedules are
	// read.
	Window Window
}

// Provider is one source tool as the import command knows it.
type Provider struct {
	// Name is the tool's name on the command line, "pagerduty".
	Name string
	// Title is how people write it, "PagerDuty".
	Title string
	// DefaultURL is the API's base URL; empty for a self-hosted tool,
	// whose URL must be given.
	DefaultURL string
	// TokenEnv is the environment variable the token may come from.
	TokenEnv string
	// Authorize sets the token on a request the way the API expects it.
	Authorize func(req *http.Request, token string)
	// Import reads the source and maps it.
	Import func(ctx context.Context, src Source, opts Options) (*Result, error)
}

// The NotificationChannel names imported Responders' contacts use. An
// import writes no channels (they hold credentials); the guide tells the
// user to create channels of these names, or to rename them in the YAML.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	ChannelVoice = "voice"
	ChannelPush  = "push"
	ChannelSlack = "slack"
)

// PhoneKind is the kind of an imported contact of channel with address:
// sms or voice for a phone number in E.164 form on the sms or voice
// channel, so that a twilio channel of that name texts or calls it; "" for
// any other, which a twilio channel would not accept as a number anyway.
func PhoneKind(channel, address string) klaxonv1alpha1.ContactKind {
	if !phone.IsNumber(address) {
		return ""
	}
	switch channel {
	case ChannelSMS:
		return klaxonv1alpha1.ContactKindSMS
	case ChannelVoice:
		return klaxonv1alpha1.ContactKindVoice
	}
	return ""
}
