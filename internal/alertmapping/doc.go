// Package alertmapping turns Alertmanager webhook notifications into incident
// changes: it parses and checks the payload, compiles an AlertRoute into
// matchers and a title template, names and builds the incident of an alert
// group, summarises the group's alerts, and decides what one notification
// should do to the group's latest incident.
//
// It is pure: no Kubernetes client, no clock, no I/O. The receiver fetches
// the route and the group's incidents, asks Decide, and writes at most one
// spec patch and one status patch.
package alertmapping
