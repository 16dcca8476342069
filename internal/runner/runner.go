//go:build unix

package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrGone is returned by Attach when the run's wrapper is no longer running
// (or never wrote its pid file); ReadExit tells how it ended, if known.
var ErrGone = errors.New("runner: run is no longer running")

// ErrNoIsolation is returned by Start for a run with secrets on a machine
// that cannot isolate them; the error's text says why.
var ErrNoIsolation = errors.New("runner: this machine cannot isolate secrets")

// Spec is one run's process.
type Spec struct {
	// Dir is the run's directory, which must exist. The wrapper writes its
	// PidFile and ExitFile there; it must not hold anything else the run
	// needs to keep secret.
	Dir string
	// Command is the argv of the command; Command[0] is an absolute path.
	Command []string
	// Env is the complete environment of the command.
	Env []string
	// Cwd is the command's working directory; Dir when empty.
	Cwd string
	// Stdout and Stderr are files the command's output is appended to
	// (created with mode 0600); empty means discarded. They may be the same
	// file. The wrapper's own diagnostics go to Stderr too.
	Stdout, Stderr string
	// Secrets maps credential -> key -> value; the command sees them as
	// SecretsRoot/<credential>/<key>. Names must be single path elements. A
	// run with secrets needs isolation.
	Secrets map[string]map[string]string
}

// Runner starts and re-attaches runs. It is safe for concurrent use.
type Runner struct {
	exe          string
	log          *slog.Logger
	startTimeout time.Duration

	extraEnv []string // for the wrapper process itself (tests)

	isoOnce   sync.Once
	isoOK     bool
	isoReason string
}

// New returns a runner that starts wrappers by executing exe: the herd
// binary (which must call MaybeWrapper first thing in main, or WrapperMain
// for its hidden WrapperCommand subcommand), or a test binary whose TestMain
// calls MaybeWrapper. log may be nil.
func New(exe string, log *slog.Logger) *Runner {
	if abs, err := filepath.Abs(exe); err == nil {
		exe = abs
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{exe: exe, log: log, startTimeout: 15 * time.Second}
}

// Isolation reports whether runs get private mount and pid namespaces, and
// if not, why. It is probed once, on first use, by starting a wrapper in
// probe mode that unshares, mounts a tmpfs on SecretsRoot and proc, and
// exits.
func (r *Runner) Isolation() (ok bool, reason string) {
	r.isoOnce.Do(func() { r.isoOK, r.isoReason = probeIsolation(r.exe, r.wrapperEnv()) })
	return r.isoOK, r.isoReason
}

// setIsolation fixes the answer of Isolation (a test hook); it has no effect
// once Isolation has been called.
func (r *Runner) setIsolation(ok bool, reason string) {
	r.isoOnce.Do(func() { r.isoOK, r.isoReason = ok, reason })
}

// Start starts the wrapper for spec and returns once the wrapper has started
// the command and written its pid file, or has failed (then the wrapper is
// gone). The run does not depend on the calling process staying alive.
func (r *Runner) Start(spec Spec) (*Process, error) {
	spec, err := checkSpec(spec)
	if err != nil {
		return nil, err
	}
	iso, reason := r.Isolation()
	if len(spec.Secrets) > 0 && !iso {
		return nil, fmt.Errorf("%w: %s", ErrNoIsolation, reason)
	}
	for _, name := range []string{PidFile, ExitFile} {
		if err := os.Remove(filepath.Join(spec.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("runner: %w", err)
		}
	}
	stdout, stderr, err := openOutputs(spec.Stdout, spec.Stderr)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	defer stderr.Close()

	// The command's environment and secrets go through a pipe (fd 3 in
	// the wrapper): never in argv, nor in the wrapper's environment.
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	defer configR.Close()
	defer configW.Close()
	args := []string{WrapperCommand, "-dir", spec.Dir, "-cwd", spec.Cwd, "-config-fd", "3"}
	if iso {
		args = append(args, "-isolate")
	}
	args = append(args, "--")
	args = append(args, spec.Command...)
	cmd := exec.Command(r.exe, args...)
	cmd.Env = r.wrapperEnv()
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = []*os.File{configR}
	cmd.SysProcAttr = sysProcAttr(iso)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("runner: start wrapper: %w", err)
	}
	configR.Close()
	p := &Process{pid: cmd.Process.Pid, dir: spec.Dir, isolated: iso, log: r.log, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	conf := wrapperConfig{Env: withoutMarker(spec.Env), Secrets: spec.Secrets}
	if err := sendConfig(configW, conf, r.startTimeout); err != nil {
		// Most likely the wrapper failed early; say why if it did.
		select {
		case <-p.done:
			return nil, p.failure()
		case <-time.After(time.Second):
			p.abort()
			return nil, fmt.Errorf("runner: pass config to wrapper: %w", err)
		}
	}
	rec, err := p.awaitPidFile(r.startTimeout)
	if err != nil {
		return nil, err
	}
	p.start, p.pgid = rec.Start, rec.Pgid
	r.log.Info("runner: run started", "dir", spec.Dir, "pid", p.pid, "isolated", iso)
	return p, nil
}

// Attach finds the wrapper of a run started earlier, possibly by a server
// that has since died, from the pid file in dir. It returns ErrGone when that
// wrapper is no longer running: no pid file, no such pid, or a process with
// another start time (a reused pid).
func (r *Runner) Attach(dir string) (*Process, error) {
	rec, err := readPid(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no pid file in %s", ErrGone, dir)
	}
	if err != nil {
		return nil, err
	}
	if !procAlive(rec.Pid, rec.Start) {
		return nil, ErrGone
	}
	r.log.Info("runner: run attached", "dir", dir, "pid", rec.Pid)
	return &Process{pid: rec.Pid, start: rec.Start, pgid: rec.Pgid, dir: dir, isolated: rec.Isolated, log: r.log}, nil
}

// Process is a running wrapper, started by this Runner or attached.
type Process struct {
	pid      int
	start    uint64 // start time of the wrapper (see PidFile)
	pgid     int    // the command's process group on the host; 0 when isolated
	dir      string
	isolated bool
	log      *slog.Logger

	// Set for a started process only; done is closed once cmd.Wait has
	// returned, which reaps the wrapper.
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	killed bool // Stop sent SIGKILL
}

// Pid returns the host pid of the wrapper.
func (p *Process) Pid() int { return p.pid }

// Isolated reports whether the run has private mount and pid namespaces.
func (p *Process) Isolated() bool { return p.isolated }

// Wait blocks until the run has ended and returns how. An attached process
// is polled every 200ms. ctx cancels the wait, not the run.
func (p *Process) Wait(ctx context.Context) (Exit, error) {
	if p.done != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return Exit{}, ctx.Err()
		}
	} else {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for procAlive(p.pid, p.start) {
			select {
			case <-t.C:
			case <-ctx.Done():
				return Exit{}, ctx.Err()
			}
		}
	}
	return p.exit(), nil
}

// exit reports how the ended run ended.
func (p *Process) exit() Exit {
	if e, ok := ReadExit(p.dir); ok {
		return e
	}
	e := Exit{Code: -1}
	if p.cmd != nil && p.cmd.ProcessState != nil {
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				e.Signal = ws.Signal().String()
			case ws.Exited():
				e.Error = fmt.Sprintf("wrapper exited with status %d without an exit file", ws.ExitStatus())
			}
		}
	}
	p.mu.Lock()
	if e.Signal == "" && p.killed {
		e.Signal = syscall.SIGKILL.String()
	}
	p.mu.Unlock()
	return e
}

// Stop asks the run to end: SIGTERM to the wrapper, which forwards it to
// the command's process group. If the wrapper has not exited after grace,
// Stop kills it with SIGKILL (and, without isolation, the command's process
// group), then waits a little for it to be gone. Safe to call more than once
// and on an attached process; nil if the run has already ended.
func (p *Process) Stop(grace time.Duration) error {
	if !p.alive() {
		return nil
	}
	p.log.Info("runner: stopping run", "dir", p.dir, "pid", p.pid)
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	if p.waitGone(grace) {
		return nil
	}
	p.log.Warn("runner: killing run after grace", "dir", p.dir, "pid", p.pid, "grace", grace)
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	if p.pgid > 0 {
		if err := syscall.Kill(-p.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("runner: kill process group %d: %w", p.pgid, err)
		}
	}
	if !p.waitGone(5 * time.Second) {
		return fmt.Errorf("runner: wrapper %d still running after SIGKILL", p.pid)
	}
	return nil
}

// alive reports whether the wrapper is still running.
func (p *Process) alive() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	return procAlive(p.pid, p.start)
}

// signal sends sig to the wrapper; a wrapper that is already gone is not an
// error.
func (p *Process) signal(sig syscall.Signal) error {
	var err error
	if p.cmd != nil {
		err = p.cmd.Process.Signal(sig) // through a pidfd: never a reused pid
		if errors.Is(err, os.ErrProcessDone) {
			err = nil
		}
	} else if procAlive(p.pid, p.start) {
		err = syscall.Kill(p.pid, sig)
		if errors.Is(err, syscall.ESRCH) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("runner: signal wrapper %d: %w", p.pid, err)
	}
	return nil
}

// waitGone waits up to d for the wrapper to be gone and reports whether it
// is.
func (p *Process) waitGone(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	if p.done != nil {
		select {
		case <-p.done:
			return true
		case <-timer.C:
			return false
		}
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for procAlive(p.pid, p.start) {
		select {
		case <-t.C:
		case <-timer.C:
			return !procAlive(p.pid, p.start)
		}
	}
	return true
}

// awaitPidFile waits for the pid file of a started wrapper. On failure the
// wrapper is gone when it returns.
func (p *Process) awaitPidFile(timeout time.Duration) (pidRecord, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, err := readPid(p.dir)
		switch {
		case err == nil && rec.Pid == p.pid:
			return rec, nil
		case err == nil:
			p.abort()
			return rec, fmt.Errorf("runner: pid file names pid %d, wrapper is %d", rec.Pid, p.pid)
		case !errors.Is(err, fs.ErrNotExist):
			p.abort()
			return rec, err
		}
		select {
		case <-p.done:
			if rec, err := readPid(p.dir); err == nil && rec.Pid == p.pid {
				return rec, nil // the command has already ended
			}
			return rec, p.failure()
		case <-deadline.C:
			p.abort()
			return rec, fmt.Errorf("runner: wrapper wrote no pid file within %s", timeout)
		case <-tick.C:
		}
	}
}

// failure describes why a started wrapper that has exited did not come up.
func (p *Process) failure() error {
	e := p.exit()
	switch {
	case e.Error != "":
		return fmt.Errorf("runner: %s", e.Error)
	case e.Signal != "":
		return fmt.Errorf("runner: wrapper killed by signal (%s) before starting the command", e.Signal)
	default:
		return fmt.Errorf("runner: wrapper exited (code %d) before starting the command", e.Code)
	}
}

// abort kills a started wrapper that failed to come up and waits for it.
func (p *Process) abort() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func checkSpec(spec Spec) (Spec, error) {
	if len(spec.Command) == 0 || !filepath.IsAbs(spec.Command[0]) {
		return spec, errors.New("runner: Command[0] must be an absolute path")
	}
	if spec.Dir == "" {
		return spec, errors.New("runner: Dir is required")
	}
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return spec, fmt.Errorf("runner: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return spec, fmt.Errorf("runner: %w", err)
	} else if !fi.IsDir() {
		return spec, fmt.Errorf("runner: %s is not a directory", dir)
	}
	spec.Dir = dir
	if spec.Cwd == "" {
		spec.Cwd = dir
	}
	if spec.Cwd, err = filepath.Abs(spec.Cwd); err != nil {
		return spec, fmt.Errorf("runner: %w", err)
	}
	return spec, validateSecrets(spec.Secrets)
}

// openOutputs opens the files the command's output is appended to.
func openOutputs(stdoutPath, stderrPath string) (stdout, stderr *os.File, err error) {
	open := func(path string) (*os.File, error) {
		if path == "" {
			return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
		return f, nil
	}
	if stdout, err = open(stdoutPath); err != nil {
		return nil, nil, err
	}
	if stderrPath == stdoutPath && stderrPath != "" {
		stderr, err = os.OpenFile(stdout.Name(), os.O_WRONLY|os.O_APPEND, 0)
	} else {
		stderr, err = open(stderrPath)
	}
	if err != nil {
		stdout.Close()
		return nil, nil, err
	}
	return stdout, stderr, nil
}

// sendConfig writes conf as JSON to w, the write end of the wrapper's
// config pipe, and closes it.
func sendConfig(w *os.File, conf wrapperConfig, timeout time.Duration) error {
	b, err := json.Marshal(conf)
	if err != nil {
		return err
	}
	defer clear(b)
	if err := w.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Close()
}

// wrapperEnv is the wrapper process's own environment.
func (r *Runner) wrapperEnv() []string {
	return append([]string{envWrapper + "=1"}, r.extraEnv...)
}

// withoutMarker returns env without the wrapper marker variable.
func withoutMarker(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, envWrapper+"=") {
			out = append(out, kv)
		}
	}
	return out
}
