// Package agent is the host agent: the agent side of internal/agentapi. It
// registers the host with the server, heartbeats what runs on it, long-polls
// the host's desired state and reconciles the host's role processes to it.
//
// An Agent owns one data directory:
//
//	DataDir/
//	  agent.json               identity: host id and secret (0600)
//	  agent.lock               flock held while Run runs
//	  roles/<name>/
//	    state.json             what the agent last did to the role
//	    conf/                  the role's Files, rewritten before each start
//	    run/                   the runner directory (pid and exit files)
//	    logs/stdout.log        the process's output, rotated by size
//	    logs/stderr.log        (init output and agent notes go here too)
//
// Relative paths of a RoleSpec (Launch.Dirs, Init.Creates) resolve against
// DataDir.
//
// Each role has one supervisor goroutine that owns its state; it is the only
// writer of the role's directory and of its state.json. Role processes are
// started through internal/runner, so they belong to no agent: when Run
// returns (or the agent is killed) they keep running, and the next Agent on
// the same DataDir re-attaches to them from their pid files, or learns from
// their exit files how they ended meanwhile.
//
// Invariants:
//   - A process is started at most once per StartSeq of its role, plus
//     automatic restarts (AutoRestart, with backoff). The role's state.json
//     records the StartSeq before the process is started, so that a crash
//     of the agent never causes a second ordered start.
//   - A running process is never restarted because its configuration
//     changed: only a new StartSeq restarts it. The ConfigHash reported is
//     the one it was started with.
//   - Role processes get a minimal environment (PATH, HOME, LANG, JAVA_HOME,
//     the runtime's variables and Launch.Env), never the agent's.
//   - Network failures never end Run: every server call is retried with
//     backoff, and logged once per failure streak.
package agent
