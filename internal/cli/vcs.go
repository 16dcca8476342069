package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herdhq/herd/internal/api/admin"
)

func newVCCmd(stdio IO) *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "vc",
		Short: "Manage the virtual clusters of the jobs API and the Spark master of each (admins)",
		Long: `A virtual cluster scopes jobs, resources, credentials and runs, and sends its
runs to one Spark master: local[*] or a standalone master spark://host:port.
Its jobs API is /dex/api/v1 on a host whose first DNS label is the cluster's
id, as in CDE (http://etl.cde.example.com:7180/dex/api/v1 for "etl"); any
other host reaches the default cluster.`,
	}
	cf.register(cmd)

	list := &cobra.Command{
		Use:   "list",
		Short: "List virtual clusters",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			vcs, err := c.ListVirtualClusters(cmd.Context())
			if err != nil {
				return err
			}
			return printVCs(cmd, cf.output, vcs...)
		},
	}

	var name, master string
	create := &cobra.Command{
		Use:   "create ID",
		Short: "Create a virtual cluster",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			vc, err := c.CreateVirtualCluster(cmd.Context(), admin.CreateVirtualClusterRequest{ID: args[0], Name: name, SparkMaster: master})
			if err != nil {
				return err
			}
			return printVCs(cmd, cf.output, vc)
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the id)")
	create.Flags().StringVar(&master, "spark-master", "local[*]", "where its runs go: local[*], local[N] or spark://host:port")

	var newName, newMaster string
	set := &cobra.Command{
		Use:   "set ID",
		Short: "Rename a virtual cluster or point its new runs at another master",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req admin.UpdateVirtualClusterRequest
			if cmd.Flags().Changed("name") {
				req.Name = &newName
			}
			if cmd.Flags().Changed("spark-master") {
				req.SparkMaster = &newMaster
			}
			if req.Name == nil && req.SparkMaster == nil {
				return usageError{fmt.Errorf("nothing to change: give --name or --spark-master")}
			}
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			vc, err := c.UpdateVirtualCluster(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return printVCs(cmd, cf.output, vc)
		},
	}
	set.Flags().StringVar(&newName, "name", "", "new display name")
	set.Flags().StringVar(&newMaster, "spark-master", "", "new master: local[*], local[N] or spark://host:port")

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an empty virtual cluster (its ended runs go with it)",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd, stdio)
			if err != nil {
				return err
			}
			if err := c.DeleteVirtualCluster(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "virtual cluster %s deleted\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, set, del)
	return cmd
}

func printVCs(cmd *cobra.Command, format string, vcs ...admin.VirtualCluster) error {
	if format == "json" {
		if len(vcs) == 1 && cmd.Name() != "list" {
			return printJSON(cmd.OutOrStdout(), vcs[0])
		}
		return printJSON(cmd.OutOrStdout(), vcs)
	}
	rows := make([][]string, len(vcs))
	for i, vc := range vcs {
		rows[i] = []string{vc.ID, vc.Name, vc.SparkMaster, vc.CreatedAt}
	}
	return printTable(cmd.OutOrStdout(), []string{"ID", "NAME", "SPARK MASTER", "CREATED"}, rows)
}
