// Package targets works out an incident's response-target deadlines from
// its escalation policy's targets for its severity and its persisted
// status, and whether each is pending, missed or met. It is pure: the time
// comes in as an argument, so every deadline is derived from status and the
// caller requeues at the next one.
package targets
