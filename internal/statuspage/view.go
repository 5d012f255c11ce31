package statuspage

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"time"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// ResolvedWindow is how long a resolved or closed incident stays on the
// page after it was resolved.
const ResolvedWindow = 7 * 24 * time.Hour

// Bounds of one page: a namespace can hold any number of incidents and
// each of their strings is long, but a page (and its feed) stays small.
const (
	// MaxIncidents is how many incidents a page shows; open ones go first,
	// so only the oldest resolved ones (or, past it, the least severe open
	// ones) are left out, and counted.
	MaxIncidents = 100
	// MaxTitle, MaxService, MaxImpact and MaxUpdate bound, in characters,
	// what the page shows of an incident.
	MaxTitle   = 200
	MaxService = 253
	MaxImpact  = 1024
	MaxUpdate  = 1024
	// MaxPageTitle and MaxDescription bound the page's own texts.
	MaxPageTitle   = 256
	MaxDescription = 1024
)

// View is what a status page shows.
type View struct {
	Title, Description string
	// Path and FeedPath are where the page and its feed are served.
	Path, FeedPath string
	// ID identifies the page in its feed (urn:uuid: of its UID).
	ID string
	// Now is when the view was built.
	Now time.Time
	// Updated is the latest time anything on the page changed: the newest
	// of its incidents' times, or the page's creation when it shows none.
	Updated time.Time
	// Open lists the open incidents, the most severe first and, among
	// equals, the most recent first.
	Open []Item
	// Resolved lists the incidents resolved (or closed) within
	// ResolvedWindow, the most recently resolved first.
	Resolved []Item
	// Omitted counts the incidents left out past MaxIncidents.
	Omitted int
}

// Item is one incident as the page shows it: nothing that names people.
type Item struct {
	// ID identifies the incident in the feed (urn:uuid: of its UID);
	// Anchor is its fragment on the page.
	ID, Anchor string
	Title      string
	Severity   string
	// Status is the public word for the incident's phase: Investigating,
	// Mitigated or Resolved.
	Status  string
	Service string
	Impact  string
	// Update is the latest stakeholder update, if any.
	Update *Update
	// Started is when the current episode was triggered.
	Started time.Time
	// ResolvedAt is when it was resolved (or closed); zero while open.
	ResolvedAt time.Time
	// Duration is how long it has been open, or was open until resolved.
	Duration time.Duration
	// Updated is the newest of Started, the update's time and ResolvedAt.
	Updated time.Time
}

// Update is a stakeholder update, without its author.
type Update struct {
	Text string
	Time time.Time
}

// Open reports whether the item is still open.
func (i Item) Open() bool { return i.ResolvedAt.IsZero() }

// Path returns where the page namespace/name is served.
func Path(namespace, name string) string {
	return "/status/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// Build makes the view of page from incidents, which Select has filtered,
// at now.
func Build(page *klaxonv1alpha1.StatusPage, incidents []klaxonv1alpha1.Incident, now time.Time) View {
	v := View{
		Title:       bounded.Runes(page.Spec.Title, MaxPageTitle),
		Description: bounded.Runes(page.Spec.Description, MaxDescription),
		Path:        Path(page.Namespace, page.Name),
		ID:          "urn:uuid:" + string(page.UID),
		Now:         now,
		Updated:     page.CreationTimestamp.UTC(),
	}
	v.FeedPath = v.Path + "/feed.atom"
	for i := range incidents {
		item, ok := itemOf(&incidents[i], now)
		if !ok {
			continue
		}
		if item.Open() {
			v.Open = append(v.Open, item)
		} else {
			v.Resolved = append(v.Resolved, item)
		}
	}
	slices.SortFunc(v.Open, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.Severity, b.Severity), b.Started.Compare(a.Started), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(v.Resolved, func(a, b Item) int {
		return cmp.Or(b.ResolvedAt.Compare(a.ResolvedAt), cmp.Compare(a.ID, b.ID))
	})
	if n := len(v.Open) + len(v.Resolved); n > MaxIncidents {
		v.Omitted = n - MaxIncidents
		if len(v.Open) > MaxIncidents {
			v.Open = v.Open[:MaxIncidents]
		}
		v.Resolved = v.Resolved[:MaxIncidents-len(v.Open)]
	}
	for _, list := range [][]Item{v.Open, v.Resolved} {
		for _, it := range list {
			if it.Updated.After(v.Updated) {
				v.Updated = it.Updated
			}
		}
	}
	return v
}

// itemOf is how the page shows inc at now; false when the page does not
// show it: resolved longer than ResolvedWindow ago, or resolved at a time
// the status does not record.
func itemOf(inc *klaxonv1alpha1.Incident, now time.Time) (Item, bool) {
	started := inc.CreationTimestamp.UTC()
	if t := inc.Status.TriggeredAt; t != nil {
		started = t.UTC()
	}
	it := Item{
		ID:       "urn:uuid:" + string(inc.UID),
		Anchor:   "incident-" + string(inc.UID),
		Title:    bounded.Runes(inc.Spec.Title, MaxTitle),
		Severity: string(cmp.Or(inc.Spec.Severity, klaxonv1alpha1.SeverityModerate)),
		Service:  bounded.Runes(inc.Spec.Service, MaxService),
		Impact:   bounded.Runes(inc.Spec.Impact, MaxImpact),
		Started:  started,
		Updated:  started,
	}
	if n := len(inc.Spec.Updates); n > 0 {
		u := inc.Spec.Updates[n-1]
		it.Update = &Update{Text: bounded.Runes(u.Message, MaxUpdate), Time: u.Time.UTC()}
		if it.Update.Time.After(it.Updated) {
			it.Updated = it.Update.Time
		}
	}
	switch phase := inc.Status.Phase; phase {
	case klaxonv1alpha1.StateResolved, klaxonv1alpha1.StateClosed:
		resolved := inc.Status.ResolvedAt
		if resolved == nil {
			resolved = inc.Status.ClosedAt
		}
		if resolved == nil || now.Sub(resolved.Time) > ResolvedWindow {
			return Item{}, false
		}
		it.Status = "Resolved"
		it.ResolvedAt = resolved.UTC()
		it.Duration = it.ResolvedAt.Sub(started)
		if it.ResolvedAt.After(it.Updated) {
			it.Updated = it.ResolvedAt
		}
	case klaxonv1alpha1.StateMitigated:
		it.Status = "Mitigated"
		it.Duration = now.Sub(started)
	default:
		it.Status = "Investigating"
		it.Duration = now.Sub(started)
	}
	it.Duration = max(it.Duration, 0)
	return it, true
}

// Human says d the way a reader does: "under a minute", "45m", "2h 5m",
// "3d 4h".
func Human(d time.Duration) string {
	d = d.Truncate(time.Minute)
	days, hours, minutes := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case d < time.Minute:
		return "under a minute"
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, minutes)
	}
	return fmt.Sprintf("%dm", minutes)
}
