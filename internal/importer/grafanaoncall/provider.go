// Package grafanaoncall imports Grafana OnCall schedules, shifts,
// escalation chains, integrations with their routes and users through
// Grafana OnCall's public API v1.
package grafanaoncall

import (
	"context"
	"fmt"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// The tool's name on the command line and as people write it.
const (
	sourceName  = "grafana-oncall"
	sourceTitle = "Grafana OnCall"
)

// Provider is Grafana OnCall as the import command knows it. It is self
// hosted, or a Grafana Cloud stack's: --url is the API's base, such as
// https://oncall.example.com/api/v1.
var Provider = importer.Provider{
	Name:     sourceName,
	Title:    sourceTitle,
	TokenEnv: "GRAFANA_ONCALL_TOKEN",
	Authorize: func(req *http.Request, token string) {
		req.Header.Set("Authorization", token)
	},
	Import: Import,
}

// Import reads Grafana OnCall through src and maps what it finds: users
// first, as schedules and chains name them, then schedules, as chains
// name them, then chains, as routes name them.
func Import(ctx context.Context, src importer.Source, opts importer.Options) (*importer.Result, error) {
	if !opts.Window.To.After(opts.Window.From) {
		return nil, fmt.Errorf("the window's end %s is not after its start %s", opts.Window.To, opts.Window.From)
	}
	r := &run{
		src:       src,
		opts:      opts,
		res:       &importer.Result{Source: sourceName, Title: sourceTitle, Window: opts.Window},
		namer:     importer.NewNamer(),
		people:    map[string]string{},
		schedules: map[string]string{},
		chains:    map[string]string{},
	}
	steps := []struct {
		what string
		run  func(context.Context) error
	}{
		{"users", r.importUsers},
		{"schedules", r.importSchedules},
		{"escalation chains", r.importChains},
		{"integrations", r.importIntegrations},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return nil, fmt.Errorf("importing Grafana OnCall %s: %w", s.what, err)
		}
	}
	return r.res, nil
}

// run holds what an import has read and named so far.
type run struct {
	src   importer.Source
	opts  importer.Options
	res   *importer.Result
	namer *importer.Namer
	// people are the Responder names of Grafana OnCall user ids.
	people map[string]string
	// schedules are the OnCallSchedule names of imported schedule ids.
	schedules map[string]string
	// chains are the EscalationPolicy names of imported chain ids.
	chains map[string]string
}

func (r *run) person(id string) (string, bool) {
	name, ok := r.people[id]
	return name, ok
}
