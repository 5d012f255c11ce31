// Package controller holds Klaxon's reconcilers. Each is a thin shell: it
// reads objects, asks the pure domain packages what should change, and writes
// status once per reconcile, only when it changed.
package controller
