package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/klaxon-dev/klaxon/internal/alertmapping"
	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Bounds of what an event keeps, so a 512 KB event makes a small
// notification whatever it carries.
const (
	// maxLabelLength cuts label values to what status.alerts keeps of one.
	maxLabelLength = 256
	// maxFieldLength cuts the short free-text fields kept as annotations.
	maxFieldLength = 1024
	// maxURLLength is the longest client_url kept; longer ones would be
	// cut into broken links, and spec.source.externalURL takes 2048.
	maxURLLength = 2048
	// maxDetailsBytes bounds the JSON of custom_details; maxListBytes that
	// of links and of images.
	maxDetailsBytes = 4096
	maxListBytes    = 2048
	// maxListItems is how many links and images are kept.
	maxListItems = 16
	// maxDescriptionLength bounds the description annotation (the
	// incident's spec.description).
	maxDescriptionLength = 4096
)

// Label and annotation names of a mapped event (the severity label is the
// route's spec.severity.label).
const (
	labelAlertname = "alertname"
	labelDedupKey  = "dedup_key"
	labelSource    = "source"
	labelComponent = "component"
	labelGroup     = "group"
	labelClass     = "class"

	annotationDescription   = "description"
	annotationCustomDetails = "custom_details"
	annotationLinks         = "links"
	annotationImages        = "images"
	annotationClient        = "client"
	annotationClientURL     = "client_url"
	annotationTimestamp     = "timestamp"
)

// Notification maps a checked alert event onto its group's notification,
// with the event's severity in the label severityLabel (the route's
// spec.severity.label), so the route's severity map reads it as it reads
// Alertmanager's label:
//
//   - one alert named by its dedup_key (alertmapping.SingleAlert): the group
//     key is GroupKeyFor(pagerduty, dedup_key), the fingerprint
//     FingerprintOf(dedup_key);
//   - trigger is a firing group, resolve a resolved one (whose labels the
//     receiver replaces with those the incident stored: PagerDuty reads
//     nothing of a resolve but its key), acknowledge a KindAcknowledge
//     carrying only the group key;
//   - labels: alertname (the summary), dedup_key, source, component, group,
//     class (each cut to 256 characters) and the severity label;
//   - annotations: description (the fields in readable lines, which becomes
//     the incident's description), custom_details, links and images (bounded
//     JSON), client, client_url and timestamp.
//
// The summary is the alertname rather than a summary annotation: the
// default title, alertname then ": " and the summary annotation, would
// otherwise say it twice. The alert has no times (Timeless): the receiver
// settles them against the stored incident.
func (e *Event) Notification(severityLabel string) alertmapping.Notification {
	if e.Action == ActionAcknowledge {
		return alertmapping.AcknowledgeOf(alertmapping.IntakePagerDuty, e.DedupKey)
	}
	status := alertmapping.StatusFiring
	if e.Action == ActionResolve {
		status = alertmapping.StatusResolved
	}

	labels := alertmapping.KV{labelDedupKey: e.DedupKey}
	put := func(kv alertmapping.KV, name, value string, n int) {
		if !blank(value) {
			kv[name] = bounded.Runes(value, n)
		}
	}
	p := e.Payload
	put(labels, labelAlertname, alertmapping.OneLine(p.Summary), MaxSummaryLength)
	put(labels, labelSource, p.Source, maxLabelLength)
	put(labels, labelComponent, p.Component, maxLabelLength)
	put(labels, labelGroup, p.Group, maxLabelLength)
	put(labels, labelClass, p.Class, maxLabelLength)
	// Last, so the route's severity label is the severity whatever its name.
	put(labels, severityLabel, p.Severity, maxLabelLength)

	annotations := alertmapping.KV{}
	put(annotations, annotationDescription, e.description(), maxDescriptionLength)
	put(annotations, annotationCustomDetails, compactJSON(p.CustomDetails, maxDetailsBytes), maxDetailsBytes)
	put(annotations, annotationLinks, listJSON(usableLinks(e.Links), maxListBytes), maxListBytes)
	put(annotations, annotationImages, listJSON(usableImages(e.Images), maxListBytes), maxListBytes)
	put(annotations, annotationClient, e.Client, maxFieldLength)
	put(annotations, annotationTimestamp, p.Timestamp, 64)
	var externalURL string
	if len(e.ClientURL) <= maxURLLength {
		externalURL = e.ClientURL
		put(annotations, annotationClientURL, e.ClientURL, maxURLLength)
	}

	n := alertmapping.SingleAlert(alertmapping.IntakePagerDuty, e.DedupKey, status, labels, annotations)
	n.ExternalURL = externalURL
	n.Alerts[0].GeneratorURL = externalURL
	return n
}

// description is the event's fields as readable lines.
func (e *Event) description() string {
	var b strings.Builder
	line := func(name, value string) {
		if !blank(value) {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "%s: %s", name, value)
		}
	}
	p := e.Payload
	line("Summary", p.Summary)
	line("Source", p.Source)
	line("Component", p.Component)
	line("Group", p.Group)
	line("Class", p.Class)
	line("Severity", p.Severity)
	line("Client", strings.TrimSpace(e.Client+" "+e.ClientURL))
	line("Details", compactJSON(p.CustomDetails, maxDetailsBytes))
	for _, l := range usableLinks(e.Links) {
		line("Link", linkText(l))
	}
	for _, im := range usableImages(e.Images) {
		line("Image", strings.TrimSpace(im.Alt+" "+im.Src))
	}
	return b.String()
}

// compactJSON is raw as compact JSON cut to n bytes (ending in
// bounded.Marker when cut), "" for no value or null.
func compactJSON(raw json.RawMessage, n int) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil || b.String() == "null" {
		return ""
	}
	return bounded.Bytes(b.String(), n)
}

// listJSON is the JSON of links or images cut to n bytes (ending in
// bounded.Marker when cut), "" for none.
func listJSON[T any](items []T, n int) string {
	if len(items) == 0 {
		return ""
	}
	b, err := json.Marshal(items)
	if err != nil {
		return ""
	}
	return bounded.Bytes(string(b), n)
}

// usableLinks are the first maxListItems links with an href; as
// Alertmanager does before sending, entries without one are left out.
func usableLinks(links []Link) []Link {
	var out []Link
	for _, l := range links {
		if len(out) == maxListItems {
			break
		}
		if !blank(l.Href) {
			out = append(out, Link{Href: bounded.Runes(l.Href, maxURLLength), Text: bounded.Runes(l.Text, maxLabelLength)})
		}
	}
	return out
}

// usableImages are the first maxListItems images with a src.
func usableImages(images []Image) []Image {
	var out []Image
	for _, im := range images {
		if len(out) == maxListItems {
			break
		}
		if !blank(im.Src) {
			out = append(out, Image{Src: bounded.Runes(im.Src, maxURLLength), Href: bounded.Runes(im.Href, maxURLLength), Alt: bounded.Runes(im.Alt, maxLabelLength)})
		}
	}
	return out
}

func linkText(l Link) string {
	return strings.TrimSpace(l.Text + " " + l.Href)
}
