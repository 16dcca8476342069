// Package local is the embedded default host provider: each VM is a Herd
// host agent process of this machine, with a loopback address of its own
// and a data directory of its own. Roles the server assigns to the VM run
// as processes of this machine too, started by that agent.
//
// A Provider owns one directory, Config.Dir:
//
//	Dir/
//	  .alloc.lock            flock held while an address is allocated
//	  <instanceID>/          one per VM (0700)
//	    vm.json              the VM: id, name, address, flavor, volume,
//	                         creation time, and how its agent joins the
//	                         server (0600: it holds the host token until
//	                         the agent has registered; Check drops it then)
//	    agent.pid            the agent's pid, then its start time in clock
//	                         ticks after boot (/proc/<pid>/stat field 22)
//	    agent.log            the agent's output, appended to at each start
//	    agent/               the agent's data directory (--data-dir)
//	    user-script.log      the output of every Exec, appended
//
// The directories are the provider's whole state: a provider made over
// the same Dir after a server restart knows the same VMs (List), and
// recognizes their agents by agent.pid, whose start time tells a
// recycled pid from the agent. Check starts an agent again that does not
// run.
//
// Invariants:
//   - An address is taken while a vm.json records it. Create takes the
//     lowest free one of Config.Subnet (127.N.0.1, 127.N.0.2, ...; the .0
//     and .255 of each /24 are skipped) under a mutex and the flock of
//     Dir/.alloc.lock, and writes vm.json before it lets go: concurrent
//     Creates, also of several providers over one Dir, never share one.
//   - An agent runs in a session of its own (Setsid), with no parent-death
//     signal: it survives the server and its terminal, as role processes
//     survive their agent. The provider reaps the agents it started, so
//     none stays a zombie while it runs.
//   - The token is given to the default agent command in the environment
//     (HERD_AGENT_TOKEN), never in the arguments, which every user of the
//     machine can read.
//   - When Create fails, Destroy has run: nothing of the VM is left.
//   - Destroy kills only processes that belong to the VM's directory: by
//     working directory, by an argument naming a path under it (whole path
//     elements: Dir/vm-1 is not Dir/vm-10), or by EnvVM in their
//     environment. It stops the agent before the others, so that the
//     agent restarts none of them.
//
// Limits: the flavor is recorded, not enforced (the processes share the
// machine's cores and memory); the volume is recorded, and only checked
// against the free space of Dir's file system with Config.EnforceVolume.
// The provider needs Linux: it finds processes through /proc.
package local
