package alertmapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// PayloadVersion is the version of Alertmanager's webhook payload.
const PayloadVersion = "4"

// maxGroupKeyLength is the bound of spec.source.groupKey on Incident.
const maxGroupKeyLength = 4096

// ParseMessage decodes and checks a webhook body. Unknown fields are ignored,
// so newer Alertmanagers that add fields keep working; anything Klaxon cannot
// act on safely is refused with an error saying what to fix, which the
// receiver answers with 400.
func ParseMessage(body []byte) (*Message, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("the request body is empty: send an Alertmanager webhook payload (version 4)")
	}
	// Data is a pointer in Alertmanager's type: allocate it, so a payload
	// without any of its fields still yields a usable (and refused) message.
	msg := &Message{Data: &template.Data{}}
	if err := json.Unmarshal(body, msg); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return nil, fmt.Errorf("the request body is not valid JSON (at byte %d): %w", syntaxErr.Offset, err)
		}
		return nil, fmt.Errorf("the request body is not an Alertmanager webhook payload: %w", err)
	}
	if err := validateMessage(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

func validateMessage(msg *Message) error {
	switch msg.Version {
	case PayloadVersion:
	case "":
		return fmt.Errorf("the payload has no version: Klaxon accepts Alertmanager webhook payload version %q", PayloadVersion)
	default:
		return fmt.Errorf("the payload has version %q: Klaxon accepts Alertmanager webhook payload version %q only", clip(msg.Version, 32), PayloadVersion)
	}
	return validateGroup(msg)
}

// validateGroup checks what every webhook version must say of its group:
// a bounded group key, a known status, and alert statuses consistent with
// it.
func validateGroup(msg *Message) error {
	if msg.GroupKey == "" {
		return errors.New("the payload has no groupKey: Klaxon needs it to tell alert groups apart")
	}
	if n := utf8.RuneCountInString(msg.GroupKey); n > maxGroupKeyLength {
		return fmt.Errorf("the payload's groupKey is %d characters long; Klaxon accepts at most %d", n, maxGroupKeyLength)
	}
	if msg.Status != StatusFiring && msg.Status != StatusResolved {
		return fmt.Errorf("the payload has status %q: want %q or %q", clip(msg.Status, 32), StatusFiring, StatusResolved)
	}
	for i, a := range msg.Alerts {
		switch a.Status {
		case StatusFiring:
			if msg.Status == StatusResolved {
				return fmt.Errorf("the payload's status is resolved but alerts[%d] (fingerprint %q) is firing: a group is resolved only when all its alerts are", i, clip(a.Fingerprint, 64))
			}
		case StatusResolved:
		default:
			return fmt.Errorf("alerts[%d] (fingerprint %q) has status %q: want %q or %q", i, clip(a.Fingerprint, 64), clip(a.Status, 32), StatusFiring, StatusResolved)
		}
	}
	return nil
}

// clip shortens s for quoting in an error message.
func clip(s string, n int) string {
	return bounded.Runes(s, n)
}

// ParseWebhook decodes a webhook body sent to the Alertmanager path into
// the notification it carries: Alertmanager's payload (version "4") or
// Grafana-managed alerting's (version "1", see ParseGrafana).
func ParseWebhook(body []byte) (Notification, error) {
	// Only the version is decoded first: skipping the rest allocates
	// nothing. A body that is not JSON, or whose version is not a string,
	// gets ParseMessage's errors.
	var head struct {
		Version string `json:"version"`
	}
	if len(bytes.TrimSpace(body)) != 0 && json.Unmarshal(body, &head) == nil {
		switch head.Version {
		case GrafanaPayloadVersion:
			msg, err := ParseGrafana(body)
			if err != nil {
				return Notification{}, err
			}
			return Notification{Message: msg, Intake: IntakeGrafana, Kind: KindAlerts}, nil
		case PayloadVersion:
		default:
			return Notification{}, versionError(head.Version)
		}
	}
	msg, err := ParseMessage(body)
	if err != nil {
		return Notification{}, err
	}
	return Notification{Message: msg, Intake: IntakeAlertmanager, Kind: KindAlerts}, nil
}

// versionError says which payload versions the webhook path takes.
func versionError(version string) error {
	if version == "" {
		return fmt.Errorf("the payload has no version: Klaxon accepts Alertmanager webhook payload version %q and Grafana's version %q", PayloadVersion, GrafanaPayloadVersion)
	}
	return fmt.Errorf("the payload has version %q: Klaxon accepts Alertmanager webhook payload version %q and Grafana's version %q", clip(version, 32), PayloadVersion, GrafanaPayloadVersion)
}
