// Package opsgenie imports Opsgenie schedules, overrides, escalations and
// users through Opsgenie's REST API v2.
package opsgenie

import (
	"net/http"

	"github.com/klaxon-dev/klaxon/internal/importer"
)

// Provider is Opsgenie as the import command knows it. Accounts in the EU
// give --url https://api.eu.opsgenie.com/v2.
var Provider = importer.Provider{
	Name:       sourceName,
	Title:      sourceTitle,
	DefaultURL: "https://api.opsgenie.com/v2",
	TokenEnv:   "OPSGENIE_API_KEY",
	Authorize: func(req *http.Request, token string) {
		req.Header.Set("Authorization", "GenieKey "+token)
	},
	Import: Import,
}

// sourceName is the tool's name on the command line and in the
// annotations of what it imports; sourceTitle is how people write it.
const (
	sourceName  = "opsgenie"
	sourceTitle = "Opsgenie"
)
