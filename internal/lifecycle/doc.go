// Package lifecycle holds the incident lifecycle rules: which moves between
// states are allowed, and how accepting a move changes an incident's status
// (phase, per-episode timestamps, conditions and timeline). It has no
// Kubernetes client; the Incident reconciler calls it.
package lifecycle
