package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/delivery"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// phoneWindow is the span a twilio channel's caps count over.
const phoneWindow = time.Hour

// limitError is a send a twilio channel's hourly cap refused; its message
// says which cap.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// phoneLedger holds the texts and calls this process sent, or is sending,
// through each twilio channel in the last phoneWindow. Persisted state
// (sentAt in status.notifications) is the record; the ledger covers what
// the cache does not show yet: sends under way, and those whose status
// write the cache has not caught up with.
type phoneLedger struct {
	mu sync.Mutex
	// sends are by namespace/channel, then by deliveryID.
	sends map[string]map[string]phoneSend
}

type phoneSend struct {
	responder string
	at        time.Time
}

// reservePhone counts the channel's texts and calls of the last hour, per
// responder and in all, and, when the send stays within both caps, holds
// its place until release says whether to keep it. Over a cap it returns
// a Permanent *limitError: retrying within the hour would only be refused
// again, and the person's next rule or the next level is already timed.
// The send's own earlier attempt is not counted: a retry takes its place.
func (d *sender) reservePhone(ctx context.Context, ref types.NamespacedName, uid types.UID, req sendRequest, tw *klaxonv1alpha1.TwilioChannel) (release func(keep bool), err error) {
	// From the cache, read only: one List per text or call, no API
	// server read and no copy of the namespace's incidents.
	list := &klaxonv1alpha1.IncidentList{}
	if err = d.cache.List(ctx, list, client.InNamespace(ref.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("counting the texts and calls of NotificationChannel %s: %w", req.channel, err)
	}
	now := d.clock.Now()
	since := now.Add(-phoneWindow)
	channel := ref.Namespace + "/" + req.channel
	responder := req.message.Page.Responder
	id := deliveryID(uid, req.key)
	// Walked outside the lock, which every channel's sends share.
	persisted := persistedPhoneSends(list.Items, req.channel, since, id)

	l := &d.phones
	l.mu.Lock()
	defer l.mu.Unlock()
	all, toResponder := countPhoneSends(persisted, l.recent(channel, since), responder, id)
	perResponder, perHour := phoneLimits(tw)
	switch {
	case responder != "" && toResponder >= perResponder:
		err = &limitError{fmt.Sprintf("over the channel's limit of %d texts and calls an hour to %s", perResponder, responder)}
	case all >= perHour:
		err = &limitError{fmt.Sprintf("over the channel's limit of %d texts and calls an hour", perHour)}
	}
	if err != nil {
		ctrl.Log.WithName("sender").Info("Not sent: over a phone channel's hourly limit", "namespace", ref.Namespace,
			"channel", req.channel, "responder", responder, "error", err.Error())
		return nil, notify.Permanent(err)
	}
	if l.sends[channel] == nil {
		l.sends[channel] = map[string]phoneSend{}
	}
	l.sends[channel][id] = phoneSend{responder: responder, at: now}
	return func(keep bool) {
		if keep {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.sends[channel], id)
	}, nil
}

// persistedPhoneSends returns the texts and calls of a channel since a time
// that the incidents record (a sentAt, whatever the state since: a call
// nobody answered was still made), by delivery ID to their responder ("" for
// none), but self's. It only reads the incidents.
func persistedPhoneSends(incidents []klaxonv1alpha1.Incident, channel string, since time.Time, self string) map[string]string {
	sends := map[string]string{}
	for i := range incidents {
		inc := &incidents[i]
		for j := range inc.Status.Notifications {
			n := &inc.Status.Notifications[j]
			if n.Channel != channel || n.SentAt == nil || n.SentAt.Time.Before(since) {
				continue
			}
			if id := deliveryID(inc.UID, delivery.Key(n)); id != self {
				sends[id] = n.Responder
			}
		}
	}
	return sends
}

// countPhoneSends counts the persisted sends and those of mine, this
// process's, each once and self's not at all; in all, and to responder (""
// counts none).
func countPhoneSends(persisted map[string]string, mine map[string]phoneSend, responder, self string) (all, toResponder int) {
	for id, r := range persisted {
		if _, counted := mine[id]; counted {
			continue
		}
		all++
		if responder != "" && r == responder {
			toResponder++
		}
	}
	for id, s := range mine {
		if id == self {
			continue
		}
		all++
		if responder != "" && s.responder == responder {
			toResponder++
		}
	}
	return all, toResponder
}

// recent drops the channel's sends older than since and returns the rest.
// The caller holds l.mu.
func (l *phoneLedger) recent(channel string, since time.Time) map[string]phoneSend {
	sends := l.sends[channel]
	for id, s := range sends {
		if s.at.Before(since) {
			delete(sends, id)
		}
	}
	if len(sends) == 0 {
		delete(l.sends, channel)
	}
	return sends
}

// prune drops the sends older than phoneWindow of every channel, also of
// channels no longer used.
func (l *phoneLedger) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for channel := range l.sends {
		l.recent(channel, now.Add(-phoneWindow))
	}
}
