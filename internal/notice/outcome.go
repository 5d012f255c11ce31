package notice

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

const (
	// MaxAttempts is how many sends a notice gets before it fails for
	// good.
	MaxAttempts = 5
	// firstBackoff doubles after each failed attempt, up to maxBackoff.
	firstBackoff = 30 * time.Second
	maxBackoff   = 5 * time.Minute
	// maxReason is the CRD bound of a notice's reason.
	maxReason = 512
)

// DueAt is when a Pending notice is to be sent: at once before its first
// attempt, then after a backoff from the last. Zero for one not Pending.
func DueAt(n *klaxonv1alpha1.ShiftNotice) time.Time {
	if n.State != klaxonv1alpha1.ShiftNoticePending {
		return time.Time{}
	}
	if n.Attempts == 0 || n.LastAttemptAt == nil {
		return n.PlannedAt.Time
	}
	backoff := firstBackoff
	for range n.Attempts - 1 {
		backoff = min(2*backoff, maxBackoff)
	}
	return n.LastAttemptAt.Add(backoff)
}

// Outcome is what became of an attempt to send a notice.
type Outcome struct {
	At time.Time
	// Err is why the attempt failed; nil when the channel took the notice.
	Err error
	// Permanent says a retry would fail alike.
	Permanent bool
	// TooLate says the notice was not sent because it could no longer help.
	TooLate bool
}

// Apply records o on n, a Pending notice, and reports whether n failed
// for good.
func Apply(n *klaxonv1alpha1.ShiftNotice, o Outcome) (failed bool) {
	at := metav1.NewTime(o.At.Truncate(time.Second))
	if o.TooLate {
		n.State, n.Reason = klaxonv1alpha1.ShiftNoticeFailed, "too late: the shift started more than 15m ago"
		return true
	}
	n.Attempts++
	n.LastAttemptAt = &at
	if o.Err == nil {
		n.State, n.Reason = klaxonv1alpha1.ShiftNoticeSent, ""
		return false
	}
	n.Reason = bounded.Bytes(o.Err.Error(), maxReason)
	if o.Permanent || n.Attempts >= MaxAttempts {
		n.State = klaxonv1alpha1.ShiftNoticeFailed
		return true
	}
	return false
}
