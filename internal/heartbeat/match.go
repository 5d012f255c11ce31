package heartbeat

import (
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/klaxon-dev/klaxon/internal/silence"
)

// Matchers are a heartbeat's compiled spec.matchers.
type Matchers labels.Matchers

// CompileMatchers parses spec.matchers; the error names the entry at fault.
func CompileMatchers(specMatchers []string) (Matchers, error) {
	ms, err := silence.ParseMatchers("spec.matchers", specMatchers)
	return Matchers(ms), err
}

// Matches reports whether an alert's labels satisfy every matcher. Empty
// matchers match nothing: a heartbeat without matchers beats by ping only.
func (m Matchers) Matches(kv template.KV) bool {
	if len(m) == 0 {
		return false
	}
	lset := make(model.LabelSet, len(kv))
	for k, v := range kv {
		lset[model.LabelName(k)] = model.LabelValue(v)
	}
	return labels.Matchers(m).Matches(lset)
}

// Candidate is a heartbeat on the notification's route, compiled.
type Candidate struct {
	Name     string
	Matchers Matchers
}

// Classify sorts a notification's alerts against the heartbeats of its
// route. beats are the heartbeats that a firing alert matches. onlyBeats
// is true when every alert of the notification (firing or resolved) matches
// some heartbeat: the notification is about heartbeats alone and opens no
// incident.
func Classify(candidates []Candidate, alerts []template.Alert) (beats []string, onlyBeats bool) {
	if len(candidates) == 0 || len(alerts) == 0 {
		return nil, false
	}
	beat := map[string]bool{}
	onlyBeats = true
	for _, a := range alerts {
		matched := false
		for _, c := range candidates {
			if !c.Matchers.Matches(a.Labels) {
				continue
			}
			matched = true
			if a.Status == "firing" && !beat[c.Name] {
				beat[c.Name] = true
				beats = append(beats, c.Name)
			}
		}
		if !matched {
			onlyBeats = false
		}
	}
	return beats, onlyBeats
}
