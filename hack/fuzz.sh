#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (default 20s).
# Their seed corpora also run as plain tests in `make test`.
set -euo pipefail
fuzztime=${1:-20s}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# fuzz runs one target, its output shown and kept in $out.
fuzz() {
  # No minimizing: shrinking each new input of a kilobyte answer byte by
  # byte takes the whole short run; a failing input is saved as it is.
  go test -run='^$' -fuzz="^${2}\$" -fuzztime="$fuzztime" -fuzzminimizetime=0 "$1" 2>&1 | tee "$out"
  return "${PIPESTATUS[0]}"
}

# spurious tells a failure of Go's fuzzing coordinator itself from a finding:
# a bare "context deadline exceeded" as -fuzztime ends, with no failing input
# written (go.dev/issue/75804, fixed in Go 1.27; a loaded machine hits it).
spurious() {
  grep -qx '[[:space:]]*context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"
}

status=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target ($fuzztime)"
    if fuzz "$pkg" "$target"; then
      continue
    fi
    if spurious; then
      echo "fuzz: $target stopped on the coordinator's deadline race, with no failing input; running it again"
      fuzz "$pkg" "$target" && continue
    fi
    status=1
  done
done
exit $status
