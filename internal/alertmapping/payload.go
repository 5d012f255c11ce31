package alertmapping

import (
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// The webhook payload is Alertmanager's own: notify/webhook.Message around
// template.Data, so title templates written for Alertmanager's notifications
// work unchanged.
type (
	// Message is the body of one webhook notification.
	Message = webhook.Message
	// Alert is one alert of the group.
	Alert = template.Alert
	// KV is a set of labels or annotations.
	KV = template.KV
)

// Group and alert statuses of the payload.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

const alertnameLabel = "alertname"
