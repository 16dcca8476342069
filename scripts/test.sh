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

step "fuzz (${FUZZEXECS:=50000} inputs per target)"
# The budget is a count of inputs, not a duration: with a duration, Go 1.26's
# fuzz coordinator can report its own deadline as a failure ("context deadline
# exceeded", no crasher; golang/go#75804, fixed in Go 1.27). 50,000 inputs take
# 2-14 s per target on 2 cores. Minimization of new inputs is bounded, so that
# it ends within the run.
fuzzlog=$(mktemp)
trap 'rm -f "$fuzzlog"' EXIT
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "-- $pkg $target"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZEXECS}x" -fuzzminimizetime 1s "$pkg" >"$fuzzlog" 2>&1; then
      grep -v '^fuzz: elapsed' "$fuzzlog" >&2
      exit 1
    fi
  done
done

step "all tests passed"
