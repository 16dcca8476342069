package agent

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/sparkrt"
)

// execVersion is what the facts say of the exec runtime, which is always
// there.
const execVersion = "builtin"

// runtimes are the runtimes found on the host, and what is missing of the
// others.
type runtimes struct {
	spark     *sparkRuntime
	sparkErr  string
	hadoop    *hadoopRuntime
	hadoopErr string
}

// sparkRuntime is what roles of RuntimeSpark need.
type sparkRuntime struct {
	home     string // SPARK_HOME, with bin/spark-class
	javaHome string
	version  string
}

// hadoopRuntime is what roles of RuntimeHadoop need.
type hadoopRuntime struct {
	home     string
	javaHome string
	version  string
	// javaArgs is the argv (java first) of mainClass with Hadoop's class
	// path, confDir first.
	javaArgs func(confDir string, heapMB int, mainClass string, args ...string) []string
}

// versions are the Runtimes of the facts.
func (r runtimes) versions() map[string]string {
	v := map[string]string{agentapi.RuntimeExec: execVersion}
	if r.spark != nil {
		v[agentapi.RuntimeSpark] = orUnknown(r.spark.version)
	}
	if r.hadoop != nil {
		v[agentapi.RuntimeHadoop] = orUnknown(r.hadoop.version)
	}
	return v
}

// problems are the Problems of the facts.
func (r runtimes) problems() map[string]string {
	p := map[string]string{}
	if r.spark == nil {
		p[agentapi.RuntimeSpark] = orUnknown(r.sparkErr)
	}
	if r.hadoop == nil {
		p[agentapi.RuntimeHadoop] = orUnknown(r.hadoopErr)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// javaHome is JAVA_HOME for exec roles: that of a runtime found, if any.
func (r runtimes) javaHome() string {
	switch {
	case r.hadoop != nil && r.hadoop.javaHome != "":
		return r.hadoop.javaHome
	case r.spark != nil:
		return r.spark.javaHome
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// discoverRuntimes looks for the Spark and Hadoop runtimes.
func (a *Agent) discoverRuntimes(ctx context.Context) runtimes {
	var r runtimes
	srt, err := sparkrt.Discover(ctx, sparkrt.Config{SparkHome: a.cfg.SparkHome, Venv: a.cfg.SparkVenv, Getenv: a.getenv})
	if err != nil {
		r.sparkErr = err.Error()
	} else {
		r.spark = &sparkRuntime{home: srt.Home, javaHome: srt.JavaHome, version: srt.SparkVersion}
	}
	r.hadoop, err = discoverHadoop(ctx, a.cfg.HadoopHome, a.getenv)
	if err != nil {
		r.hadoopErr = err.Error()
	}
	return r
}

// hostInfo are the facts that do not change while the agent runs.
type hostInfo struct {
	memory  int64
	os      string
	machine string
}

func readHostInfo() hostInfo {
	return hostInfo{memory: memTotal(), os: osName(), machine: machineID()}
}

// machineID is the systemd machine id, or the kernel's boot id, or the
// host name: whatever names this machine best.
func machineID() string {
	for _, f := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id"} {
		if b, err := os.ReadFile(f); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	h, _ := os.Hostname()
	return h
}

// facts describes the host now.
func (a *Agent) facts() agentapi.Facts {
	a.mu.Lock()
	rts, host := a.rts, a.host
	a.mu.Unlock()
	f := agentapi.Facts{
		Cores:        runtime.NumCPU(),
		MemoryBytes:  host.memory,
		DataDir:      a.cfg.DataDir,
		OS:           host.os,
		MachineID:    host.machine,
		Runtimes:     rts.versions(),
		Problems:     rts.problems(),
		AgentVersion: a.cfg.Version,
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(a.cfg.DataDir, &st); err == nil {
		f.DiskBytes = int64(st.Blocks) * int64(st.Bsize) //nolint:unconvert // the field types differ between platforms
		f.DiskFree = int64(st.Bavail) * int64(st.Bsize)  //nolint:unconvert // the field types differ between platforms
	}
	return f
}

// memTotal is MemTotal of /proc/meminfo, in bytes; 0 when unknown.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return parseMemTotal(b)
}

func parseMemTotal(b []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			if len(f) >= 3 && strings.EqualFold(f[2], "kB") {
				n *= 1024
			}
			return n
		}
	}
	return 0
}

// osName is the distribution's PRETTY_NAME (from /etc/os-release) with the
// platform, e.g. "Debian GNU/Linux 12 (bookworm) linux/amd64".
func osName() string {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return platform
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			if v = strings.TrimSpace(v); v != "" {
				return v + " " + platform
			}
		}
	}
	return platform
}
