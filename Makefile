# Herd. The two commands of the quick start are `make run` and `make test`.
GO ?= go
ARGS ?=

.PHONY: setup run build test bench clean

## setup: install Go modules, the Python venv and pinned tools (quick when done)
setup:
	@scripts/setup.sh

## run: start the server on its embedded defaults (ARGS="--addr :8080" to change)
run: setup build
	exec bin/herd server $(ARGS)

## build: build bin/herd
build:
	$(GO) build -ldflags "-X github.com/herdhq/herd/internal/cli.Version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/herd ./cmd/herd

## test: the whole test suite (lint, unit, end-to-end, client compatibility, fuzz)
test:
	@scripts/setup.sh --test
	@scripts/test.sh

## bench: the benchmarks recorded in docs/benchmarks.md
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./internal/auth/ ./internal/server/

clean:
	rm -rf bin .tools .venv herd-data
