package maintenance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// Sentinel causes of Compile's errors, for errors.Is; an unknown time zone
// is oncall.ErrUnknownTimeZone.
var (
	// ErrInvalidSelector: spec.selector is not a valid label selector.
	ErrInvalidSelector = errors.New("invalid selector")
	// ErrInvalidWindow: any other part of the spec the API server could not
	// check fully.
	ErrInvalidWindow = errors.New("invalid window")
)

// maxEdges bounds the edges of a recurring window that At visits: a
// schedule opens and closes at most fourteen times a week, so this sees
// weeks ahead, and a window that never closes (every day, from == to) costs
// no more than this.
const maxEdges = 64

// Window is a compiled MaintenanceWindow. It is immutable.
type Window struct {
	// Name is the MaintenanceWindow's name.
	Name string
	// Mode is Suppress or Hold.
	Mode klaxonv1alpha1.MaintenanceMode

	services []klaxonv1alpha1.ServiceName
	selector labels.Selector // nil when spec.selector is unset

	start, end time.Time          // a one-off window
	recurrence *oncall.Recurrence // or a recurring one
}

// Compile checks a window's spec and prepares it. It repeats the API
// server's checks, and adds those it cannot make: that the selector parses
// and that the time zone exists. errors.Is tells ErrInvalidSelector,
// oncall.ErrUnknownTimeZone and ErrInvalidWindow apart.
func Compile(mw *klaxonv1alpha1.MaintenanceWindow) (*Window, error) {
	spec := &mw.Spec
	w := &Window{Name: mw.Name, Mode: spec.Mode, services: spec.Services}
	if w.Mode == "" {
		w.Mode = klaxonv1alpha1.MaintenanceSuppress
	}
	if w.Mode != klaxonv1alpha1.MaintenanceSuppress && w.Mode != klaxonv1alpha1.MaintenanceHold {
		return nil, fmt.Errorf("%w: spec.mode %q must be Suppress or Hold", ErrInvalidWindow, w.Mode)
	}
	if sel := spec.Selector; len(spec.Services) == 0 && (sel == nil || len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		// An empty selector would hold every incident of the namespace.
		return nil, fmt.Errorf("%w: set spec.services, a non-empty spec.selector, or both", ErrInvalidWindow)
	}
	if spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(spec.Selector)
		if err != nil {
			return nil, fmt.Errorf("%w: spec.selector is not a valid label selector: %w", ErrInvalidSelector, err)
		}
		w.selector = sel
	}
	oneOff := spec.Start != nil || spec.End != nil
	switch {
	case oneOff == (spec.Schedule != nil):
		return nil, fmt.Errorf("%w: set exactly one of spec.start with spec.end, or spec.schedule", ErrInvalidWindow)
	case oneOff && (spec.Start == nil || spec.End == nil):
		return nil, fmt.Errorf("%w: spec.start and spec.end go together", ErrInvalidWindow)
	case oneOff && !spec.End.After(spec.Start.Time):
		return nil, fmt.Errorf("%w: spec.end must be after spec.start", ErrInvalidWindow)
	case oneOff:
		w.start, w.end = spec.Start.Time, spec.End.Time
	default:
		rec, err := oncall.CompileRecurrence("spec.schedule", spec.Schedule.TimeZone, spec.Schedule.TimeRestriction)
		if err != nil {
			return nil, scheduleError(err)
		}
		w.recurrence = rec
	}
	return w, nil
}

// scheduleError restates the on-call compiler's error about a schedule in
// the window's words; errors.Is still reaches its causes.
func scheduleError(err error) error {
	var invalid *oncall.InvalidSpecError
	if !errors.As(err, &invalid) {
		return fmt.Errorf("%w: %w", ErrInvalidWindow, err)
	}
	msgs := make([]string, len(invalid.Fields))
	for i, f := range invalid.Fields {
		msgs[i] = f.Error()
	}
	return &fieldsError{msg: "invalid maintenance schedule: " + strings.Join(msgs, "; "), err: err}
}

type fieldsError struct {
	msg string
	err error
}

func (e *fieldsError) Error() string { return e.msg }

func (e *fieldsError) Unwrap() []error { return []error{ErrInvalidWindow, e.err} }

// Matches reports whether the window is about the incident: its
// spec.service is one of spec.services (when set) and its labels match
// spec.selector (when set).
func (w *Window) Matches(inc *klaxonv1alpha1.Incident) bool {
	if len(w.services) == 0 && w.selector == nil {
		return false
	}
	if len(w.services) > 0 && !slices.Contains(w.services, klaxonv1alpha1.ServiceName(inc.Spec.Service)) {
		return false
	}
	return w.selector == nil || w.selector.Matches(labels.Set(inc.Labels))
}

// State is where a window stands at an instant.
type State struct {
	// Active is whether the window applies at the instant.
	Active bool
	// NextStart is the first instant after it at which the window opens,
	// or zero when it does not within the look-ahead.
	NextStart time.Time
	// NextEnd is the first instant after it at which the window closes,
	// or zero when it does not within the look-ahead.
	NextEnd time.Time
	// Until is the instant up to which State was worked out: the caller
	// should ask again then at the latest. Zero when the window never
	// changes again (a one-off window that has ended).
	Until time.Time
}

// Recheck returns when the state next changes or must be worked out again,
// or zero for never.
func (s State) Recheck() time.Time {
	var out time.Time
	for _, t := range []time.Time{s.NextStart, s.NextEnd, s.Until} {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// ActiveAt reports whether the window applies at t: start <= t < end for a
// one-off window, t inside a local window of the schedule otherwise.
func (w *Window) ActiveAt(t time.Time) bool {
	if w.recurrence != nil {
		return w.recurrence.Covers(t)
	}
	return !t.Before(w.start) && t.Before(w.end)
}

// At returns where the window stands at t.
func (w *Window) At(t time.Time) State {
	if w.recurrence == nil {
		st := State{Active: w.ActiveAt(t)}
		if w.start.After(t) {
			st.NextStart = w.start
		}
		if w.end.After(t) {
			st.NextEnd = w.end
		}
		st.Until = st.NextEnd
		return st
	}
	covered := w.recurrence.Covers(t)
	edge := w.nextEdge(t)
	st := State{Active: covered}
	current := covered
	// Adjacent local windows (Mon 18:00-00:00, Tue 00:00-...) meet at an
	// edge where the window goes on: walk the edges to the real changes.
	for i := 0; i < maxEdges && !edge.IsZero(); i++ {
		st.Until = edge
		now, next := w.recurrence.Covers(edge), w.nextEdge(edge)
		if now != current {
			if now && st.NextStart.IsZero() {
				st.NextStart = edge
			}
			if !now && st.NextEnd.IsZero() {
				st.NextEnd = edge
			}
			current = now
		}
		if !st.NextStart.IsZero() && !st.NextEnd.IsZero() {
			break
		}
		edge = next
	}
	return st
}

// lookBack bounds how far back openedBefore looks for where a recurring
// window opened: more than a week, so every schedule opens within it unless
// it applies all the time.
const lookBack = 8 * 24 * time.Hour

// openedBefore returns when the stretch of the window that covers t
// opened, and false when the window does not apply at t. A recurring window
// that has applied for all of lookBack is said to have opened then.
func (w *Window) openedBefore(t time.Time) (time.Time, bool) {
	if !w.ActiveAt(t) {
		return time.Time{}, false
	}
	if w.recurrence == nil {
		return w.start, true
	}
	from := t.Add(-lookBack)
	opened, covered := from, w.recurrence.Covers(from)
	edge := w.nextEdge(from)
	for i := 0; i < maxEdges && !edge.IsZero() && !edge.After(t); i++ {
		on := w.recurrence.Covers(edge)
		if on && !covered {
			opened = edge
		}
		covered = on
		edge = w.nextEdge(edge)
	}
	return opened, true
}

// nextEdge returns the first instant after t at which the schedule opens or
// closes, or zero when it never does. One scan sees a week ahead; a week
// whose only window a spring-forward gap swallowed has no edge in it, so
// the scan goes on from six days later.
func (w *Window) nextEdge(t time.Time) time.Time {
	_, edge := w.recurrence.Scan(t)
	if edge.IsZero() {
		_, edge = w.recurrence.Scan(t.Add(6 * 24 * time.Hour))
	}
	return edge
}

// silenceHorizon is how far ahead a window that does not close within the
// look-ahead is silenced, from the start of the day: it is extended daily.
const silenceHorizon = 8 * 24 * time.Hour

// Occurrence returns the stretch of the window that an Alertmanager silence
// mirrors at now: the one that applies now, else the next one. ok is false
// when the window does not open again within the look-ahead. A stretch
// that does not end within the look-ahead ends at silenceHorizon.
func (w *Window) Occurrence(now time.Time) (start, end time.Time, ok bool) {
	st := w.At(now)
	switch {
	case st.Active:
		start, _ = w.openedBefore(now)
	case !st.NextStart.IsZero():
		start = st.NextStart
	default:
		return time.Time{}, time.Time{}, false
	}
	end = st.NextEnd
	if end.IsZero() {
		end = now.Truncate(24 * time.Hour).Add(silenceHorizon)
	}
	return start, end, true
}
