// Package conditions sets the metav1.Conditions of Klaxon's kinds, the one
// way every reconciler and domain package does it: the transition time
// moves only when the status does, the observed generation is the object's,
// and the message is cut to the API's limit.
package conditions
