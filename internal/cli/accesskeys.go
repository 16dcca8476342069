package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herdhq/herd/internal/api/iam"
	"github.com/herdhq/herd/internal/auth"
)

func newAccessKeyCmd(stdio IO) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "accesskey",
		Aliases: []string{"access-key"},
		Short:   "Manage access keys (CDP request signing, Hadoop Eco Credential-ID/Secret)",
	}
	cf.register(cmd)

	var owner string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an access key; its private key is shown only this once",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			out, err := c.CreateAccessKey(cmd.Context(), owner)
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "access key id: %s\nprivate key:   %s\n", out.AccessKey.AccessKeyID, out.PrivateKey)
			fmt.Fprintln(stdio.Err, "Keep the private key now: the server keeps only a hash and cannot show it again.")
			return nil
		},
	}
	create.Flags().StringVar(&owner, "owner", "", "user to create the key for (admins; default: yourself)")

	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List access keys",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			keys, err := c.ListAccessKeys(cmd.Context(), owner, all)
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), keys)
			}
			rows := make([][]string, len(keys))
			for i, k := range keys {
				last := "never"
				if k.LastUsage != nil {
					last = k.LastUsage.LastUsageDate + " (" + k.LastUsage.ServiceName + ")"
				}
				rows[i] = []string{k.AccessKeyID, k.ActorCRN, k.Status, k.CreationDate, last}
			}
			return printTable(cmd.OutOrStdout(), []string{"ACCESS KEY ID", "OWNER", "STATUS", "CREATED", "LAST USED"}, rows)
		},
	}
	list.Flags().StringVar(&owner, "owner", "", "list another user's keys (admins)")
	list.Flags().BoolVar(&all, "all", false, "list every user's keys (admins)")

	status := func(use, short, st string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  usage(cobra.ExactArgs(1)),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := cf.client(cmd, stdio)
				if err != nil {
					return err
				}
				k, err := c.SetAccessKeyStatus(cmd.Context(), args[0], st)
				if err != nil {
					return err
				}
				return printKeyStatus(cmd, k)
			},
		}
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an access key",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			if err := c.DeleteAccessKey(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "access key %s deleted\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list,
		status("deactivate", "Deactivate an access key (it stops authenticating)", auth.KeyInactive),
		status("activate", "Activate an access key again", auth.KeyActive),
		del)
	return cmd
}

func printKeyStatus(cmd *cobra.Command, k iam.AccessKey) error {
	fmt.Fprintf(cmd.OutOrStdout(), "access key %s is %s\n", k.AccessKeyID, k.Status)
	return nil
}
