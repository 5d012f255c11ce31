// Package importer turns what another incident tool knows (schedules,
// overrides, escalation policies, people and alert sources) into Klaxon
// objects for git, reports what it could not carry over exactly, and
// proves the schedules it wrote: Verify compares who they put on call with
// the source tool's own final schedule.
//
// It has no Kubernetes client. A source (pagerduty, grafanaoncall,
// opsgenie) reads its tool's API through a Source, which is either the
// API itself over HTTP or a directory of its saved answers, and returns a
// Result; Write puts the Result's objects into a directory, WriteReport
// prints what became of each source object.
package importer
