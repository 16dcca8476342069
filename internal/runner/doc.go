// Package runner runs one job's command as a supervised process tree that
// outlives the server which started it. It knows nothing about Spark or HTTP.
//
// A run is a small wrapper process (the herd binary itself, see WrapperMain)
// whose only child is the run's command. The package owns:
//
//   - Isolation. When the machine allows it (Linux, CAP_SYS_ADMIN; probed
//     once per Runner), the wrapper is started in a private mount namespace
//     and a private pid namespace, as pid 1 of the latter. Mounts it makes
//     are private: nothing it mounts is seen by the host or by other runs.
//   - Secrets. A run's secrets (credential -> key -> value) are visible as
//     files SecretsRoot/<credential>/<key> (mode 0400) on a tmpfs mounted in
//     the run's mount namespace only; the host and other runs see the empty
//     directory beneath. Secrets (and the command's environment) reach the
//     wrapper as JSON through an inherited pipe; they are never in argv, in
//     an environment, in a file outside that tmpfs, in the run's directory
//     or in logs. A run with secrets is refused when isolation is
//     unavailable (ErrNoIsolation).
//   - Tree kill. Killing the wrapper kills every process of an isolated run
//     (the kernel kills a pid namespace with its pid 1). Without isolation
//     the command runs in its own process group, which Stop kills (a
//     process that leaves that group, e.g. with setsid, escapes). When the
//     command ends, whatever it left in its process group is killed too.
//   - Survival and re-attachment. The wrapper is not tied to the server (no
//     parent-death signal, own process group). It writes, in the run's
//     directory, a "pid" file (its host pid and start time, so that a later
//     server can find it again with Attach and tell it from a process that
//     reused the pid) and, when the command has ended, an "exit" file (how
//     it ended; see ReadExit). Both are written atomically (rename).
//
// Invariants: the command gets exactly Spec.Env (never the wrapper's marker
// variable) and fds 0, 1 and 2 only (never the config pipe or anything the
// server inherited); the pid file exists only once the command has been
// started; the exit file, when present, is final; a wrapper killed with
// SIGKILL leaves no exit file, and Wait then reports Known == false.
//
// Whoever calls New must make exe act as a wrapper: the herd binary calls
// MaybeWrapper first thing in main; test binaries that start runs call it
// first thing in TestMain.
package runner
