// Command herd is Herd's single binary: the server, the host agent and the
// command-line client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/herdhq/herd/internal/cli"
	"github.com/herdhq/herd/internal/runner"
)

func main() {
	runner.MaybeWrapper() // a run's wrapper process: never returns
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Environ: os.Environ(),
		IsTerminal:   func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		ReadPassword: func() ([]byte, error) { return term.ReadPassword(int(os.Stdin.Fd())) },
	})
	stop()
	os.Exit(code)
}
