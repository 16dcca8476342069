package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/fileutil"
	"github.com/herdhq/herd/internal/runner"
)

// defaultPath is PATH for role processes when the agent has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// prepare readies a start of spec: it checks the runtime, writes the
// configuration files, creates the data directories, runs the init step
// when due, and returns what the runner starts.
func (s *supervisor) prepare(ctx context.Context, spec agentapi.RoleSpec) (runner.Spec, error) {
	rts := s.a.runtimes()
	l := spec.Launch
	argv, env, err := s.command(rts, l, l.MainClass, l.Args, l.Command)
	if err != nil {
		return runner.Spec{}, err
	}
	if err := writeConf(s.dir, s.confDir, spec.Files); err != nil {
		return runner.Spec{}, err
	}
	for _, d := range l.Dirs {
		if err := os.MkdirAll(s.a.resolve(d), 0o700); err != nil {
			return runner.Spec{}, fmt.Errorf("create data directory: %w", err)
		}
	}
	if spec.Init != nil {
		if err := s.runInit(ctx, rts, spec); err != nil {
			return runner.Spec{}, err
		}
	}
	return runner.Spec{
		Dir: s.runDir, Command: argv, Env: env,
		Stdout: filepath.Join(s.logsDir, stdoutLog), Stderr: filepath.Join(s.logsDir, stderrLog),
	}, nil
}

// command builds the argv and environment of a process of the role's
// runtime: mainClass and args for Hadoop and Spark, cmd for exec.
func (s *supervisor) command(rts runtimes, l agentapi.Launch, mainClass string, args, cmd []string) (argv, env []string, err error) {
	vars := map[string]string{}
	switch l.Runtime {
	case agentapi.RuntimeExec:
		if len(cmd) == 0 {
			return nil, nil, errors.New("the exec role has no command")
		}
		if !filepath.IsAbs(cmd[0]) {
			return nil, nil, fmt.Errorf("the command %q is not an absolute path", cmd[0])
		}
		argv = slices.Clone(cmd)
		vars["JAVA_HOME"] = rts.javaHome()
	case agentapi.RuntimeHadoop:
		rt := rts.hadoop
		if rt == nil {
			return nil, nil, fmt.Errorf("the hadoop runtime is missing on this host: %s", orUnknown(rts.hadoopErr))
		}
		if mainClass == "" {
			return nil, nil, errors.New("the hadoop role has no main class")
		}
		argv = rt.javaArgs(s.confDir, l.HeapMB, mainClass, args...)
		vars["JAVA_HOME"] = rt.javaHome
		vars["HADOOP_HOME"] = rt.home
		vars["HADOOP_CONF_DIR"] = s.confDir
		vars["HADOOP_LOG_DIR"] = s.logsDir
	case agentapi.RuntimeSpark:
		rt := rts.spark
		if rt == nil {
			return nil, nil, fmt.Errorf("the spark runtime is missing on this host: %s", orUnknown(rts.sparkErr))
		}
		if mainClass == "" {
			return nil, nil, errors.New("the spark role has no main class")
		}
		argv = append([]string{filepath.Join(rt.home, "bin", "spark-class"), mainClass}, args...)
		vars["JAVA_HOME"] = rt.javaHome
		vars["SPARK_HOME"] = rt.home
		vars["SPARK_CONF_DIR"] = s.confDir
		vars["SPARK_LOG_DIR"] = s.logsDir
		vars["SPARK_NO_DAEMONIZE"] = "1"
		if l.HeapMB > 0 {
			vars["SPARK_DAEMON_MEMORY"] = strconv.Itoa(l.HeapMB) + "m"
		}
	case "":
		return nil, nil, errors.New("the role names no runtime")
	default:
		return nil, nil, fmt.Errorf("runtime %q is unknown to this agent", l.Runtime)
	}
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("the %s runtime gave no command", l.Runtime)
	}
	return argv, s.a.roleEnv(s.dir, vars, l.Env), nil
}

// roleEnv is the whole environment of a role's process: a minimal one, the
// runtime's variables (empty ones left out), then the role's own.
func (a *Agent) roleEnv(roleDir string, runtimeVars, roleVars map[string]string) []string {
	vars := map[string]string{
		"PATH": a.getenv("PATH"),
		"HOME": a.getenv("HOME"),
		"LANG": "C.UTF-8",
	}
	if vars["PATH"] == "" {
		vars["PATH"] = defaultPath
	}
	if vars["HOME"] == "" {
		vars["HOME"] = roleDir
	}
	for _, k := range []string{"USER", "LOGNAME", "TZ"} {
		vars[k] = a.getenv(k)
	}
	for k, v := range runtimeVars {
		vars[k] = v
	}
	for k, v := range roleVars {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		if _, own := roleVars[k]; v != "" || own {
			env = append(env, k+"="+v)
		}
	}
	slices.Sort(env)
	return env
}

// resolve makes a path of a spec absolute: relative paths are relative to
// the data directory.
func (a *Agent) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(a.cfg.DataDir, p)
}

// runInit runs the role's init step unless what it creates exists.
func (s *supervisor) runInit(ctx context.Context, rts runtimes, spec agentapi.RoleSpec) error {
	in := spec.Init
	creates := ""
	if in.Creates != "" {
		creates = s.a.resolve(in.Creates)
		if _, err := os.Stat(creates); err == nil {
			return nil
		}
	}
	s.log.Info("running the role's init step", "creates", creates)
	if err := s.runStep(ctx, rts, spec, "init", in.MainClass, in.Args, in.Command); err != nil {
		return err
	}
	if creates != "" {
		if _, err := os.Stat(creates); err != nil {
			s.log.Warn("the init step succeeded but did not create what it should; it will run again before the next start", "creates", creates)
		}
	}
	return nil
}

// runStep runs a short command of the role's runtime (init, refresh) to
// its end. Its output goes to the role's stderr.log; a failure's message
// ends with the output's tail.
func (s *supervisor) runStep(ctx context.Context, rts runtimes, spec agentapi.RoleSpec, what, mainClass string, args, command []string) error {
	argv, env, err := s.command(rts, spec.Launch, mainClass, args, command)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.note("%s: %s", what, strings.Join(argv, " "))
	f, err := os.OpenFile(filepath.Join(s.logsDir, stderrLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: open log: %w", what, err)
	}
	defer f.Close()
	tail := &tailBuffer{max: 2048}
	out := io.MultiWriter(f, tail)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = s.runDir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = initSysProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := fmt.Sprintf("%s failed: %v", what, err)
		if t := tail.lastLines(10); t != "" {
			msg += "; its output ends with:\n" + t
		}
		return errors.New(msg)
	}
	return nil
}

// refresh rewrites the refreshable files of the running role and runs its
// refresh command, within a minute.
func (s *supervisor) refresh(ctx context.Context, spec agentapi.RoleSpec) {
	r := spec.Refresh
	err := func() error {
		byPath := map[string]agentapi.File{}
		for _, f := range spec.Files {
			byPath[f.Path] = f
		}
		for _, p := range r.Files {
			f, ok := byPath[p]
			if !ok {
				return fmt.Errorf("refresh: file %s is not among the role's files", p)
			}
			rel, err := confPath(p)
			if err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
			mode := os.FileMode(f.Mode).Perm()
			if mode == 0 {
				mode = 0o644
			}
			if err := fileutil.WriteFileAtomic(filepath.Join(s.confDir, rel), []byte(f.Content), mode); err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
		}
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return s.runStep(rctx, s.a.runtimes(), spec, "refresh", r.MainClass, r.Args, r.Command)
	}()
	if err != nil {
		s.refreshFailed, s.msg = r.Hash, err.Error()
		s.log.Error("refresh failed", "err", err)
		return
	}
	s.st.RefreshHash, s.refreshFailed = r.Hash, ""
	s.saveState()
	s.log.Info("refreshed", "files", r.Files)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// lastLines returns at most n of the last lines, trimmed.
func (t *tailBuffer) lastLines(n int) string {
	lines := strings.Split(strings.TrimRight(string(t.b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// writeConf replaces the contents of confDir with files: it writes them to
// a new directory beside it and swaps the two with renames.
func writeConf(roleDir, confDir string, files []agentapi.File) error {
	if err := os.MkdirAll(roleDir, 0o700); err != nil {
		return fmt.Errorf("write configuration files: %w", err)
	}
	tmp, err := os.MkdirTemp(roleDir, ".conf-new-")
	if err != nil {
		return fmt.Errorf("write configuration files: %w", err)
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // gone already after the swap
	for _, f := range files {
		rel, err := confPath(f.Path)
		if err != nil {
			return fmt.Errorf("write configuration files: %w", err)
		}
		p := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("write configuration files: %w", err)
		}
		mode := os.FileMode(f.Mode).Perm()
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(f.Content), mode); err != nil {
			return fmt.Errorf("write configuration files: %w", err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			return fmt.Errorf("write configuration files: %w", err)
		}
	}
	old := ""
	if _, err := os.Stat(confDir); err == nil {
		// A fresh name: os.Rename does not replace a directory.
		if old, err = os.MkdirTemp(roleDir, ".conf-old-"); err != nil {
			return fmt.Errorf("write configuration files: %w", err)
		}
		if err := os.Remove(old); err != nil {
			return fmt.Errorf("write configuration files: %w", err)
		}
		if err := os.Rename(confDir, old); err != nil {
			return fmt.Errorf("write configuration files: %w", err)
		}
	}
	if err := os.Rename(tmp, confDir); err != nil {
		if old != "" {
			_ = os.Rename(old, confDir)
		}
		return fmt.Errorf("write configuration files: %w", err)
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// confPath checks that p is a relative path inside the configuration
// directory and returns it cleaned.
func confPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("file path %q is not valid", p)
	}
	if filepath.IsAbs(p) {
		return "", fmt.Errorf("file path %q is absolute", p)
	}
	c := filepath.Clean(filepath.FromSlash(p))
	if c == "." || c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("file path %q leaves the configuration directory", p)
	}
	return c, nil
}
