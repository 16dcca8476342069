package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newHostCmd(stdio IO) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Manage the hosts that host agents bring (admins)",
	}
	cf.register(cmd)
	token := &cobra.Command{Use: "token", Short: "Host tokens, which let agents register"}
	var description, ttl string
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue a host token for 'herd agent --token'; it is shown only this once",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			out, err := c.CreateHostToken(cmd.Context(), description, ttl)
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Token)
			if out.ExpiresAt != "" {
				fmt.Fprintln(stdio.Err, "The token expires at", out.ExpiresAt+".")
			}
			return nil
		},
	}
	create.Flags().StringVar(&description, "description", "", "what the token is for")
	create.Flags().StringVar(&ttl, "ttl", "", "how long the token admits new agents, e.g. 24h (default: it never expires)")
	token.AddCommand(create)
	cmd.AddCommand(token)
	return cmd
}
