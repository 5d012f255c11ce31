package delivery

import (
	"slices"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

// The bundling of a contact whose rule and channel do not say.
const (
	DefaultBundleAfter  = 3
	DefaultBundleWindow = 30 * time.Second
)

// Bundling is how the pages to one contact are bundled: once After
// messages went to it within Window, further pages wait until the oldest
// of them leaves the window, and then go out together as one message.
type Bundling struct {
	// After is how many messages the window holds; 0 turns bundling off.
	After  int
	Window time.Duration
}

// On reports whether pages may be bundled at all.
func (b Bundling) On() bool { return b.After > 0 && b.Window > 0 }

// BundlingOf is the bundling of a responder's contact: that of the first
// of the responder's rules naming the contact that sets it, else the
// channel's, else the defaults. channel may be nil (a channel not found).
func BundlingOf(spec *klaxonv1alpha1.ResponderSpec, contact string, channel *klaxonv1alpha1.NotificationChannelSpec) Bundling {
	var after *int32
	var window *time.Duration
	if spec != nil {
		for i := range spec.Rules {
			r := &spec.Rules[i]
			if r.Contact != contact {
				continue
			}
			if after == nil && r.BundleAfter != nil {
				after = r.BundleAfter
			}
			if window == nil && r.BundleWindow != nil {
				window = &r.BundleWindow.Duration
			}
		}
	}
	if channel != nil {
		if after == nil {
			after = channel.BundleAfter
		}
		if window == nil && channel.BundleWindow != nil {
			window = &channel.BundleWindow.Duration
		}
	}
	b := Bundling{After: DefaultBundleAfter, Window: DefaultBundleWindow}
	if after != nil {
		b.After = max(int(*after), 0)
	}
	if window != nil {
		b.Window = *window
	}
	return b
}

// Bundleable reports whether a delivery may wait to be bundled: a page to a
// responder's contact, not news to stakeholders nor a team channel, and
// never a SEV1's, which goes out at once whatever the contact was sent.
func Bundleable(n *klaxonv1alpha1.Notification, severity klaxonv1alpha1.Severity, b Bundling) bool {
	return b.On() && n.Event == "" && n.Responder != "" && n.Contact != "" && n.Channel != "" &&
		severity != klaxonv1alpha1.SeverityCritical
}

// Window is what one contact was sent lately: each message (a page of its
// own or a bundle) by an ID, with when it went.
type Window struct {
	sent map[string]Message
}

// Message is one message a contact was sent.
type Message struct {
	At time.Time
	// Bundle says it was a bundle: after a bundle, the contact gets the
	// next one a whole window later, not as soon as a place frees.
	Bundle bool
}

// Note records a message; a message noted again keeps its latest time.
func (w *Window) Note(id string, m Message) {
	if w.sent == nil {
		w.sent = map[string]Message{}
	}
	w.sent[id] = m
}

// Forget gives back the place of a message that reached nobody.
func (w *Window) Forget(id string) { delete(w.sent, id) }

// Free is when the contact may next be sent a message under b: now, when
// fewer than b.After messages went within the window that ends now and no
// bundle did; else when enough of them have left it, and a bundle has. So
// a storm sends a contact its first b.After pages at once and then one
// bundle a window. It forgets what left the window.
func (w *Window) Free(now time.Time, b Bundling) time.Time {
	if !b.On() {
		return now
	}
	since := now.Add(-b.Window)
	var times []time.Time
	free := now
	for id, s := range w.sent {
		if !s.At.After(since) {
			delete(w.sent, id)
			continue
		}
		times = append(times, s.At)
		if s.Bundle && s.At.Add(b.Window).After(free) {
			free = s.At.Add(b.Window)
		}
	}
	if len(times) < b.After {
		return free
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	if at := times[len(times)-b.After].Add(b.Window); at.After(free) {
		free = at
	}
	return free
}

// Len is how many messages the window holds.
func (w *Window) Len() int { return len(w.sent) }

// SentTo is what status says was sent to a responder's contact after
// since, SEV1 pages aside, by message: a bundle once under its name, any
// other sent page under the incident's UID and the entry's Key. It
// rebuilds a contact's Window after a restart or a change of leader.
func SentTo(incidents []klaxonv1alpha1.Incident, responder, contact string, since time.Time) map[string]Message {
	sent := map[string]Message{}
	for i := range incidents {
		inc := &incidents[i]
		if inc.Spec.Severity == klaxonv1alpha1.SeverityCritical {
			// A SEV1's pages go at once and hold no place.
			continue
		}
		for j := range inc.Status.Notifications {
			n := &inc.Status.Notifications[j]
			if n.Responder != responder || n.Contact != contact || n.Event != "" ||
				n.State != klaxonv1alpha1.NotificationSent || n.SentAt == nil || !n.SentAt.After(since) {
				continue
			}
			id := n.Bundle
			if id == "" {
				id = string(inc.UID) + "/" + Key(n)
			}
			if s, ok := sent[id]; !ok || n.SentAt.After(s.At) {
				sent[id] = Message{At: n.SentAt.Time, Bundle: n.Bundle != ""}
			}
		}
	}
	return sent
}
