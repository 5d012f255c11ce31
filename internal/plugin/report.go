package plugin

import (
	"math"
	"slices"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// GroupBy is what a report groups incidents by.
type GroupBy string

// The groupings of a report.
const (
	BySeverity GroupBy = "severity"
	ByService  GroupBy = "service"
)

// noService groups incidents without spec.service.
const noService = "<none>"

// Report is how incident response went over a window: counts, time to
// acknowledge and resolve, and how often the response targets were met.
type Report struct {
	// From and To bound the window: incidents whose current episode was
	// triggered in [From, To].
	From metav1.Time `json:"from"`
	To   metav1.Time `json:"to"`
	By   GroupBy     `json:"by"`
	// Groups are ordered by severity (SEV1 first), or by service name with
	// incidents without a service last.
	Groups []ReportGroup `json:"groups"`
	Total  ReportGroup   `json:"total"`
}

// ReportGroup holds the figures of one severity or service.
type ReportGroup struct {
	Key string `json:"key"`
	// Incidents counts the incidents triggered in the window.
	Incidents int `json:"incidents"`
	// Open counts those not resolved (nor closed) yet.
	Open int `json:"open"`
	// TimeToAcknowledge runs from the trigger to the acknowledgement, over
	// the incidents acknowledged; TimeToResolve to the resolution (or the
	// close, for one closed without being resolved first), over those
	// resolved.
	TimeToAcknowledge DurationStats `json:"timeToAcknowledge"`
	TimeToResolve     DurationStats `json:"timeToResolve"`
	// AcknowledgeTarget and ResolveTarget count the deadlines of
	// status.responseTargets that were met and missed; deadlines still
	// ahead count as neither.
	AcknowledgeTarget Compliance `json:"acknowledgeTarget"`
	ResolveTarget     Compliance `json:"resolveTarget"`
}

// DurationStats summarises a set of durations.
type DurationStats struct {
	Count int `json:"count"`
	// Median and P90 are the 50th and 90th percentiles, interpolated
	// linearly between the nearest samples; unset without samples.
	Median *metav1.Duration `json:"median,omitempty"`
	P90    *metav1.Duration `json:"p90,omitempty"`
}

// Compliance counts response-target deadlines met and missed.
type Compliance struct {
	Met    int `json:"met"`
	Missed int `json:"missed"`
}

// Percent is the share of deadlines met, and false when none was decided.
func (c Compliance) Percent() (float64, bool) {
	n := c.Met + c.Missed
	if n == 0 {
		return 0, false
	}
	return 100 * float64(c.Met) / float64(n), true
}

// BuildReport computes a report over the incidents whose current episode
// was triggered within since before now (since 0: all of them), grouped by.
//
// An incident contributes its current episode: the status timestamps
// (triggeredAt, acknowledgedAt, resolvedAt...) are those of the episode
// since its last reopen. An acknowledgement or resolution made late counts
// as a missed target.
func BuildReport(incidents []klaxonv1alpha1.Incident, now time.Time, since time.Duration, by GroupBy) Report {
	from := time.Time{}
	if since > 0 {
		from = now.Add(-since)
	}
	r := Report{From: metav1.NewTime(from), To: metav1.NewTime(now), By: by, Total: ReportGroup{Key: "total"}}
	type samples struct {
		group    ReportGroup
		ack, res []time.Duration
	}
	groups := map[string]*samples{}
	var totalAck, totalRes []time.Duration
	for i := range incidents {
		inc := &incidents[i]
		start := triggeredAt(inc)
		if start.Before(from) || start.After(now) {
			continue
		}
		key := string(severityOf(inc))
		if by == ByService {
			key = inc.Spec.Service
			if key == "" {
				key = noService
			}
		}
		g := groups[key]
		if g == nil {
			g = &samples{group: ReportGroup{Key: key}}
			groups[key] = g
		}
		m := measure(inc, now)
		for _, grp := range []*ReportGroup{&g.group, &r.Total} {
			grp.Incidents++
			if m.open {
				grp.Open++
			}
			grp.AcknowledgeTarget.add(m.ackTarget)
			grp.ResolveTarget.add(m.resolveTarget)
		}
		if m.ack != nil {
			g.ack = append(g.ack, *m.ack)
			totalAck = append(totalAck, *m.ack)
		}
		if m.resolve != nil {
			g.res = append(g.res, *m.resolve)
			totalRes = append(totalRes, *m.resolve)
		}
	}
	for _, g := range groups {
		g.group.TimeToAcknowledge = summarise(g.ack)
		g.group.TimeToResolve = summarise(g.res)
		r.Groups = append(r.Groups, g.group)
	}
	r.Total.TimeToAcknowledge = summarise(totalAck)
	r.Total.TimeToResolve = summarise(totalRes)
	sort.Slice(r.Groups, func(i, j int) bool { return groupLess(by, r.Groups[i].Key, r.Groups[j].Key) })
	return r
}

func groupLess(by GroupBy, a, b string) bool {
	if by == BySeverity {
		return severityRank(klaxonv1alpha1.Severity(a)) < severityRank(klaxonv1alpha1.Severity(b))
	}
	if (a == noService) != (b == noService) {
		return b == noService
	}
	return a < b
}

// verdict is a response target's outcome.
type verdict int

const (
	noTarget verdict = iota // no deadline, or it is still ahead
	targetMet
	targetMissed
)

func (c *Compliance) add(v verdict) {
	switch v {
	case targetMet:
		c.Met++
	case targetMissed:
		c.Missed++
	case noTarget:
	}
}

// measurement is what one incident contributes to a report.
type measurement struct {
	open                     bool
	ack, resolve             *time.Duration
	ackTarget, resolveTarget verdict
}

func measure(inc *klaxonv1alpha1.Incident, now time.Time) measurement {
	st := &inc.Status
	start := triggeredAt(inc)
	resolved := firstTime(st.ResolvedAt, st.ClosedAt)
	m := measurement{open: resolved == nil}
	if st.AcknowledgedAt != nil {
		m.ack = since(start, st.AcknowledgedAt.Time)
	}
	if resolved != nil {
		m.resolve = since(start, resolved.Time)
	}
	// Moving past Acknowledged without acknowledging (an alert resolving by
	// itself) ends the wait for an acknowledgement, as the operator counts
	// it (internal/targets).
	acked := st.AcknowledgedAt
	if acked == nil {
		acked = firstTime(st.MitigatedAt, st.ResolvedAt, st.ClosedAt)
	}
	if rt := st.ResponseTargets; rt != nil {
		m.ackTarget = judge(rt.AcknowledgeBy, acked, now)
		m.resolveTarget = judge(rt.ResolveBy, resolved, now)
	}
	return m
}

// since is the time from start to t, or nil when t comes first (a clock
// skew the report should not count as a negative duration).
func since(start, t time.Time) *time.Duration {
	d := t.Sub(start)
	if d < 0 {
		return nil
	}
	return &d
}

func judge(due, done *metav1.Time, now time.Time) verdict {
	switch {
	case due == nil:
		return noTarget
	case done != nil && !done.After(due.Time):
		return targetMet
	case done != nil, !now.Before(due.Time):
		return targetMissed
	}
	return noTarget
}

func firstTime(ts ...*metav1.Time) *metav1.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}

func summarise(ds []time.Duration) DurationStats {
	s := DurationStats{Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	s.Median = &metav1.Duration{Duration: percentile(sorted, 0.5)}
	s.P90 = &metav1.Duration{Duration: percentile(sorted, 0.9)}
	return s
}

// percentile interpolates linearly between the closest ranks of sorted
// (the method of spreadsheets and NumPy's default): the median of 1, 2, 3,
// 4 is 2.5.
func percentile(sorted []time.Duration, q float64) time.Duration {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo] + time.Duration(frac*float64(sorted[hi]-sorted[lo])).Round(time.Second)
}
