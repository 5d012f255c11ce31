// Package docs keeps the documentation true. Its tests check that every
// relative link and anchor of README.md and docs/ resolves, and run the
// README's tour, command by command, with the real kubectl against a local
// control plane and the operator, comparing what each command prints with
// what the README shows.
package docs
