package heartbeat

import (
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// maxWriteInterval caps how stale status.lastSeenAt may get for long
// timeouts.
const maxWriteInterval = time.Minute

// WriteInterval is how often the receiver records a beat in
// status.lastSeenAt: a quarter of the timeout, at most once a minute. The
// persisted value lags the latest beat by less than this, so a heartbeat
// beating more often than every three quarters of its timeout is never
// judged overdue.
func WriteInterval(timeout time.Duration) time.Duration {
	return min(timeout/4, maxWriteInterval)
}

// NeedsWrite reports whether a beat at now must be recorded, given the
// persisted lastSeenAt (nil before any beat).
func NeedsWrite(lastSeen *time.Time, timeout time.Duration, now time.Time) bool {
	return lastSeen == nil || now.Sub(*lastSeen) >= WriteInterval(timeout)
}

// Start is when the heartbeat's current wait for a beat began: the persisted
// lastSeenAt, or its creation before any beat was recorded.
func Start(hb *klaxonv1alpha1.Heartbeat) time.Time {
	if hb.Status.LastSeenAt != nil {
		return hb.Status.LastSeenAt.Time
	}
	return hb.CreationTimestamp.Time
}

// Deadline is when the heartbeat becomes overdue without another beat.
func Deadline(hb *klaxonv1alpha1.Heartbeat) time.Time {
	return Start(hb).Add(hb.Spec.Timeout.Duration)
}

// Overdue reports whether no beat was recorded within the timeout: more
// than spec.timeout passed since Start.
func Overdue(hb *klaxonv1alpha1.Heartbeat, now time.Time) bool {
	return now.After(Deadline(hb))
}

// Action is what the reconciler does about a heartbeat's incident.
type Action int

// The actions.
const (
	// ActionNone: nothing to open or resolve.
	ActionNone Action = iota
	// ActionOpen: the heartbeat is overdue and has no open incident.
	ActionOpen
	// ActionResolve: the heartbeat is beating again and its incident is
	// still recorded.
	ActionResolve
)

// Decision is what a reconcile at now does.
type Decision struct {
	Overdue bool
	Action  Action
	// RequeueAfter is when to look again: the deadline, while beating. An
	// overdue heartbeat waits for a beat, which changes its status and wakes
	// it.
	RequeueAfter time.Duration
}

// Decide judges the heartbeat at now from persisted timestamps only, so a
// restarted operator judges it the same way.
func Decide(hb *klaxonv1alpha1.Heartbeat, now time.Time) Decision {
	if Overdue(hb, now) {
		d := Decision{Overdue: true}
		if hb.Status.IncidentRef == nil {
			d.Action = ActionOpen
		}
		return d
	}
	d := Decision{RequeueAfter: Deadline(hb).Sub(now) + time.Second}
	if hb.Status.IncidentRef != nil {
		d.Action = ActionResolve
	}
	return d
}
