// Package metrics holds Klaxon's Prometheus collectors, registered with
// controller-runtime's registry so the manager's metrics endpoint serves them.
package metrics
