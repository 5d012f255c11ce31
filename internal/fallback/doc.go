// Package fallback pages through one Alertmanager receiver block, read
// from a mounted file, while the Kubernetes API server cannot be reached:
// then Klaxon cannot record the notifications that arrive, nor page for
// them, and the outage is itself an incident.
//
// Load reads and checks the block (load.go). A Pager (pager.go) probes
// the API server itself, is told by the receiver about the groups it could
// not record (Waiting), and sends one outage message once the API server
// has been unreachable for a while with groups waiting, repeats it at most
// every so often, and says when the API server is back. The decisions are
// pure (tracker.go); the replicas agree on one sender by forwarding what
// they hold to the leader over a signed request (forward.go). Nothing is
// written to the API server.
package fallback
