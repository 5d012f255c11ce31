// Package proc runs the real binaries Klaxon's end-to-end, fault and bench
// suites drive as separate processes: the operator binary (built as `make
// build` builds it) and Alertmanager, single or clustered. It also picks
// free loopback addresses. Nothing here needs a *testing.T, so the bench, a
// main package, uses it as the tests do.
package proc
