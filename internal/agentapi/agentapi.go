package agentapi

import (
	"path/filepath"
	"time"
)

// Paths served by the server.
const (
	RegisterPath  = "/agent/v1/register"
	HeartbeatPath = "/agent/v1/heartbeat"
	DesiredPath   = "/agent/v1/desired"
)

// Register asks the server to admit a host. Token is a host token issued by
// an admin (herd host token); a host that registered before and kept its id
// re-registers with the same HostID to keep its identity.
type Register struct {
	Token    string `json:"token"`
	HostID   string `json:"hostId,omitempty"`
	Hostname string `json:"hostname"`
	Address  string `json:"address"` // the IP address roles bind to
	Facts    Facts  `json:"facts"`
}

// Registered is the answer to Register.
type Registered struct {
	HostID            string   `json:"hostId"`
	Secret            string   `json:"secret"`
	HeartbeatInterval Duration `json:"heartbeatInterval"`
	TTL               Duration `json:"ttl"`
}

// Facts describe a host and what it can run.
type Facts struct {
	Cores       int    `json:"cores"`
	MemoryBytes int64  `json:"memoryBytes"`
	DiskBytes   int64  `json:"diskBytes"`     // size of the file system of DataDir
	DiskFree    int64  `json:"diskFreeBytes"` // free space there
	DataDir     string `json:"dataDir"`       // absolute; relative role paths resolve against it
	OS          string `json:"os"`
	// MachineID names the machine the agent runs on (/etc/machine-id):
	// agents on one machine over several loopback addresses share it, and
	// roles of one type among them get distinct ports.
	MachineID string `json:"machineId,omitempty"`
	// Runtimes maps a runtime name (RuntimeHadoop, RuntimeSpark) to its
	// version, for the runtimes the agent found; a role whose runtime is
	// missing cannot start there.
	Runtimes map[string]string `json:"runtimes"`
	// Problems says, per missing runtime, what is missing.
	Problems     map[string]string `json:"problems,omitempty"`
	AgentVersion string            `json:"agentVersion"`
}

// Runtime names.
const (
	RuntimeHadoop = "hadoop"
	RuntimeSpark  = "spark"
	RuntimeExec   = "exec" // a plain command; always available
)

// Heartbeat is what an agent reports.
type Heartbeat struct {
	Facts Facts `json:"facts"`
	// DesiredHash is the hash of the desired state the agent has applied.
	DesiredHash string       `json:"desiredHash"`
	Roles       []RoleStatus `json:"roles"`
}

// HeartbeatReply is the server's answer to a heartbeat.
type HeartbeatReply struct {
	HeartbeatInterval Duration `json:"heartbeatInterval"`
	TTL               Duration `json:"ttl"`
	// DesiredHash is the hash of the host's current desired state; when it
	// differs from the agent's, the agent fetches DesiredPath.
	DesiredHash string `json:"desiredHash"`
}

// Desired is the desired state of one host: every role it must know about.
// A role the agent runs that is not listed must be stopped and forgotten.
type Desired struct {
	Hash  string     `json:"hash"`
	Roles []RoleSpec `json:"roles"`
}

// RoleSpec says what one role is and whether it should run.
type RoleSpec struct {
	Name    string `json:"name"`    // unique per host; a safe file name
	Type    string `json:"type"`    // NAMENODE, WORKER, ...
	Service string `json:"service"` // the service's name, for logs
	// Run says whether the role's process should be running.
	Run bool `json:"run"`
	// StartSeq increases each time the server orders a start. The agent
	// starts the process at most once per StartSeq; after it exits, it
	// starts it again only when AutoRestart is set (with backoff) or when
	// StartSeq increases.
	StartSeq    int64  `json:"startSeq"`
	AutoRestart bool   `json:"autoRestart"`
	ConfigHash  string `json:"configHash"` // hash of Files (but Refresh.Files) and Launch
	// Files are written under the role's configuration directory (relative
	// paths, no ".."), replacing the directory's contents, before each
	// start. Files of a running role are not touched until it restarts,
	// but for those of Refresh.
	Files  []File `json:"files"`
	Launch Launch `json:"launch"`
	// Init, when set, runs before a start if Init.Creates does not exist.
	Init *Init `json:"init,omitempty"`
	// Refresh, when set, applies changes of some files to the running
	// process without a restart (a NameNode's exclude file, say).
	Refresh     *Refresh `json:"refresh,omitempty"`
	StopTimeout Duration `json:"stopTimeout"`
	// Probes are checked while the process runs, every heartbeat interval.
	Probes []Probe `json:"probes,omitempty"`
}

// ConfDir is where the agent with data directory dataDir writes the files
// of a role: descriptors may name them by absolute path.
func ConfDir(dataDir, role string) string { return filepath.Join(dataDir, "roles", role, "conf") }

// Refresh is how a running role takes changed files: when Hash differs
// from the one the agent last applied, it rewrites Files (paths of
// RoleSpec.Files) and runs the command (MainClass and Args of the role's
// runtime, or Command for exec roles). A start applies it too.
type Refresh struct {
	Files     []string `json:"files"`
	MainClass string   `json:"mainClass,omitempty"`
	Args      []string `json:"args,omitempty"`
	Command   []string `json:"command,omitempty"`
	Hash      string   `json:"hash"` // of the content of Files
}

// File is one configuration file.
type File struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	Mode    uint32 `json:"mode,omitempty"` // 0644 when zero
}

// Launch is how to start a role's process. The agent turns it into an argv
// with its own runtime paths: for RuntimeHadoop, java with Hadoop's class
// path (the configuration directory first) and HeapMB; for RuntimeSpark,
// SPARK_HOME/bin/spark-class with SPARK_CONF_DIR set to the configuration
// directory and SPARK_DAEMON_MEMORY from HeapMB; for RuntimeExec, Command
// as it is (Command[0] absolute), with Env.
type Launch struct {
	Runtime   string            `json:"runtime"`
	Command   []string          `json:"command,omitempty"`
	MainClass string            `json:"mainClass"`
	Args      []string          `json:"args,omitempty"`
	HeapMB    int               `json:"heapMB,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	// Dirs are created (mode 0700) before the start: data directories.
	Dirs []string `json:"dirs,omitempty"`
}

// Init is a one-time preparation step, such as formatting a NameNode. It
// runs in the role's runtime with the role's HeapMB and Env: MainClass and
// Args for RuntimeHadoop and RuntimeSpark, Command (Command[0] absolute)
// for RuntimeExec.
type Init struct {
	Creates   string   `json:"creates"` // absolute path; when it exists, Init is skipped
	MainClass string   `json:"mainClass"`
	Args      []string `json:"args,omitempty"`
	Command   []string `json:"command,omitempty"`
}

// Probe is an HTTP check of a running role. The agent GETs URL and, for a
// JSON answer, extracts each field by its dotted path (array elements by
// index, e.g. "beans.0.NumLiveDataNodes"). The probe is OK when the answer
// is 2xx and, if Fields are given, JSON that holds every one of them (a
// daemon starting up may answer before its data is there); a missing
// field is reported as null.
type Probe struct {
	Name   string            `json:"name"`
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields,omitempty"`
}

// Process states an agent reports.
const (
	StateStopped  = "stopped"  // not running, as desired or never started
	StateStarting = "starting" // init step or process start under way
	StateRunning  = "running"
	StateStopping = "stopping"
	StateExited   = "exited"  // ended on its own while it should run
	StateFailed   = "failed"  // could not be started (see Message)
	StateBackoff  = "backoff" // exited; auto-restart waits before the next start
)

// RoleStatus is the agent's report on one role.
type RoleStatus struct {
	Name       string    `json:"name"`
	State      string    `json:"state"`
	StartSeq   int64     `json:"startSeq"`   // the StartSeq of the current or last process
	ConfigHash string    `json:"configHash"` // the ConfigHash it was started with
	Pid        int       `json:"pid,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	ExitCode   *int      `json:"exitCode,omitempty"`
	Message    string    `json:"message,omitempty"`
	Restarts   int       `json:"restarts"` // automatic restarts since the last ordered start
	// RefreshHash is the Refresh.Hash the running process has applied.
	RefreshHash string                 `json:"refreshHash,omitempty"`
	Probes      map[string]ProbeResult `json:"probes,omitempty"`
}

// ProbeResult is the outcome of one probe.
type ProbeResult struct {
	OK     bool           `json:"ok"`
	Error  string         `json:"error,omitempty"`
	Fields map[string]any `json:"fields,omitempty"`
	At     time.Time      `json:"at"`
}

// Duration is a time.Duration that travels as a string such as "2s".
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// WaitTimeout is how long a DesiredPath long poll waits at most.
const WaitTimeout = 30 * time.Second
