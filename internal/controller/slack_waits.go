package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/klaxon-dev/klaxon/internal/notify"
)

// slackWaits remembers, by Slack NotificationChannel, until when Slack
// asked its app not to call (a rate-limited answer's Retry-After). A
// reconcile that a watch event brings before then must not call: each
// call would be refused and count against the app. It is in memory, since
// a restart costs one refused call at most; and in real time, Slack's and
// the workqueue's, whatever clock a reconciler decides by.
type slackWaits struct {
	until sync.Map // types.NamespacedName → time.Time
	clock clock.PassiveClock
}

func newSlackWaits() *slackWaits {
	return &slackWaits{clock: clock.RealClock{}}
}

// sharedSlackWaits are the waits of every controller that calls Slack: a
// rate limit met by one holds the others' calls through that channel too.
var sharedSlackWaits = newSlackWaits()

// wait is how long the app of channel must still wait; 0 when it may call.
func (w *slackWaits) wait(channel types.NamespacedName) time.Duration {
	v, ok := w.until.Load(channel)
	if !ok {
		return 0
	}
	left := v.(time.Time).Sub(w.clock.Now())
	if left <= 0 {
		w.until.CompareAndDelete(channel, v)
		return 0
	}
	return left
}

// hold makes key wait d from now.
func (w *slackWaits) hold(key types.NamespacedName, d time.Duration) {
	w.until.Store(key, w.clock.Now().Add(d))
}

// record notes the wait err's answer asked of channel's app, at least a
// second, and returns it; false when the answer asked none.
func (w *slackWaits) record(channel types.NamespacedName, err error) (time.Duration, bool) {
	after, ok := notify.RetryAfter(err)
	if !ok {
		return 0, false
	}
	after = max(after, time.Second)
	w.until.Store(channel, w.clock.Now().Add(after))
	return after, true
}
