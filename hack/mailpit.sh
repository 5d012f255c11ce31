#!/usr/bin/env bash
# Installs a pinned mailpit, a real SMTP server with an HTTP API, with
# `go install` into a cache outside the clone, keyed by version, and prints
# its directory. The mail sender's tests deliver to it. Later runs reuse the
# cache.
set -euo pipefail

MAILPIT_VERSION=${MAILPIT_VERSION:-v1.27.11}
CACHE_ROOT=${KLAXON_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/klaxon}
DIR="$CACHE_ROOT/mailpit/$MAILPIT_VERSION"

if [[ ! -x $DIR/mailpit ]]; then
  echo "mailpit: installing $MAILPIT_VERSION" >&2
  mkdir -p "$DIR"
  # Outside any module, so the project's go.mod does not steer the build.
  (cd "$DIR" && GOFLAGS=-mod=mod GOBIN="$DIR" go install \
    "github.com/axllent/mailpit@$MAILPIT_VERSION")
fi
echo "$DIR"
