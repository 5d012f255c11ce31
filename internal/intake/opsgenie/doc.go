// Package opsgenie maps requests of the Opsgenie Alert API v2
// (https://docs.opsgenie.com/docs/alert-api) to the notifications every
// intake hands the receiver (alertmapping.Notification), and writes the
// answers Opsgenie gives, so Alertmanager's opsgenie_configs and any tool
// that speaks the Alert API work with only their URL and key changed.
//
// It has no Kubernetes client: ParseTarget reads the path and query,
// Parse the body, and Accepted and Error the answer bodies. The receiver
// authenticates, applies and answers (internal/receiver/opsgenie.go).
//
// An alert is identified by its alias, as Opsgenie deduplicates by alias:
// the alias names the group (alertmapping.GroupKeyFor). Klaxon has no alert
// ids of its own, so an identifier of type id (Opsgenie's default) is read
// as an alias too; a create without alias takes its message as alias.
package opsgenie
