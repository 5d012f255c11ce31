// Package suite holds what Klaxon's envtest suites share: the check that
// the control plane and tools `make test` provides are there (a plain `go
// test ./...` skips without them, CI fails), the test logger, a running
// operator, a namespace per test, and polling until something holds.
package suite
