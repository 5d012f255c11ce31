// Package escalation decides, from an incident's persisted status and an
// escalation policy, whom to page now and when to look again. It is pure:
// time and who is on call come in as arguments, so that every timer is
// derived from status and a restarted or failed-over operator neither pages
// a level twice nor skips one.
package escalation
