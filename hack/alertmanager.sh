#!/usr/bin/env bash
# Installs pinned alertmanager and amtool with `go install` into a cache
# outside the clone, keyed by version, and prints their directory. Later runs
# reuse the cache. v0.31.1 is the newest release whose published module
# builds with plain `go install`: later ones embed a web UI build (ui/app/dist)
# that the module proxy does not carry.
set -euo pipefail

ALERTMANAGER_VERSION=${ALERTMANAGER_VERSION:-v0.31.1}
CACHE_ROOT=${KLAXON_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/klaxon}
DIR="$CACHE_ROOT/alertmanager/$ALERTMANAGER_VERSION"

if [[ ! -x $DIR/alertmanager || ! -x $DIR/amtool ]]; then
  echo "alertmanager: installing $ALERTMANAGER_VERSION" >&2
  mkdir -p "$DIR"
  # Outside any module, so the project's go.mod does not steer the build.
  (cd "$DIR" && GOFLAGS=-mod=mod GOBIN="$DIR" go install \
    "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION" \
    "github.com/prometheus/alertmanager/cmd/amtool@$ALERTMANAGER_VERSION")
fi
echo "$DIR"
