// Package operator assembles Klaxon's manager: the scheme, the cache, the
// controllers, metrics and health probes. cmd/main.go and the local
// development environment (hack/dev) both build their manager here.
package operator
