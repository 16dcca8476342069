#!/usr/bin/env bash
# Installs what `make run` and `make test` need into the project: Go
# modules, a Python venv (.venv) with the real clients the compatibility
# tests drive, and pinned Go tools (.tools/bin). Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# Go: the version go.mod asks for (the go command fetches a newer toolchain itself if allowed).
command -v go >/dev/null || fail "Go is not installed. Install Go 1.26 or newer from https://go.dev/dl/ and run again."
need_go=$(awk '/^go /{print $2}' go.mod)
have_go=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1)" != "$need_go" ]; then
  fail "Go $need_go or newer is needed, this machine has $have_go. Install it from https://go.dev/dl/."
fi

# Python 3.9+ with venv, for the client compatibility tests.
command -v python3 >/dev/null || fail "python3 is not installed. Install Python 3.9 or newer (apt install python3 python3-venv)."
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
  fail "Python 3.9 or newer is needed, this machine has $(python3 --version 2>&1)."
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv || fail "could not create a venv; install the venv module (apt install python3-venv)."
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages of requirements-dev.txt into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt ||
    fail "pip could not install requirements-dev.txt (is PyPI reachable?)"
  echo "$want" > "$stamp"
fi

# Go modules and pinned tools.
go mod download || fail "could not download Go modules (is the Go module proxy reachable?)"
golangci_version=v2.15.0
if [ "$(.tools/bin/golangci-lint version --short 2>/dev/null)" != "${golangci_version#v}" ]; then
  echo "setup: building golangci-lint $golangci_version into .tools/bin (about a minute, once)"
  GOBIN="$PWD/.tools/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version" ||
    fail "could not build golangci-lint"
fi
