package alertmapping

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Bounds of status.alerts on Incident, and of what one item keeps.
const (
	// MaxAlertItems is how many alerts status.alerts.items keeps.
	MaxAlertItems = 50
	// maxItemLabels is the MaxProperties of an item's labels.
	maxItemLabels = 64
	// maxFingerprintLength is the MaxLength of an item's fingerprint.
	maxFingerprintLength = 64
	// maxLabelNameLength and maxLabelValueLength cut an item's label names
	// and values, in characters.
	maxLabelNameLength  = 128
	maxLabelValueLength = 256
	// maxItemsBytes bounds the JSON of status.alerts.items, far below the
	// API server's request and object size limits (etcd takes 1.5 MiB)
	// whatever the alerts carry: 50 items of 64 labels, even cut, can be
	// several megabytes.
	maxItemsBytes = 128 << 10
)

// Summarise is status.alerts for the notification: firing and resolved
// counts over every alert in the payload, the number Alertmanager left out,
// and the newest MaxAlertItems alerts, newest first. Times are kept to the
// second, as the API server stores them, and a firing alert has no endsAt
// (Alertmanager sends a firing alert's expected end, which is not a
// resolution), so a repeat notification summarises exactly as the stored one
// and Decide writes nothing. Alerts with a status other than firing or
// resolved, which ParseMessage refuses, are left out.
//
// The items' JSON stays within maxItemsBytes: past it the oldest items lose
// their labels, and if that is not enough (it is with the bounds above) the
// oldest items are left out. Either way the items kept are the newest, so a
// list with fewer items than firing plus resolved is cut to its newest, as
// at MaxAlertItems, which judgeFiring relies on. Truncated still counts
// only what Alertmanager left out, the alerts no count includes.
func Summarise(msg *Message) klaxonv1alpha1.AlertsSummary {
	return summarise(msg, maxItemsBytes)
}

// summarise is Summarise with the items' JSON within budget bytes.
func summarise(msg *Message, budget int) klaxonv1alpha1.AlertsSummary {
	s := klaxonv1alpha1.AlertsSummary{Truncated: clampInt32(msg.TruncatedAlerts)}
	items := make([]klaxonv1alpha1.AlertItem, 0, len(msg.Alerts))
	for _, a := range msg.Alerts {
		switch a.Status {
		case StatusFiring:
			s.Firing = addOne(s.Firing)
		case StatusResolved:
			s.Resolved = addOne(s.Resolved)
		default:
			continue
		}
		items = append(items, alertItem(a))
	}
	sortItems(items)
	if len(items) > MaxAlertItems {
		items = items[:MaxAlertItems]
	}
	items = withinBudget(items, budget)
	if len(items) > 0 {
		s.Items = items
	}
	return s
}

func alertItem(a Alert) klaxonv1alpha1.AlertItem {
	item := klaxonv1alpha1.AlertItem{
		Fingerprint: bounded.Prefix(a.Fingerprint, maxFingerprintLength),
		Status:      a.Status,
		StartsAt:    storedTime(a.StartsAt),
	}
	if a.Status == StatusResolved {
		item.EndsAt = storedTime(a.EndsAt)
	}
	if len(a.Labels) > 0 {
		item.Labels = make(map[string]string, min(len(a.Labels), maxItemLabels))
		for i, p := range a.Labels.SortedPairs() {
			if i == maxItemLabels {
				break
			}
			name := bounded.Runes(p.Name, maxLabelNameLength)
			if _, ok := item.Labels[name]; ok {
				continue // two names cut alike: the first in order stays
			}
			item.Labels[name] = bounded.Runes(p.Value, maxLabelValueLength)
		}
	}
	return item
}

// withinBudget cuts items, sorted newest first, until their JSON takes at
// most budget bytes: it drops the labels of the oldest items first, then
// the oldest items.
func withinBudget(items []klaxonv1alpha1.AlertItem, budget int) []klaxonv1alpha1.AlertItem {
	sizes := make([]int, len(items))
	total := 2 // the brackets
	for i := range items {
		sizes[i] = itemBytes(items[i])
		total += sizes[i]
	}
	for i := len(items) - 1; i >= 0 && total > budget; i-- {
		if len(items[i].Labels) == 0 {
			continue
		}
		items[i].Labels = nil
		size := itemBytes(items[i])
		total += size - sizes[i]
		sizes[i] = size
	}
	for len(items) > 0 && total > budget {
		total -= sizes[len(items)-1]
		items = items[:len(items)-1]
	}
	return items
}

// itemBytes is the size of item in a JSON list, with its comma.
func itemBytes(item klaxonv1alpha1.AlertItem) int {
	b, err := json.Marshal(item)
	if err != nil { // cannot happen for strings and times
		return math.MaxInt32
	}
	return len(b) + 1
}

// storedTime is t as the API server will return it: UTC, whole seconds; nil
// for the zero time, which Alertmanager sends for "not set".
func storedTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t.UTC().Truncate(time.Second)}
}

// sortItems orders items newest first, with a total order behind StartsAt so
// the same alerts give the same list (and the same 50 survive the cap)
// whatever order Alertmanager sent them in.
func sortItems(items []klaxonv1alpha1.AlertItem) {
	slices.SortStableFunc(items, compareItems)
}

func compareItems(a, b klaxonv1alpha1.AlertItem) int {
	if c := compareTimes(b.StartsAt, a.StartsAt); c != 0 { // newest first
		return c
	}
	if c := strings.Compare(a.Fingerprint, b.Fingerprint); c != 0 {
		return c
	}
	if c := strings.Compare(a.Status, b.Status); c != 0 {
		return c
	}
	if c := compareTimes(a.EndsAt, b.EndsAt); c != 0 {
		return c
	}
	return strings.Compare(KV(a.Labels).String(), KV(b.Labels).String())
}

// compareTimes orders nil before any time.
func compareTimes(a, b *metav1.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(b.Time)
}

// sameSummary reports whether the stored status.alerts already says what
// the desired summary says, ignoring item order and the difference between
// absent and empty. A nil stored summary equals an empty desired one.
func sameSummary(stored *klaxonv1alpha1.AlertsSummary, desired klaxonv1alpha1.AlertsSummary) bool {
	if stored == nil {
		stored = &klaxonv1alpha1.AlertsSummary{}
	}
	if stored.Firing != desired.Firing || stored.Resolved != desired.Resolved ||
		stored.Truncated != desired.Truncated || len(stored.Items) != len(desired.Items) {
		return false
	}
	a := slices.Clone(stored.Items)
	b := slices.Clone(desired.Items)
	sortItems(a)
	sortItems(b)
	for i := range a {
		if !sameItem(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameItem(a, b klaxonv1alpha1.AlertItem) bool {
	if a.Fingerprint != b.Fingerprint || a.Status != b.Status ||
		compareTimes(a.StartsAt, b.StartsAt) != 0 || compareTimes(a.EndsAt, b.EndsAt) != 0 ||
		len(a.Labels) != len(b.Labels) {
		return false
	}
	for k, v := range a.Labels {
		if w, ok := b.Labels[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func clampInt32(n uint64) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(n)
}

func addOne(n int32) int32 {
	if n == math.MaxInt32 {
		return n
	}
	return n + 1
}
