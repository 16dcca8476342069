package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herdhq/herd/internal/api/admin"
)

func newUserCmd(stdio IO) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage users (admin) and your own password",
	}
	cf.register(cmd)

	var role string
	var fromStdin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a user",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			pw, err := newPassword(stdio, fromStdin)
			if err != nil {
				return err
			}
			u, err := c.CreateUser(cmd.Context(), admin.CreateUserRequest{Name: args[0], Password: pw, Role: role})
			if err != nil {
				return err
			}
			return printUsers(cmd, cf.output, u)
		},
	}
	add.Flags().StringVar(&role, "role", "user", "role: admin, user or read-only")
	add.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the new user's password from the first line of stdin")

	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			users, err := c.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			return printUsers(cmd, cf.output, users...)
		},
	}

	var passwdStdin bool
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Change a user's password (your own, or anyone's as an admin)",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			pw, err := newPassword(stdio, passwdStdin)
			if err != nil {
				return err
			}
			req := admin.UpdateUserRequest{Password: &pw}
			if args[0] == cf.username {
				req.CurrentPassword, _ = cf.loginPassword(stdio)
			}
			if _, err := c.UpdateUser(cmd.Context(), args[0], req); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed\n", args[0])
			return nil
		},
	}
	passwd.Flags().BoolVar(&passwdStdin, "password-stdin", false, "read the new password from the first line of stdin")

	setRole := &cobra.Command{
		Use:   "set-role NAME ROLE",
		Short: "Change a user's role (admin, user or read-only)",
		Args:  usage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			u, err := c.UpdateUser(cmd.Context(), args[0], admin.UpdateUserRequest{Role: &args[1]})
			if err != nil {
				return err
			}
			return printUsers(cmd, cf.output, u)
		},
	}

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user with their access keys and sessions",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			if err := c.DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s deleted\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(add, list, passwd, setRole, del)
	return cmd
}

func printUsers(cmd *cobra.Command, format string, users ...admin.User) error {
	if format == "json" {
		if len(users) == 1 && cmd.Name() != "list" {
			return printJSON(cmd.OutOrStdout(), users[0])
		}
		return printJSON(cmd.OutOrStdout(), users)
	}
	rows := make([][]string, len(users))
	for i, u := range users {
		rows[i] = []string{u.Name, u.Role, u.CreatedAt, u.PasswordChangedAt}
	}
	return printTable(cmd.OutOrStdout(), []string{"NAME", "ROLE", "CREATED", "PASSWORD CHANGED"}, rows)
}

func newWhoamiCmd(stdio IO) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the server takes you for",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			w, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if cf.output == "json" {
				return printJSON(cmd.OutOrStdout(), w)
			}
			return printTable(cmd.OutOrStdout(), []string{"USER", "ROLE", "AUTH METHOD", "CRN"}, [][]string{{w.User, w.Role, w.Method, w.CRN}})
		},
	}
	cf.register(cmd)
	return cmd
}
