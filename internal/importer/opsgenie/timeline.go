package opsgenie

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// maxPeriods bounds the periods of one timeline: four weeks of hourly
// handoffs in a few rotations fit many times over. maxOnCall bounds the
// people on call at once, as a schedule's status.onCall does.
const (
	maxPeriods = 100000
	maxOnCall  = 256
)

// finalOf is who Opsgenie's final timeline puts on call in w: everyone on
// call in any rotation, overrides and forwarding included. Users are
// named by their Responder names; a team or escalation on call is named
// "team:NAME" or "escalation:NAME", which no Responder is, so that verify
// shows where the import could not follow it.
func finalOf(tl timeline, name, id string, w importer.Window, p *people) (importer.Final, error) {
	// Outside the range the answer says it covers, its periods say
	// nothing, not that nobody is on call.
	from, err1 := time.Parse(time.RFC3339, tl.StartDate)
	to, err2 := time.Parse(time.RFC3339, tl.EndDate)
	if err1 != nil || err2 != nil {
		return importer.Final{}, fmt.Errorf("the timeline of schedule %s covers %s to %s, which are no RFC 3339 times", importer.Quote(id), importer.Quote(tl.StartDate), importer.Quote(tl.EndDate))
	}
	if from.After(w.From) || to.Before(w.To) {
		return importer.Final{}, fmt.Errorf("the timeline of schedule %s covers %s to %s, not all of the window %s to %s",
			importer.Quote(id), from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339))
	}
	var list []importer.Interval
	total := 0
	for _, r := range tl.FinalTimeline.Rotations {
		total += len(r.Periods)
		if total > maxPeriods {
			return importer.Final{}, fmt.Errorf("the timeline of schedule %s has more than %d periods", importer.Quote(id), maxPeriods)
		}
		for _, pd := range r.Periods {
			start, err1 := time.Parse(time.RFC3339, pd.StartDate)
			end, err2 := time.Parse(time.RFC3339, pd.EndDate)
			if err1 != nil || err2 != nil {
				return importer.Final{}, fmt.Errorf("the timeline of schedule %s has a period from %s to %s, which are no RFC 3339 times", importer.Quote(id), importer.Quote(pd.StartDate), importer.Quote(pd.EndDate))
			}
			if start.Before(w.From) {
				start = w.From
			}
			if end.After(w.To) {
				end = w.To
			}
			if !end.After(start) {
				continue
			}
			who, ok := timelineName(pd.Recipient, p)
			if !ok {
				continue
			}
			list = append(list, importer.Interval{Start: start.UTC(), End: end.UTC(), People: []string{who}})
		}
	}
	intervals, err := flatten(list)
	if err != nil {
		return importer.Final{}, fmt.Errorf("the timeline of schedule %s: %w", importer.Quote(id), err)
	}
	return importer.Final{Schedule: name, SourceID: id, Intervals: intervals}, nil
}

// timelineName is how a period's recipient is named in a final schedule;
// false for nobody.
func timelineName(r recipient, p *people) (string, bool) {
	switch r.Type {
	case "none", "":
		return "", false
	case "user":
		if n, ok := p.name(r); ok {
			return n, true
		}
		return "user:" + importer.Clip(firstNonEmpty(r.Name, r.Username, r.ID), importer.MaxValue), true
	default:
		return importer.Clip(r.Type, importer.MaxValue) + ":" + importer.Clip(firstNonEmpty(r.Name, r.ID), importer.MaxValue), true
	}
}

// flatten turns intervals that may overlap into consecutive ones of the
// people on call together, leaving out the times nobody is.
func flatten(list []importer.Interval) ([]importer.Interval, error) {
	type event struct {
		at     time.Time
		who    string
		change int
	}
	var events []event
	for _, iv := range list {
		for _, who := range iv.People {
			events = append(events, event{iv.Start, who, 1}, event{iv.End, who, -1})
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	count := map[string]int{}
	var out []importer.Interval
	for i := 0; i < len(events); {
		at := events[i].at
		for ; i < len(events) && events[i].at.Equal(at); i++ {
			who := events[i].who
			if count[who] += events[i].change; count[who] == 0 {
				delete(count, who)
			}
		}
		if len(count) > maxOnCall {
			return nil, fmt.Errorf("more than %d people are on call at %s", maxOnCall, at.UTC().Format(time.RFC3339))
		}
		if n := len(out); n > 0 && out[n-1].End.IsZero() {
			out[n-1].End = at
		}
		var people []string
		for who, c := range count {
			if c > 0 {
				people = append(people, who)
			}
		}
		if len(people) == 0 || i == len(events) {
			continue
		}
		slices.Sort(people)
		if n := len(out); n > 0 && out[n-1].End.Equal(at) && slices.Equal(out[n-1].People, people) {
			out[n-1].End = time.Time{}
			continue
		}
		out = append(out, importer.Interval{Start: at, People: people})
	}
	return out, nil
}
