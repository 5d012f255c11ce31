#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (default 20s).
# Their seed corpora also run as plain tests in `make test`.
set -euo pipefail
fuzztime=${1:-20s}
cd "$(dirname "$0")/.."
status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target ($fuzztime)"
    # No minimizing: shrinking each new input of a kilobyte answer byte by
    # byte takes the whole short run; a failing input is saved as it is.
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime=0 "$pkg" || status=1
  done
done
exit $status
