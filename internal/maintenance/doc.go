// Package maintenance decides when a MaintenanceWindow applies and what it
// does to an incident's paging. It is pure: no clock, no Kubernetes client.
// Recurring windows are read with the on-call restriction code
// (oncall.Recurrence), so they follow DST exactly as schedule restrictions
// do.
package maintenance
