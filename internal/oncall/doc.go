// Package oncall answers who is on call on an OnCallSchedule at a given
// instant (a set of people: groups, Add layers and OnCallOverrides make it
// more than one), and when that answer next changes. It is pure: no clock, no
// Kubernetes client, so the OnCallSchedule controller and the incident
// controller (which resolves who to page before it plans escalation) can
// both rely on it and it can be tested on its own.
package oncall
