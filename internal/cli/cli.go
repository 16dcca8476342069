package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// Version is the herd version, set at build time with
// -ldflags "-X github.com/herdhq/herd/internal/cli.Version=...".
var Version = "dev"

// IO are the streams and environment a command runs with.
type IO struct {
	In      io.Reader
	Out     io.Writer
	Err     io.Writer
	Environ []string
	// IsTerminal reports whether In is an interactive terminal (for prompts).
	IsTerminal func() bool
	// ReadPassword reads a password from the terminal without echo.
	ReadPassword func() ([]byte, error)
}

// getenv looks a variable up in Environ; the last entry wins, as in exec.
func (s IO) getenv(name string) string {
	v := ""
	for _, kv := range s.Environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// Run executes the herd command line args and returns the exit code.
func Run(ctx context.Context, args []string, stdio IO) int {
	root := newRoot(stdio)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stdio.Err, "herd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

// usage turns a cobra argument check's error into a usage error (exit 2).
func usage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func newRoot(stdio IO) *cobra.Command {
	root := &cobra.Command{
		Use:           "herd",
		Short:         "Herd: a control plane for Hadoop and Spark platforms",
		Long:          "Herd runs a data platform on your own machines, behind APIs compatible with Cloudera Manager,\nCloudera Data Engineering and KakaoCloud Hadoop Eco.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q; see herd --help", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.AddCommand(
		newServerCmd(stdio),
		newAgentCmd(stdio),
		newUserCmd(stdio),
		newAccessKeyCmd(stdio),
		newHostCmd(stdio),
		newVCCmd(stdio),
		newWhoamiCmd(stdio),
		&cobra.Command{
			Use:   "version",
			Short: "Print the herd version",
			Args:  usage(cobra.NoArgs),
			Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "herd", Version) },
		},
	)
	return root
}

// newLogger returns the logger of the server command.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // validated with the config
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
