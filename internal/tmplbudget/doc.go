// Package tmplbudget bounds what a user's Go template may cost. Go cannot
// stop a running template: a loop such as {{range 1000000000}}, a string
// doubled through variables, a printf width of a million per verb or a
// regular expression whose repeats multiply would take the operator's CPU or
// memory. One policy (policy.go) and one measure each of printf formats
// (printf.go) and regular expressions (regexp.go) serve two modes:
//
//   - Metered, where Klaxon runs the template itself (AlertRoute titles):
//     Instrument refuses what cannot be metered and counts every range
//     iteration, and a Meter gives the template functions that charge the
//     text they handle, so a render stops as soon as it is over budget.
//   - Static, where Alertmanager's notifiers run it (receiver blocks of
//     Alertmanager channels): the operator never gets to stop the render,
//     so Static bounds its output and work from the parse tree and the
//     Go types of Alertmanager's template data, and refuses what it cannot
//     bound, before anything runs.
//
// A regular expression is charged its compile cost as well as its matching
// (regexp.go): a few Unicode classes make an expression of one instruction
// that takes milliseconds and megabytes to compile. Alertmanager compiles at
// every call of match and reReplaceAll, so Static charges every call;
// metered renders take compiled expressions from a bounded cache shared by
// all renders (regexpcache.go).
//
// The package is pure: it reads no cluster, and keeps no state beyond a
// render or a check but that cache.
package tmplbudget
