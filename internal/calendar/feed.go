package calendar

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-dev/klaxon/internal/oncall"
)

// Bounds of a feed.
const (
	// DefaultWeeks is how far ahead a feed looks unless told otherwise.
	DefaultWeeks = 8
	// MaxWeeks is the most weeks ahead a feed may be asked for.
	MaxWeeks = 26
	// PastDays are the days before today a feed keeps, so a shift that
	// just ended stays in the calendar.
	PastDays = 7
	// MaxEvents bounds the events of one feed.
	MaxEvents = 5000
	// MaxSchedules bounds the schedules one feed reads: each costs a walk.
	MaxSchedules = 100
	// HandoffBudget bounds the walk of one schedule (oncall's
	// PersonShifts budget: a handoff and each person on call after it):
	// one person handing over hourly over the longest window, the
	// look-around included, takes about 14,000.
	HandoffBudget = 20000
	// FeedHandoffBudget bounds the walks of one feed, over all its
	// schedules: a hundred daily schedules of two over the longest window
	// take about 80,000.
	FeedHandoffBudget = 100000
	// lookAround is how far before and after the window a feed walks, so
	// that a shift crossing an edge of the window keeps its own start and
	// end, and so its UID, as the window moves day by day. Only a shift
	// longer than this is cut at the edge.
	lookAround = 7 * 24 * time.Hour
	// maxListed bounds the people one line of a description names.
	maxListed = 20
)

// Window returns the span a feed of weeks covers at now: from PastDays
// before today's UTC midnight to weeks after it. It moves once a day, so
// a feed's body is the same all day while nothing changes.
func Window(now time.Time, weeks int) (from, to time.Time) {
	y, m, d := now.UTC().Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return midnight.AddDate(0, 0, -PastDays), midnight.AddDate(0, 0, 7*weeks)
}

// Event is one shift in a feed.
type Event struct {
	UID         string
	Start, End  time.Time
	Summary     string
	Description string
	Sequence    int64
}

// Feed is a calendar: its name, its events by start, and notes on what it
// leaves out.
type Feed struct {
	Name string
	// Stamp is every event's DTSTAMP: the window's start, so the body
	// does not change from one request to the next.
	Stamp  time.Time
	Events []Event
	// Notes say what was cut short; shown as the calendar's description.
	Notes []string
}

// Schedule is one schedule a feed reads.
type Schedule struct {
	Namespace, Name string
	// Compiled is the schedule with its OnCallOverrides applied.
	Compiled *oncall.Schedule
	// Sequence is every event's SEQUENCE: the schedule's recorded shifts
	// revision, which grows when its spec or overrides change.
	Sequence int64
}

// Builder collects a feed's events over one window.
type Builder struct {
	from, to time.Time
	feed     Feed
	full     bool
	// budget is the handoffs followed per schedule, left those still to
	// be followed for the feed.
	budget, left int
}

// NewBuilder starts a feed named name over [from, to).
func NewBuilder(name string, from, to time.Time) *Builder {
	return &Builder{from: from, to: to, feed: Feed{Name: name, Stamp: from}, budget: HandoffBudget, left: FeedHandoffBudget}
}

// Add adds the shifts of s that keep admits, each titled by summary.
// Past MaxEvents, or where the schedule's handoffs exceed HandoffBudget,
// the feed is cut short and a note says so.
func (b *Builder) Add(s Schedule, keep func(oncall.PersonShift) bool, summary func(oncall.PersonShift) string) {
	if b.full {
		return
	}
	if b.left <= 0 {
		b.full = true
		b.Note(fmt.Sprintf("The schedules change hands too often for one calendar: schedule %s/%s and those after it are not shown.", s.Namespace, s.Name))
		return
	}
	budget := min(b.budget, b.left)
	shifts, until, used := s.Compiled.PersonShifts(b.from.Add(-lookAround), b.to.Add(lookAround), budget)
	b.left -= used
	if until.Before(b.to) {
		b.Note(fmt.Sprintf("Schedule %s/%s changes hands too often: its shifts after %s are not shown.",
			s.Namespace, s.Name, until.UTC().Format(time.RFC3339)))
	}
	end := b.to
	if until.Before(end) {
		end = until
	}
	for _, sh := range shifts {
		// The look-around keeps edges whole; the feed shows the window.
		if !sh.End.After(b.from) || !sh.Start.Before(end) || !keep(sh) {
			continue
		}
		if len(b.feed.Events) == MaxEvents {
			b.full = true
			b.Note(fmt.Sprintf("This calendar holds at most %d shifts; later ones are not shown.", MaxEvents))
			return
		}
		b.feed.Events = append(b.feed.Events, Event{
			UID:         uid(s.Namespace, s.Name, sh),
			Start:       sh.Start.UTC(),
			End:         sh.End.UTC(),
			Summary:     summary(sh),
			Description: describe(s, sh),
			Sequence:    s.Sequence,
		})
	}
}

// Note adds a note on what the feed leaves out.
func (b *Builder) Note(n string) { b.feed.Notes = append(b.feed.Notes, n) }

// Feed returns the feed built so far.
func (b *Builder) Feed() Feed { return b.feed }

// uid names a shift by what makes it: the schedule, what put the person on
// call, the person and the start. An edit elsewhere in the schedule keeps
// it, so a client updates the event instead of adding another.
func uid(namespace, schedule string, sh oncall.PersonShift) string {
	h := sha256.New()
	for _, part := range []string{namespace, schedule, sh.Source, sh.User, sh.Start.UTC().Format(time.RFC3339)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)) + "@klaxon.dev"
}

// describe says where the shift is from, who hands over, to whom, and who
// else is on call.
func describe(s Schedule, sh oncall.PersonShift) string {
	lines := []string{"Schedule: " + s.Namespace + "/" + s.Name}
	if len(sh.HandsOver) > 0 {
		lines = append(lines, "Takes over from: "+list(sh.HandsOver))
	}
	if len(sh.TakesOver) > 0 {
		lines = append(lines, "Hands over to: "+list(sh.TakesOver))
	}
	if len(sh.With) > 0 {
		lines = append(lines, "With: "+list(sh.With))
	}
	return strings.Join(lines, "\n")
}

// list names people, at most maxListed of them.
func list(people []string) string {
	if len(people) <= maxListed {
		return strings.Join(people, ", ")
	}
	return strings.Join(people[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(people)-maxListed)
}
