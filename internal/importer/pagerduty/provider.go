// Package pagerduty imports PagerDuty schedules, overrides, escalation
// policies and users through PagerDuty's REST API v2.
package pagerduty

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Provider is PagerDuty as the import command knows it.
var Provider = importer.Provider{
	Name:       sourceName,
	Title:      sourceTitle,
	DefaultURL: "https://api.pagerduty.com",
	TokenEnv:   "PAGERDUTY_TOKEN",
	Authorize: func(req *http.Request, token string) {
		req.Header.Set("Authorization", "Token token="+token)
		req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	},
	Import: Import,
}

// The Klaxon kinds the import names objects of.
const (
	kindSchedule  = "OnCallSchedule"
	kindPolicy    = "EscalationPolicy"
	kindResponder = "Responder"
)

// The tool's name on the command line and in annotations, and as people
// write it.
const (
	sourceName  = "pagerduty"
	sourceTitle = "PagerDuty"
)

// maxEntryNotes bounds the notes kept of one entry: the table shows 20 of
// them, the JSON report all, and a source object with thousands of faults
// must not make a report of millions of lines.
const maxEntryNotes = 100

// Import reads PagerDuty through src and maps what it finds: users into
// Responders, schedules with their overrides into OnCallSchedules, and
// escalation policies into EscalationPolicies, with PagerDuty's final
// schedule of each over opts.Window to verify against.
func Import(ctx context.Context, src importer.Source, opts importer.Options) (*importer.Result, error) {
	acc, err := readAccount(ctx, src, opts.Window)
	if err != nil {
		return nil, err
	}
	m := newMapper(acc, opts.Window)
	for i := range acc.users {
		m.mapUser(&acc.users[i])
	}
	for i := range acc.schedules {
		s := &acc.schedules[i]
		m.mapSchedule(s, acc.overrides[s.ID])
	}
	for i := range acc.policies {
		m.mapPolicy(&acc.policies[i])
	}
	return m.result, nil
}

// mapper holds what mapping one account needs: names given, users known.
type mapper struct {
	result *importer.Result
	window importer.Window
	names  *importer.Namer
	// nameNotes are the Namer's notes, by kind/id.
	nameNotes map[string]string
	// users are the account's users that are not deleted, by id.
	users map[string]*user
	// missingNames are the names of users referred to but not among the
	// account's users (or deleted), by id.
	missingNames map[string]string
	// schedules are the ids of the schedules listed.
	schedules map[string]bool
}

// newMapper names every object up front, each kind in the order of its
// ids, so that names are stable from one import to the next whatever the
// API's order.
func newMapper(acc *account, w importer.Window) *mapper {
	m := &mapper{
		result:       &importer.Result{Source: sourceName, Title: sourceTitle, Window: w},
		window:       w,
		names:        importer.NewNamer(),
		nameNotes:    map[string]string{},
		users:        map[string]*user{},
		missingNames: map[string]string{},
		schedules:    map[string]bool{},
	}
	type named struct{ id, name string }
	give := func(kind string, list []named) {
		slices.SortStableFunc(list, func(a, b named) int { return strings.Compare(a.id, b.id) })
		for _, n := range list {
			if _, ok := m.names.Lookup(kind, n.id); ok {
				continue
			}
			if _, note := m.names.Name(kind, n.id, n.name); note != "" {
				m.nameNotes[kind+"/"+n.id] = importer.Clip(note, importer.MaxNote)
			}
		}
	}
	var people []named
	for i := range acc.users {
		u := &acc.users[i]
		if u.DeletedAt == nil {
			m.users[u.ID] = u
			people = append(people, named{u.ID, displayName(u)})
		}
	}
	give(kindResponder, people)
	// People referred to but deleted get names after the others, so
	// that no Responder's name depends on them.
	var missing []named
	for _, ref := range references(acc) {
		if m.missing(ref) {
			if _, seen := m.missingNames[ref.ID]; !seen {
				m.missingNames[ref.ID] = ref.Summary
				n := ref.Summary
				if n == "" {
					n = "user-" + ref.ID
				}
				missing = append(missing, named{ref.ID, n})
			}
		}
	}
	give(kindResponder, missing)
	var schedules []named
	for i := range acc.schedules {
		s := &acc.schedules[i]
		m.schedules[s.ID] = true
		schedules = append(schedules, named{s.ID, s.Name})
	}
	give(kindSchedule, schedules)
	var policies []named
	for i := range acc.policies {
		p := &acc.policies[i]
		policies = append(policies, named{p.ID, p.Name})
	}
	give(kindPolicy, policies)
	return m
}

// references returns every user reference of the account's schedules,
// overrides and escalation policies.
func references(acc *account) []reference {
	var out []reference
	for i := range acc.schedules {
		s := &acc.schedules[i]
		if len(s.ScheduleLayers) <= maxSourceLayers {
			for j := range s.ScheduleLayers {
				for _, u := range s.ScheduleLayers[j].Users {
					out = append(out, u.User)
				}
			}
		}
		for _, o := range acc.overrides[s.ID] {
			out = append(out, o.User)
		}
		if s.FinalSchedule != nil {
			for _, e := range s.FinalSchedule.RenderedScheduleEntries {
				if e.User != nil {
					out = append(out, *e.User)
				}
			}
		}
	}
	for i := range acc.policies {
		for _, r := range acc.policies[i].EscalationRules {
			for _, t := range r.Targets {
				if t.Type == "user_reference" || t.Type == "user" {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// missing says whether ref names a user who is not among the account's
// users, or is deleted.
func (m *mapper) missing(ref reference) bool {
	if ref.ID == "" {
		return false
	}
	_, ok := m.users[ref.ID]
	return !ok || ref.DeletedAt != nil
}

// userName returns the Klaxon name of the user ref names.
func (m *mapper) userName(ref reference) string {
	if name, ok := m.names.Lookup(kindResponder, ref.ID); ok {
		return name
	}
	// Only references that newMapper did not see get here.
	name, _ := m.names.Name(kindResponder, ref.ID, ref.Summary)
	if _, ok := m.users[ref.ID]; !ok {
		m.missingNames[ref.ID] = ref.Summary
	}
	return name
}

// railsZones are the Rails time zone names PagerDuty may answer with, for
// the zones teams most often use.
var railsZones = map[string]string{
	"Eastern Time (US & Canada)":  "America/New_York",
	"Central Time (US & Canada)":  "America/Chicago",
	"Mountain Time (US & Canada)": "America/Denver",
	"Pacific Time (US & Canada)":  "America/Los_Angeles",
	"Alaska":                      "America/Juneau",
	"Hawaii":                      "Pacific/Honolulu",
	"Arizona":                     "America/Phoenix",
	"London":                      "Europe/London",
	"Dublin":                      "Europe/Dublin",
	"Lisbon":                      "Europe/Lisbon",
	"Amsterdam":                   "Europe/Amsterdam",
	"Berlin":                      "Europe/Berlin",
	"Paris":                       "Europe/Paris",
	"Madrid":                      "Europe/Madrid",
	"Rome":                        "Europe/Rome",
	"Stockholm":                   "Europe/Stockholm",
	"Warsaw":                      "Europe/Warsaw",
	"Zurich":                      "Europe/Zurich",
	"Helsinki":                    "Europe/Helsinki",
	"Kyiv":                        "Europe/Kiev",
	"Istanbul":                    "Europe/Istanbul",
	"Moscow":                      "Europe/Moscow",
	"New Delhi":                   "Asia/Kolkata",
	"Mumbai":                      "Asia/Kolkata",
	"Chennai":                     "Asia/Kolkata",
	"Singapore":                   "Asia/Singapore",
	"Hong Kong":                   "Asia/Hong_Kong",
	"Beijing":                     "Asia/Shanghai",
	"Tokyo":                       "Asia/Tokyo",
	"Seoul":                       "Asia/Seoul",
	"Sydney":                      "Australia/Sydney",
	"Melbourne":                   "Australia/Melbourne",
	"Auckland":                    "Pacific/Auckland",
	"Brasilia":                    "America/Sao_Paulo",
	"UTC":                         "UTC",
	"Etc/UTC":                     "UTC",
}

// add records obj and its entry, its notes bounded.
func (m *mapper) add(obj client.Object, e importer.Entry) {
	e.Notes = capNotes(e.Notes)
	m.result.Add(obj, e)
}

// report records the entry of an object not written, its notes bounded.
func (m *mapper) report(e importer.Entry) {
	e.Notes = capNotes(e.Notes)
	m.result.Report(e)
}

// capNotes keeps the first maxEntryNotes notes and says how many more
// there were.
func capNotes(notes []string) []string {
	if len(notes) <= maxEntryNotes {
		return notes
	}
	return append(notes[:maxEntryNotes-1:maxEntryNotes-1], fmt.Sprintf("and %d more notes like these", len(notes)-(maxEntryNotes-1)))
}
