// Package opsgenie imports Opsgenie schedules, overrides, escalations and
// users through Opsgenie's REST API v2.
package opsgenie

import (
	"context"
	"errors"
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Provider is Opsgenie as the import command knows it. Accounts in the EU
// give --url https://api.eu.opsgenie.com/v2.
var Provider = importer.Provider{
	Name:       "opsgenie",
	Title:      "Opsgenie",
	DefaultURL: "https://api.opsgenie.com/v2",
	TokenEnv:   "OPSGENIE_API_KEY",
	Authorize: func(req *http.Request, token string) {
		req.Header.Set("Authorization", "GenieKey "+token)
	},
	Import: Import,
}

// Import reads Opsgenie through src and maps what it finds.
func Import(ctx context.Context, src importer.Source, opts importer.Options) (*importer.Result, error) {
	return nil, errors.New("the Opsgenie import is being built")
}
