package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"

	"github.com/klaxon-dev/klaxon/internal/bounded"
	"github.com/klaxon-dev/klaxon/internal/egress"
	"github.com/klaxon-dev/klaxon/internal/notify"
)

// refusedSettings are settings of a receiver block that would let its
// author choose what the operator sends or where it connects beyond the
// URL the egress policy checks, by their YAML name, wherever they appear.
var refusedSettings = map[string]string{
	"http_headers":           "it sets arbitrary request headers, such as a cloud metadata service's Metadata-Flavor",
	"proxy_url":              "a proxy would connect on the operator's behalf, past its egress checks",
	"no_proxy":               "a proxy would connect on the operator's behalf, past its egress checks",
	"proxy_from_environment": "a proxy would connect on the operator's behalf, past its egress checks",
	"proxy_connect_header":   "it sets arbitrary proxy headers",
	"email_configs": "Alertmanager's email notifier connects to its smarthost past the operator's egress checks; " +
		"use a NotificationChannel with spec.email instead",
}

// refuseSetting says why a set field is refused, as a load error naming it.
func refuseSetting(name, path string, v reflect.Value) error {
	why, ok := refusedSettings[name]
	if !ok || v.IsZero() {
		return nil
	}
	return fmt.Errorf("%s is refused: %s", path, why)
}

// noRedirects makes an HTTP client configuration never follow a redirect,
// whatever follow_redirects said: a redirect is the other end choosing
// where the operator connects next, and a redirected POST becomes a GET
// whose answer a notifier may quote.
func noRedirects(v reflect.Value) {
	if v.Type() == httpClientConfigType && v.CanSet() {
		v.FieldByName("FollowRedirects").SetBool(false)
	}
}

// guardedDial is the dial of every notifier's connection: only where the
// policy allows.
func guardedDial(p *egress.Policy) *egress.Dialer {
	return &egress.Dialer{Policy: p, Timeout: notify.SendTimeout}
}

// statusCodePattern finds the HTTP status in Alertmanager's notifier
// errors ("unexpected status code 403: <body>") and the Telegram client's
// ("telegram: <description> (400)").
var statusCodePattern = regexp.MustCompile(`status code (\d{3})|^telegram: .*\((\d{3})\)$`)

// maxDetailBytes bounds a notifier's own error text kept for the log.
const maxDetailBytes = 1024

// quietNotifierError words a notifier's failure for the status: the HTTP
// status, the egress refusal, or Klaxon's words alone. Notifiers quote the
// answer's body (a Slack notifier a whole non-JSON answer), which stays in
// the log detail (notify.LogDetail), with the block's secrets cut out.
func quietNotifierError(err error, secrets []string) error {
	detail := bounded.Bytes(redact(err.Error(), secrets), maxDetailBytes)
	var (
		refused *egress.RefusedError
		connect *egress.ConnectError
	)
	switch {
	case errors.As(err, &refused):
		return notify.Quiet(refused.Error(), detail, err)
	case errors.As(err, &connect):
		return notify.Quiet(connect.Error(), detail, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return notify.Quiet("did not finish in time", detail, err)
	case errors.Is(err, errResponseTooLarge):
		return notify.Quiet(errResponseTooLarge.Error(), detail, err)
	}
	var panicked *panicError
	if errors.As(err, &panicked) {
		return notify.Quiet(bounded.Bytes(panicked.Error(), maxDetailBytes), "", err)
	}
	if m := statusCodePattern.FindStringSubmatch(err.Error()); m != nil {
		status := m[1] + m[2]
		code, _ := strconv.Atoi(status)
		msg := "answered HTTP " + status
		if text := http.StatusText(code); text != "" {
			msg += " " + text
		}
		return notify.Quiet(msg, detail, err)
	}
	return notify.Quiet("the notifier failed; the operator's log at debug level has its error", detail, err)
}

// panicError is a notifier's panic, in Klaxon's words.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("the notifier panicked: %v", e.value) }
