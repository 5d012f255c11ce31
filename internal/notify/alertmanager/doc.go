// Package alertmanager delivers pages through the integrations of one
// Alertmanager receiver block (Microsoft Teams, Telegram, PagerDuty, ...),
// with Alertmanager's own configuration loader and notifiers.
//
// A block is written by a channel's author and run inside the operator, so
// New loads it (load.go), inspects it by reflection (inspect.go): no
// setting may read the operator's files or use its cloud identity, and
// every template string must pass tmplbudget's static check; the sender
// turns a page into the one alert Alertmanager's notifiers send (send.go),
// and cuts secrets out of every error and bounds it for a status
// (errors.go).
package alertmanager
