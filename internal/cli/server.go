package cli

import (
	"github.com/spf13/cobra"

	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/server"
)

func newServerCmd(stdio IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Herd server",
		Long: `Run the Herd control plane: the store, the APIs and the background loops.

Every flag can also be set with an environment variable (--token-ttl is
HERD_TOKEN_TTL) or in a YAML file given with --config (key token-ttl).
Flags win over the environment, which wins over the file. The master key
that seals secrets comes from HERD_MASTER_KEY or <data-dir>/master.key.

On first start with an empty data directory, Herd creates the user admin,
prints its password once and writes it to <data-dir>/initial-admin-password.
SIGINT or SIGTERM stops the server cleanly.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), stdio.Environ)
			if err != nil {
				return usageError{err}
			}
			log := newLogger(stdio.Err, cfg.LogLevel, cfg.LogFormat)
			srv, err := server.New(cmd.Context(), cfg, log, server.Options{Stderr: stdio.Err, Version: Version})
			if err != nil {
				return err
			}
			return srv.Run(cmd.Context())
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}
