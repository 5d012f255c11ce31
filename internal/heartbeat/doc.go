// Package heartbeat is the pure logic of Heartbeats (dead man's switches):
// when a heartbeat is overdue, from its persisted timestamps; how often the
// receiver records a beat; which alerts of a notification are beats; and the
// incident an overdue heartbeat opens. It reads API types and the time it is
// given, and calls nothing.
package heartbeat
