// Package egress decides which addresses the operator may connect to on
// behalf of a namespace's objects (notification channels, the Alertmanager
// an AlertRoute names), and dials only those.
//
// A channel's author chooses the URL, so without a guard the operator would
// fetch whatever its own network position reaches: the cloud metadata
// service, its own pod, the API server, loopback services. The Dialer
// resolves the name, checks every address it resolves to, and connects to
// the checked address itself, so a name that resolves differently the
// second time cannot slip through; a control hook checks the address again
// at connect time.
//
// Order of the checks, first match wins:
//
//  1. the deny-list (--egress-deny): refused;
//  2. an allow-list host:port entry naming the host and port dialled: allowed;
//  3. the operator's own addresses (its pod IP, the API server's address
//     and port): refused;
//  4. an allow-list CIDR (--egress-allow) holding the address: allowed;
//  5. built-in refusals (loopback, link-local including cloud metadata,
//     unspecified, multicast, and with DenyPrivate the private ranges): refused;
//  6. anything else: allowed.
//
// So the allow-list wins over the built-in refusals, the deny-list wins over
// everything, and the operator's own addresses are only reachable through a
// host:port allow entry that names them exactly.
package egress
