// Package receiver serves Alertmanager's webhook: it authenticates each
// notification against its AlertRoute, maps it with internal/alertmapping and
// writes the incident change, answering only once the write is stored.
package receiver
