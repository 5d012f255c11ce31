// Package grafanaoncall imports Grafana OnCall schedules, shifts,
// escalation chains, integrations with their routes and users through
// Grafana OnCall's public API v1.
package grafanaoncall

import (
	"context"
	"errors"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Provider is Grafana OnCall as the import command knows it. It is self
// hosted, or a Grafana Cloud stack's: --url is the API's base, such as
// https://oncall.example.com/api/v1.
var Provider = importer.Provider{
	Name:     "grafana-oncall",
	Title:    "Grafana OnCall",
	TokenEnv: "GRAFANA_ONCALL_TOKEN",
	Authorize: func(req *http.Request, token string) {
		req.Header.Set("Authorization", token)
	},
	Import: Import,
}

// Import reads Grafana OnCall through src and maps what it finds.
func Import(ctx context.Context, src importer.Source, opts importer.Options) (*importer.Result, error) {
	return nil, errors.New("the Grafana OnCall import is being built")
}
