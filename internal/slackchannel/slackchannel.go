// Package slackchannel decides what an incident's own Slack channel is
// called, what its topic says and what is posted there, from the incident
// alone. It calls nobody: the controller does what it decides.
package slackchannel

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	klaxonv1alpha1 "github.com/klaxon-dev/klaxon/api/v1alpha1"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

const (
	// maxNameChars is Slack's limit of a channel's name.
	maxNameChars = 80
	// MaxAttempts bounds the names tried for one incident when each is
	// taken: the incident's name, then with -2, -3, ...
	MaxAttempts = 10
	// MaxPostEntries bounds the timeline entries one message posts; the
	// rest wait for the next.
	MaxPostEntries = 20
	// maxPostChars bounds one message, within a Slack section's 3000.
	maxPostChars = 2900
	// maxTopicChars is Slack's limit of a topic.
	maxTopicChars = 250
)

// Name is the channel's name at the attempt-th try (from 1): the prefix,
// a hyphen and the incident's name with its dots made hyphens, cut to
// Slack's 80 characters, and from the second try "-<attempt>".
func Name(prefix, incident string, attempt int) string {
	suffix := ""
	if attempt > 1 {
		suffix = "-" + strconv.Itoa(attempt)
	}
	name := prefix + "-" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '-'
	}, incident)
	// The name is ASCII by now: cutting bytes cuts characters.
	name = name[:min(len(name), maxNameChars-len(suffix))]
	return strings.TrimRight(name, "-_") + suffix
}

// NextName is the name to try once current is taken by a channel the
// incident did not make; false once MaxAttempts names were tried (or
// current is none of them).
func NextName(prefix, incident, current string) (string, bool) {
	for attempt := 1; attempt < MaxAttempts; attempt++ {
		if Name(prefix, incident, attempt) == current {
			return Name(prefix, incident, attempt+1), true
		}
	}
	return "", false
}

// Topic is the channel's topic: severity, phase and commander.
func Topic(inc *klaxonv1alpha1.Incident) string {
	parts := []string{string(inc.Spec.Severity), string(inc.Status.Phase)}
	if c := inc.Status.Commander; c != "" {
		parts = append(parts, "Commander: "+c)
	}
	return bounded.Runes(strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " · "), maxTopicChars)
}

// Wanted reports whether an incident of severity gets a channel from
// channels.
func Wanted(channels *klaxonv1alpha1.SlackIncidentChannels, severity klaxonv1alpha1.Severity) bool {
	return channels != nil && slices.Contains(channels.Severities, severity)
}

// posted reports whether a timeline entry of this type goes to the
// channel: everything but the outcome of each single delivery, which the
// Paged and Escalated entries already sum up.
func posted(entryType string) bool {
	return entryType != klaxonv1alpha1.TimelineNotified && entryType != klaxonv1alpha1.TimelineNotificationFailed
}

// Post is the text of the next message to the channel and how many
// timeline entries are posted once it is sent; "" when nothing is due, or
// (with a count beyond posted) when the entries due are none the channel
// reads.
// posted counts the entries posted before, of all the incident ever had:
// those dropped from the timeline (status.timelineDropped) and those it
// holds. Entries dropped before they were posted are skipped.
func Post(st *klaxonv1alpha1.IncidentStatus, posted int32) (string, int32) {
	start := max(int(posted)-int(st.TimelineDropped), 0)
	if start >= len(st.Timeline) {
		return "", posted
	}
	var b strings.Builder
	end := start
	for _, e := range st.Timeline[start:] {
		if end-start == MaxPostEntries {
			break
		}
		line := Line(&e)
		if line != "" && b.Len() > 0 && b.Len()+len(line)+1 > maxPostChars {
			break
		}
		end++
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	return bounded.Runes(b.String(), maxPostChars), st.TimelineDropped + int32(end) //nolint:gosec // at most 100 entries
}

// Line is one timeline entry as the channel reads it, such as
// "09:12 UTC Acknowledged by ada: Acknowledged from Slack"; "" for an
// entry not posted.
func Line(e *klaxonv1alpha1.TimelineEntry) string {
	if !posted(e.Type) {
		return ""
	}
	line := fmt.Sprintf("%s %s", e.Time.UTC().Format("15:04 UTC"), e.Type)
	if e.Actor != "" {
		line += " by " + e.Actor
	}
	if msg := strings.TrimSpace(e.Message); msg != "" {
		line += ": " + msg
	}
	return bounded.Runes(line, maxPostChars)
}
