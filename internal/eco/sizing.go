package eco

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/herdhq/herd/internal/hostprovider"
	"github.com/herdhq/herd/internal/inventory"
)

// Role sizes derived from a flavor: daemon heaps get 1/64 of the VM's
// memory within [256 MiB, 2 GiB] (daemons need little; a VM's memory is
// for the work), Spark workers offer the VM's cores and half its memory
// to executors.
const (
	minHeap = 256 << 20
	maxHeap = 2 << 30
)

func daemonHeap(f hostprovider.Flavor) int64 {
	return min(max(f.MemoryBytes/64, minHeap), maxHeap)
}

// sizeRoles sets the role config groups' sizes from the flavors of the
// masters and the workers.
func (s *Service) sizeRoles(ctx context.Context, c Cluster) error {
	master, worker := s.cfg.Flavors[c.Spec.Master.FlavorName], s.cfg.Flavors[c.Spec.Worker.FlavorName]
	str := func(v int64) *string { t := strconv.FormatInt(v, 10); return &t }
	groups := []struct {
		service, group string
		updates        []inventory.ConfigUpdate
	}{
		{hdfsService, hdfsService + "-NAMENODE-BASE", []inventory.ConfigUpdate{{Name: "namenode_java_heapsize", Value: str(daemonHeap(master))}}},
		{hdfsService, hdfsService + "-DATANODE-BASE", []inventory.ConfigUpdate{{Name: "datanode_java_heapsize", Value: str(daemonHeap(worker))}}},
		{sparkService, sparkService + "-MASTER-BASE", []inventory.ConfigUpdate{{Name: "master_max_heapsize", Value: str(daemonHeap(master))}}},
		{sparkService, sparkService + "-WORKER-BASE", []inventory.ConfigUpdate{
			{Name: "worker_max_heapsize", Value: str(daemonHeap(worker))},
			{Name: "worker_cores", Value: str(int64(max(worker.Cores, 1)))},
			{Name: "worker_memory", Value: str(max(worker.MemoryBytes/2, 1<<30))},
		}},
	}
	for _, g := range groups {
		if _, err := s.inv.UpdateGroupConfig(ctx, c.Name, g.service, g.group, g.updates); err != nil {
			return fmt.Errorf("size %s: %w", g.group, err)
		}
	}
	return nil
}

// ParseFlavors reads a flavor table, "name=cores:memoryGiB" entries
// separated by commas, e.g. "m2a.xlarge=4:16,r2a.2xlarge=8:64".
func ParseFlavors(s string) (hostprovider.Flavors, error) {
	out := hostprovider.Flavors{}
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, size, ok := strings.Cut(entry, "=")
		cores, mem, ok2 := strings.Cut(size, ":")
		c, err1 := strconv.Atoi(strings.TrimSpace(cores))
		m, err2 := strconv.Atoi(strings.TrimSpace(mem))
		if !ok || !ok2 || err1 != nil || err2 != nil || c < 1 || m < 1 || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("flavor %q: want name=cores:memoryGiB, e.g. m2a.xlarge=4:16", entry)
		}
		name = strings.TrimSpace(name)
		out[name] = hostprovider.Flavor{Name: name, Cores: c, MemoryBytes: int64(m) << 30}
	}
	return out, nil
}
