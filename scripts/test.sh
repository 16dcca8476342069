#!/usr/bin/env bash
# The whole test suite: format, vet, lint, module tidiness, every Go test
# with the race detector (including the end-to-end and client-compatibility
# tests), and a short run of every fuzz target. Run through `make test`,
# which runs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))
if [ -n "$unformatted" ]; then
  printf 'gofmt would change:\n%s\n' "$unformatted" >&2
  exit 1
fi

step "go mod tidy"
go mod tidy -diff

step "go vet"
go vet ./...

step "golangci-lint"
.tools/bin/golangci-lint run ./...

step "go test -race"
# The compatibility tests drive the real clients installed in .venv.
HERD_COMPAT_BIN="$PWD/.venv/bin" HERD_REQUIRE_COMPAT=1 go test -race -count=1 -timeout 20m ./...

step "fuzz (${FUZZTIME:=10s} per target)"
# Minimization of new inputs is bounded, so that it ends within the run.
fuzzlog=$(mktemp)
trap 'rm -f "$fuzzlog"' EXIT
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "-- $pkg $target"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1s "$pkg" >"$fuzzlog" 2>&1; then
      grep -v '^fuzz: elapsed' "$fuzzlog" >&2
      exit 1
    fi
  done
done

step "all tests passed"
