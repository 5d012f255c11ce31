// Package silence works out the Alertmanager silence Klaxon keeps for an
// acknowledged incident: which alerts it matches, what it says, and when it
// is extended and the group polled. It calls nothing; the controller does.
package silence

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
)

const (
	// CreatedBy is the silence's createdBy.
	CreatedBy = "klaxon"
	// PollEvery is how often Klaxon asks Alertmanager whether a silenced
	// group still has alerts: silenced alerts send no resolved notification.
	PollEvery = 30 * time.Second
	// CallTimeout bounds one call to Alertmanager.
	CallTimeout = 10 * time.Second
	// maxMatchers bounds the matchers of one silence.
	maxMatchers = 64
)

// Matcher is one matcher of a silence: an equality on a group label, or a
// matcher of the Alertmanager route that grouped the alerts.
type Matcher struct {
	Name, Value string
	// Type is how Value is compared; the zero value is an equality.
	Type labels.MatchType
}

// String is the matcher in Alertmanager's syntax, such as team="payments".
func (m Matcher) String() string {
	lm := labels.Matcher{Type: m.Type, Name: m.Name, Value: m.Value}
	return lm.String()
}

// LabelMatchers are ms as Alertmanager's matchers.
func LabelMatchers(ms []Matcher) labels.Matchers {
	out := make(labels.Matchers, len(ms))
	for i, m := range ms {
		out[i] = &labels.Matcher{Type: m.Type, Name: m.Name, Value: m.Value}
	}
	return out
}

// Filter renders matchers as the filter of Alertmanager's alert API.
func Filter(ms []Matcher) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// ErrNoMatchers is why a group cannot be silenced: it has no labels to
// match, and a silence without matchers would silence everything.
var ErrNoMatchers = errors.New("the alert group has no labels to match")

// Matchers returns the matchers of the silence for an incident's group: its
// group labels, taken from Alertmanager's group key, and the matchers of
// the Alertmanager route that made the group, also in the key. Group labels
// alone would silence the alerts of every route that groups by the same
// labels (group_by: [alertname] shares alertname with every team); every
// alert of this group matches the route's matchers as well, and few others
// do. A group without group labels (Alertmanager's group_by: []) falls back
// to the labels every one of its stored alerts shares, which needs every
// alert stored (none truncated away).
func Matchers(groupKey string, alerts *klaxonv1alpha1.AlertsSummary) ([]Matcher, error) {
	routeKey, group, err := splitGroupKey(groupKey)
	if err != nil {
		return nil, err
	}
	route, err := routeMatchers(routeKey)
	if err != nil {
		return nil, err
	}
	if len(group) == 0 {
		if alerts == nil || len(alerts.Items) == 0 || alerts.Truncated > 0 {
			return nil, fmt.Errorf("%w: the group key has no group labels and the incident does not hold all of its alerts", ErrNoMatchers)
		}
		group = commonLabels(alerts.Items)
		if len(group) == 0 {
			return nil, fmt.Errorf("%w: the group key has no group labels and its alerts share none", ErrNoMatchers)
		}
	}
	if n := len(group) + len(route); n > maxMatchers {
		return nil, fmt.Errorf("the alert group and its route have %d matchers, more than the %d a silence may have", n, maxMatchers)
	}
	out := make([]Matcher, 0, len(group)+len(route))
	for _, name := range slices.Sorted(maps.Keys(group)) {
		out = append(out, Matcher{Name: name, Value: group[name]})
	}
	for _, m := range route {
		if m.Type == labels.MatchEqual && group[m.Name] == m.Value {
			// The group label says it already.
			continue
		}
		out = append(out, Matcher{Name: m.Name, Value: m.Value, Type: m.Type})
	}
	return out, nil
}

// commonLabels is the labels all items have with the same value.
func commonLabels(items []klaxonv1alpha1.AlertItem) map[string]string {
	common := maps.Clone(items[0].Labels)
	for _, it := range items[1:] {
		for k, v := range common {
			if w, ok := it.Labels[k]; !ok || w != v {
				delete(common, k)
			}
		}
	}
	return common
}

// GroupLabels parses the group labels out of an Alertmanager group key,
// which is the route's key, a colon and the group labels, as in
// {}/{severity="critical"}:{alertname="X", team="payments"}. The route's key
// may hold colons and braces inside its matchers' quoted values, so the
// group labels are the first suffix after "}:" that parses as a whole as
// label equalities.
func GroupLabels(groupKey string) (map[string]string, error) {
	_, group, err := splitGroupKey(groupKey)
	return group, err
}

// splitGroupKey splits a group key into the route's key and the group
// labels (see GroupLabels).
func splitGroupKey(groupKey string) (routeKey string, group map[string]string, err error) {
	for i := 0; i < len(groupKey); {
		j := strings.Index(groupKey[i:], "}:{")
		if j < 0 {
			break
		}
		suffix := groupKey[i+j+2:]
		if set, ok := parseLabelSet(suffix); ok {
			return groupKey[:i+j+1], set, nil
		}
		i += j + 1
	}
	return "", nil, fmt.Errorf("cannot find the group labels in the group key %q", clip(groupKey, 200))
}

// parseLabelSet parses {a="b", c="d"} (a model.LabelSet's String), every
// matcher an equality.
func parseLabelSet(s string) (map[string]string, bool) {
	if s == "{}" {
		return map[string]string{}, true
	}
	ms, err := labels.ParseMatchers(s)
	if err != nil || len(ms) == 0 {
		return nil, false
	}
	set := make(map[string]string, len(ms))
	for _, m := range ms {
		if m.Type != labels.MatchEqual {
			return nil, false
		}
		if _, dup := set[m.Name]; dup {
			return nil, false
		}
		set[m.Name] = m.Value
	}
	return set, true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Comment is the silence's comment: which incident, acknowledged by whom.
func Comment(namespace, name, acknowledgedBy, title string) string {
	who := acknowledgedBy
	if who == "" {
		who = "someone"
	}
	c := fmt.Sprintf("%sacknowledged by %s", CommentPrefix(namespace, name), who)
	if title != "" {
		c += ": " + title
	}
	return clip(c, 1000)
}

// CommentPrefix begins the comment of every silence Klaxon makes for an
// incident, so Klaxon can recognise its own silence.
func CommentPrefix(namespace, name string) string {
	return fmt.Sprintf("Klaxon incident %s/%s ", namespace, name)
}

// ExtendAt is when a silence ending at expiresAt is extended: halfway
// through its last silenceFor.
func ExtendAt(expiresAt time.Time, silenceFor time.Duration) time.Time {
	return expiresAt.Add(-silenceFor / 2)
}

// DueForExtension tells whether a silence ending at expiresAt should be
// extended at now.
func DueForExtension(now, expiresAt time.Time, silenceFor time.Duration) bool {
	return !now.Before(ExtendAt(expiresAt, silenceFor))
}

// NextCheck is how long until the controller looks at a silence again: the
// next poll of the group, or the extension if sooner (never less than a
// second).
func NextCheck(now, expiresAt time.Time, silenceFor time.Duration) time.Duration {
	d := min(PollEvery, ExtendAt(expiresAt, silenceFor).Sub(now))
	return max(d, time.Second)
}
