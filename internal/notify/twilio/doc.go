// Package twilio texts and calls phones through Twilio's REST API (or any
// provider that speaks it), and holds what Klaxon's receiver needs to take
// Twilio's callbacks: the signature check, the form parsers, the callback
// URLs and the TwiML answers. It knows nothing of Kubernetes.
package twilio
