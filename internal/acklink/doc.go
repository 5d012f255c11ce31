// Package acklink makes and checks the signed, expiring tokens of acknowledge
// links: a page carries a link that lets the paged responder acknowledge the
// incident's current episode without logging in. It holds no Kubernetes
// client; package keystore keeps the key in a Secret.
package acklink
