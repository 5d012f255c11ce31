// Package suite holds what Klaxon's envtest suites share: the test logger,
// a running operator, a namespace per test, and polling until something
// holds.
package suite
