package opsgenie

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// Action is what a request asks of an alert.
type Action string

// The actions of the Alert API that Klaxon serves, named by their path.
const (
	// ActionCreate: POST v2/alerts.
	ActionCreate Action = "create"
	// ActionClose: POST v2/alerts/{identifier}/close.
	ActionClose Action = "close"
	// ActionAcknowledge: POST v2/alerts/{identifier}/acknowledge.
	ActionAcknowledge Action = "acknowledge"
	// ActionAddNote: POST v2/alerts/{identifier}/notes.
	ActionAddNote Action = "notes"
	// ActionUpdateMessage: PUT v2/alerts/{identifier}/message.
	ActionUpdateMessage Action = "message"
	// ActionUpdateDescription: PUT v2/alerts/{identifier}/description.
	ActionUpdateDescription Action = "description"
)

// Identifier types of the identifierType query parameter.
const (
	IdentifierID    = "id"
	IdentifierAlias = "alias"
	IdentifierTiny  = "tiny"
)

// MaxAliasLength is Opsgenie's bound of an alias, in characters
// (https://docs.opsgenie.com/docs/alert-api, Create Alert).
const MaxAliasLength = 512

// Target is the alert and action a request's path and query name.
type Target struct {
	Action Action
	// Alias is the alert's alias: the identifier of the path, for every
	// action but create (whose alias is in the body).
	Alias string
}

// alertActions are the actions on one alert, with the methods Opsgenie
// documents for them. Updates of the message and the description are PUT
// in Opsgenie's API (and Alertmanager's notifier sends them so); POST is
// taken as well, for tools that POST every action.
var alertActions = map[string]struct {
	action  Action
	methods []string
}{
	"close":       {ActionClose, []string{http.MethodPost}},
	"acknowledge": {ActionAcknowledge, []string{http.MethodPost}},
	"notes":       {ActionAddNote, []string{http.MethodPost}},
	"message":     {ActionUpdateMessage, []string{http.MethodPut, http.MethodPost}},
	"description": {ActionUpdateDescription, []string{http.MethodPut, http.MethodPost}},
}

// ParseTarget reads the path below the route (escapedPath, still
// URL-escaped, such as "v2/alerts/my%2Falias/close") and the query of a
// request made with method.
//
// An identifier of type alias or id (Opsgenie's default when
// identifierType is absent) is taken as the alert's alias: Klaxon has no
// alert ids of its own. Opsgenie's tiny ids are refused (422), as is any
// other identifierType.
func ParseTarget(method, escapedPath string, query url.Values) (Target, *Error) {
	segments := strings.Split(escapedPath, "/")
	if len(segments) < 2 || segments[0] != "v2" || segments[1] != "alerts" {
		return Target{}, notFound(escapedPath)
	}
	switch len(segments) {
	case 2:
		if method != http.MethodPost {
			return Target{}, notAllowed(method, http.MethodPost)
		}
		return Target{Action: ActionCreate}, nil
	case 4:
	default:
		return Target{}, notFound(escapedPath)
	}
	act, ok := alertActions[segments[3]]
	if !ok {
		return Target{}, notFound(escapedPath)
	}
	if !slices.Contains(act.methods, method) {
		return Target{}, notAllowed(method, strings.Join(act.methods, ", "))
	}
	identifier, err := url.PathUnescape(segments[2])
	if err != nil || identifier == "" {
		return Target{}, notFound(escapedPath)
	}
	if e := checkIdentifier(identifier, query); e != nil {
		return Target{}, e
	}
	return Target{Action: act.action, Alias: identifier}, nil
}

func checkIdentifier(identifier string, query url.Values) *Error {
	kinds := query["identifierType"]
	if len(kinds) > 1 {
		return unprocessable("identifierType", "should be given once")
	}
	kind := IdentifierID
	if len(kinds) == 1 {
		kind = kinds[0]
	}
	switch kind {
	case IdentifierID, IdentifierAlias:
	case IdentifierTiny:
		return &Error{Status: http.StatusUnprocessableEntity,
			Message: "Klaxon keeps no tiny ids: identify the alert by its alias (identifierType=alias)",
			Errors:  map[string]string{"identifierType": "should be one of [ id, alias ]"}}
	default:
		return &Error{Status: http.StatusUnprocessableEntity,
			Message: fmt.Sprintf("identifierType %q is not valid: use alias (or id, which Klaxon reads as the alias)", bounded.Runes(kind, 32)),
			Errors:  map[string]string{"identifierType": "should be one of [ id, alias ]"}}
	}
	if n := utf8.RuneCountInString(identifier); n > MaxAliasLength {
		return unprocessable("identifier", fmt.Sprintf("should be at most %d characters; it has %d", MaxAliasLength, n))
	}
	if !utf8.ValidString(identifier) {
		return unprocessable("identifier", "should be valid UTF-8")
	}
	return nil
}

func notFound(path string) *Error {
	return &Error{Status: http.StatusNotFound,
		Message: fmt.Sprintf("no Alert API endpoint at %q: Klaxon serves v2/alerts and v2/alerts/{identifier}/close, acknowledge, notes, message and description", bounded.Runes(path, 128))}
}

func notAllowed(method, allow string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Allow: allow,
		Message: fmt.Sprintf("method %s is not allowed here: use %s", bounded.Runes(method, 16), allow)}
}

// Key returns the API key of an Authorization header
// ("GenieKey <key>", https://docs.opsgenie.com/docs/authentication),
// without surrounding whitespace.
func Key(header string) ([]byte, bool) {
	scheme, key, found := strings.Cut(header, " ")
	key = strings.TrimSpace(key)
	if !found || !strings.EqualFold(scheme, "GenieKey") || key == "" {
		return nil, false
	}
	return []byte(key), true
}
