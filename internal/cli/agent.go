package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/herdhq/herd/internal/agent"
)

// agentEnvPrefix starts the environment variables of the agent's flags:
// --data-dir is HERD_AGENT_DATA_DIR.
const agentEnvPrefix = "HERD_AGENT_"

func newAgentCmd(stdio IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the Herd host agent",
		Long: `Run the host agent: register this machine with a Herd server, report what
runs on it, and start, stop and supervise the role processes the server
assigns to it.

Every flag can also be set with an environment variable (--data-dir is
HERD_AGENT_DATA_DIR); flags win. The host token (--token, HERD_AGENT_TOKEN)
is needed for the first start only: the agent keeps the identity the server
gives it in <data-dir>/agent.json.

SIGINT or SIGTERM stops the agent; the role processes keep running, and the
next agent started on the same data directory takes them over.`,
		Args: usage(cobra.NoArgs),
	}
	f := cmd.Flags()
	f.String("server", "", "URL of the Herd server (required)")
	f.String("token", "", "host token to register with (from 'herd host token create'); needed on the first start only")
	f.String("address", "", "IP address the host's roles bind to (required)")
	f.String("hostname", "", "host name to report (default: the machine's)")
	f.String("data-dir", "./herd-agent", "directory for the agent's identity, role configurations and logs")
	f.String("hadoop-home", "", "Hadoop installation roles use (default: found by discovery)")
	f.String("spark-home", "", "Spark installation roles use (default: the pyspark package of --spark-venv, else SPARK_HOME)")
	f.String("spark-venv", ".venv", "Python virtual environment holding the pyspark package")
	f.String("log-level", "info", "log level: debug, info, warn or error")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		get := func(name string) string {
			v, _ := f.GetString(name)
			if !f.Changed(name) {
				env := agentEnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
				if e := stdio.getenv(env); e != "" {
					v = e
				}
			}
			return v
		}
		level := get("log-level")
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", level)}
		}
		cfg := agent.Config{
			ServerURL:  get("server"),
			Token:      get("token"),
			Address:    get("address"),
			Hostname:   get("hostname"),
			DataDir:    get("data-dir"),
			HadoopHome: get("hadoop-home"),
			SparkHome:  get("spark-home"),
			SparkVenv:  get("spark-venv"),
			Logger:     newLogger(stdio.Err, level, "text"),
			Version:    Version,
		}
		switch {
		case cfg.ServerURL == "":
			return usageError{errors.New("--server (or HERD_AGENT_SERVER) is required")}
		case cfg.Address == "":
			return usageError{errors.New("--address (or HERD_AGENT_ADDRESS) is required")}
		}
		a, err := agent.New(cfg)
		if err != nil {
			return err
		}
		return a.Run(cmd.Context())
	}
	return cmd
}
