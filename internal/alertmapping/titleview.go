package alertmapping

import (
	"slices"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/tmplbudget"
)

// Bounds of what a title template sees of a notification. They make the
// methods of the data (.Alerts.Firing, .Labels.SortedPairs ...) cost little
// and bound what printing any value of it can make, whatever the payload.
const (
	// maxViewPairs is how many labels or annotations each set keeps.
	maxViewPairs = tmplbudget.MeteredPairs
	// maxViewBytes bounds the text of the whole view; a payload that
	// reaches it loses the labels and alerts that come after.
	maxViewBytes = 256 << 10
)

// titleView is the notification as a title template sees it: the same
// types as Alertmanager's templates, with at most MaxAlertItems alerts
// (firing ones first, in payload order; the rest are added to
// .TruncatedAlerts, as when Alertmanager truncates), at most maxViewPairs
// labels or annotations in each set (alertname first, then by name), every
// string at most maxTemplateString bytes, and at most maxViewBytes of text
// in all. Unchanged parts are shared with msg, never copied.
func titleView(msg *Message) *Message {
	v := &viewBuilder{room: maxViewBytes}
	out := &Message{
		Version:         v.str(msg.Version),
		GroupKey:        v.str(msg.GroupKey),
		TruncatedAlerts: msg.TruncatedAlerts,
		Data:            &template.Data{},
	}
	if msg.Data == nil {
		return out
	}
	d := msg.Data
	out.Receiver = v.str(d.Receiver)
	out.Status = v.str(d.Status)
	out.ExternalURL = v.str(d.ExternalURL)
	out.GroupLabels = v.kv(d.GroupLabels)
	out.CommonLabels = v.kv(d.CommonLabels)
	out.CommonAnnotations = v.kv(d.CommonAnnotations)

	keep := viewAlerts(d.Alerts)
	if len(keep) > 0 {
		out.Alerts = make(template.Alerts, 0, len(keep))
	}
	for _, i := range keep {
		if v.room <= 0 {
			break
		}
		a := d.Alerts[i]
		out.Alerts = append(out.Alerts, Alert{
			Status:       v.str(a.Status),
			Labels:       v.kv(a.Labels),
			Annotations:  v.kv(a.Annotations),
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: v.str(a.GeneratorURL),
			Fingerprint:  v.str(a.Fingerprint),
		})
	}
	if dropped := uint64(len(d.Alerts) - len(out.Alerts)); dropped > 0 {
		out.TruncatedAlerts += dropped
		if out.TruncatedAlerts < dropped { // overflow
			out.TruncatedAlerts = ^uint64(0)
		}
	}
	return out
}

// viewAlerts picks the indices of the alerts a title sees: up to
// MaxAlertItems, firing ones first, in payload order.
func viewAlerts(alerts template.Alerts) []int {
	keep := make([]int, 0, min(len(alerts), MaxAlertItems))
	for _, firing := range []bool{true, false} {
		for i, a := range alerts {
			if len(keep) == MaxAlertItems {
				break
			}
			if (a.Status == StatusFiring) == firing {
				keep = append(keep, i)
			}
		}
	}
	slices.Sort(keep)
	return keep
}

// viewBuilder hands out the view's room for text.
type viewBuilder struct{ room int }

// str returns s cut to maxTemplateString bytes and to the room left.
func (v *viewBuilder) str(s string) string {
	s = bounded.Bytes(s, min(maxTemplateString, max(v.room, 0)))
	v.room -= len(s)
	return s
}

// kv returns kv as the view shows it: itself when it is within bounds,
// otherwise a bounded copy.
func (v *viewBuilder) kv(kv template.KV) template.KV {
	if kv == nil {
		return nil
	}
	if len(kv) <= maxViewPairs {
		n := 0
		for k, val := range kv {
			if len(k) > maxTemplateString || len(val) > maxTemplateString {
				n = v.room + 1
				break
			}
			n += len(k) + len(val)
		}
		if n <= v.room {
			v.room -= n
			return kv
		}
	}
	// Sorting is linear in the payload, which the receiver bounds; the view
	// keeps the same labels whatever order they came in.
	pairs := kv.SortedPairs()
	out := make(template.KV, min(len(pairs), maxViewPairs))
	for _, p := range pairs[:min(len(pairs), maxViewPairs)] {
		if v.room <= 0 {
			break
		}
		out[v.str(p.Name)] = v.str(p.Value)
	}
	return out
}
