// Package statuspage builds what a StatusPage shows from the incidents of
// its namespace: which incidents it selects, the view (open incidents
// first, then those resolved in the last seven days), and that view as an
// HTML page and an Atom feed. It is pure: the receiver reads the objects
// from the cache and the clock, and calls it per request.
//
// Only what stakeholders may see leaves this package: titles, severities,
// services, impact, stakeholder updates and times. Never the people paged,
// the commander, update authors, labels or alerts.
package statuspage
