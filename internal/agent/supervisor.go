package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/runner"
)

// Names in a role's directory.
const (
	confDirName = "conf"
	runDirName  = "run"
	logsDirName = "logs"
	stdoutLog   = "stdout.log"
	stderrLog   = "stderr.log"
)

// outcome is how the last process of a role ended, when none runs.
type outcome int

const (
	outcomeNone    outcome = iota
	outcomeExited          // ended on its own
	outcomeStopped         // stopped by the agent
	outcomeFailed          // could not be started
)

// procExit is the end of the process of generation gen.
type procExit struct {
	gen  int
	exit runner.Exit
}

// supervisor owns one role: its directory, its process and its status. Its
// run goroutine is the only one that acts on them; the agent talks to it
// through setSpec and remove, and reads its status.
type supervisor struct {
	a                             *Agent
	name                          string
	dir, confDir, runDir, logsDir string
	log                           *slog.Logger
	prev                          *supervisor // a removed supervisor of the same role, to wait for
	done                          chan struct{}
	wake                          chan struct{}
	exitCh                        chan procExit

	mu         sync.Mutex
	pending    *agentapi.RoleSpec // the latest spec not yet taken
	removed    bool               // the role left the desired state
	published  agentapi.RoleStatus
	probeSpecs []agentapi.Probe
	probeRes   map[string]agentapi.ProbeResult
	probeGen   int

	// Owned by run.
	ctx       context.Context
	spec      *agentapi.RoleSpec // nil until the desired state is known
	gone      bool
	st        roleState
	proc      *runner.Process
	procGen   int
	stopping  bool
	state     string
	msg       string
	exit      *runner.Exit
	outcome   outcome
	failures  int         // consecutive automatic restarts, for the backoff
	retry     *time.Timer // the pending automatic restart
	retryDue  bool
	probeStop context.CancelFunc
	// refreshFailed is the Refresh.Hash whose refresh failed; it is not
	// tried again until the spec changes it.
	refreshFailed string
}

func newSupervisor(a *Agent, name string, prev *supervisor) *supervisor {
	dir := filepath.Join(a.rolesDir, name)
	return &supervisor{
		a: a, name: name, dir: dir, prev: prev,
		confDir: agentapi.ConfDir(filepath.Dir(a.rolesDir), name),
		runDir:  filepath.Join(dir, runDirName),
		logsDir: filepath.Join(dir, logsDirName),
		log:     a.log.With("role", name),
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		exitCh:  make(chan procExit, 1),
		state:   agentapi.StateStopped,
		published: agentapi.RoleStatus{
			Name: name, State: agentapi.StateStopped,
		},
	}
}

// setSpec hands the supervisor the role's latest spec.
func (s *supervisor) setSpec(spec agentapi.RoleSpec) {
	s.mu.Lock()
	s.pending = &spec
	s.mu.Unlock()
	s.poke()
}

// remove tells the supervisor that the role is no longer desired: it stops
// the process, removes the role's run and conf directories and ends.
func (s *supervisor) remove() {
	s.mu.Lock()
	s.removed = true
	s.pending = nil
	s.mu.Unlock()
	s.poke()
}

func (s *supervisor) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// status is the role's current status, with its probe results.
func (s *supervisor) status() agentapi.RoleStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.published
	if st.State == agentapi.StateRunning && len(s.probeRes) > 0 {
		st.Probes = make(map[string]agentapi.ProbeResult, len(s.probeRes))
		for k, v := range s.probeRes {
			st.Probes[k] = v
		}
	}
	return st
}

// run supervises the role until ctx is cancelled (the process goes on) or
// the role has been removed.
func (s *supervisor) run(ctx context.Context) {
	defer close(s.done)
	s.ctx = ctx
	if s.prev != nil {
		select {
		case <-s.prev.done:
		case <-ctx.Done():
			return
		}
	}
	s.load()
	for {
		s.take()
		if s.reconcile(ctx) {
			return
		}
		s.ensureProbes()
		s.publish()
		var retryC <-chan time.Time
		if s.retry != nil {
			retryC = s.retry.C
		}
		select {
		case <-ctx.Done():
			s.stopProbes()
			if s.retry != nil {
				s.retry.Stop()
			}
			return
		case <-s.wake:
		case e := <-s.exitCh:
			s.onExit(e)
		case <-retryC:
			s.retry = nil
			s.retryDue = true
		}
	}
}

// take moves the latest spec (or the removal) into the loop's state.
func (s *supervisor) take() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed {
		s.gone = true
		return
	}
	if s.pending != nil {
		s.spec = s.pending
		s.pending = nil
		s.probeSpecs = s.spec.Probes
	}
}

// load reads the role's state and re-attaches to its process, if it runs.
func (s *supervisor) load() {
	st, ok, err := readRoleState(s.dir)
	if err != nil {
		s.log.Error("cannot read the role's state; starting from scratch", "err", err)
	}
	if !ok {
		return
	}
	s.st = st
	p, err := s.a.runner.Attach(s.runDir)
	switch {
	case err == nil:
		s.adopt(p)
		s.log.Info("re-attached to the role's process", "pid", p.Pid(), "start_seq", st.StartSeq)
		if s.st.Stopped { // the agent was stopping it when it went away
			s.st.Stopped = false
			s.saveState()
		}
	case !st.Started:
	case st.Stopped:
		s.state, s.outcome = agentapi.StateStopped, outcomeStopped
		if e, known := runner.ReadExit(s.runDir); known {
			s.exit = &e
		}
	case !exists(filepath.Join(s.runDir, runner.PidFile)) && !exists(filepath.Join(s.runDir, runner.ExitFile)):
		// start clears both before it records the start, and the wrapper
		// writes one of them once it starts the command (or fails to): the
		// last agent stopped before the process was started, so the start
		// is still to be done.
		s.st.Started = false
		s.log.Info("the role's last start was interrupted before its process started; it will be done again", "start_seq", st.StartSeq)
	default:
		if !errors.Is(err, runner.ErrGone) {
			s.log.Warn("cannot re-attach to the role's process; taking it as ended", "err", err)
		}
		e, known := runner.ReadExit(s.runDir)
		if !known {
			e = runner.Exit{Code: -1}
		}
		s.exit = &e
		s.state, s.outcome = agentapi.StateExited, outcomeExited
		s.msg = "ended while the agent was not running: " + describeExit(e)
		s.log.Warn("the role's process ended while the agent was not running", "exit", describeExit(e))
	}
}

// reconcile acts to bring the role to its spec; it returns true once the
// role has been removed and forgotten.
func (s *supervisor) reconcile(ctx context.Context) bool {
	if s.gone {
		s.cancelRetry()
		if s.proc != nil {
			s.ensureStopping()
			return false
		}
		s.cleanup()
		return true
	}
	spec := s.spec
	if spec == nil {
		return false // until the desired state is known, only watch
	}
	if s.proc != nil {
		switch {
		case !spec.Run:
			s.ensureStopping()
		case !s.st.Started || spec.StartSeq != s.st.StartSeq:
			// A start was ordered while the process runs: a restart. It
			// starts again once it has ended.
			s.log.Info("restart ordered", "start_seq", spec.StartSeq)
			s.ensureStopping()
		case spec.Refresh != nil && spec.Refresh.Hash != s.st.RefreshHash && spec.Refresh.Hash != s.refreshFailed &&
			s.state == agentapi.StateRunning && !s.stopping:
			s.refresh(ctx, *spec)
		}
		return false
	}
	switch {
	case !spec.Run:
		s.cancelRetry()
		s.state = agentapi.StateStopped
	case !s.st.Started || spec.StartSeq != s.st.StartSeq:
		s.start(ctx, *spec, true)
	case s.retryDue:
		s.start(ctx, *spec, false)
	case s.outcome == outcomeExited && spec.AutoRestart:
		if s.retry == nil {
			s.scheduleRetry()
		}
	default:
		s.cancelRetry()
	}
	return false
}

// start prepares and starts the role's process: ordered for a new
// StartSeq, otherwise as an automatic restart.
func (s *supervisor) start(ctx context.Context, spec agentapi.RoleSpec, ordered bool) {
	s.cancelRetry()
	s.retryDue = false
	if ordered {
		s.st = roleState{StartSeq: spec.StartSeq}
		s.failures = 0
	} else {
		s.st.Restarts++
	}
	s.st.Started, s.st.Stopped = true, false
	s.st.ConfigHash, s.st.RefreshHash = spec.ConfigHash, ""
	if spec.Refresh != nil { // the files are written anew for the start
		s.st.RefreshHash = spec.Refresh.Hash
	}
	s.st.StartedAt = s.a.now()
	s.exit, s.msg, s.outcome = nil, "", outcomeNone
	s.state = agentapi.StateStarting
	s.publish()

	fail := func(err error) {
		s.state, s.msg, s.outcome = agentapi.StateFailed, err.Error(), outcomeFailed
		s.log.Error("cannot start the role", "err", err)
		s.note("start failed: %v", err)
	}
	for _, d := range []string{s.runDir, s.logsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			fail(fmt.Errorf("create role directory: %w", err))
			return
		}
	}
	// No pid or exit file of an earlier process may be taken for this one's.
	for _, name := range []string{runner.PidFile, runner.ExitFile} {
		if err := os.Remove(filepath.Join(s.runDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			fail(fmt.Errorf("clear run directory: %w", err))
			return
		}
	}
	// Recorded before the start: a crash from here on never leads to a
	// second start for this StartSeq.
	if err := writeRoleState(s.dir, s.st); err != nil {
		fail(err)
		return
	}
	rspec, err := s.prepare(ctx, spec)
	if err != nil {
		if ctx.Err() != nil {
			return // the agent is stopping; the next one does the start (see load)
		}
		fail(err)
		return
	}
	how := "ordered start"
	if !ordered {
		how = fmt.Sprintf("automatic restart %d", s.st.Restarts)
	}
	s.note("%s (start %d, config %s): %s", how, spec.StartSeq, spec.ConfigHash, strings.Join(rspec.Command, " "))
	p, err := s.a.runner.Start(rspec)
	if err != nil {
		fail(fmt.Errorf("start process: %w", err))
		return
	}
	s.st.StartedAt = s.a.now()
	s.saveState()
	s.adopt(p)
	s.log.Info("role process started", "pid", p.Pid(), "start_seq", spec.StartSeq, "how", how)
}

// adopt makes p the role's running process and watches for its end.
func (s *supervisor) adopt(p *runner.Process) {
	s.proc = p
	s.procGen++
	gen := s.procGen
	s.state, s.msg, s.exit, s.outcome = agentapi.StateRunning, "", nil, outcomeNone
	ctx := s.ctx
	s.a.wg.Go(func() {
		e, err := p.Wait(ctx)
		if err != nil {
			return // the agent is stopping; the process goes on
		}
		select {
		case s.exitCh <- procExit{gen: gen, exit: e}:
		case <-ctx.Done():
		}
	})
}

// onExit records the end of the role's process.
func (s *supervisor) onExit(e procExit) {
	if e.gen != s.procGen || s.proc == nil {
		return
	}
	s.proc = nil
	s.stopProbes()
	s.exit = &e.exit
	if s.stopping {
		s.stopping = false
		s.state, s.msg, s.outcome = agentapi.StateStopped, "", outcomeStopped
		s.log.Info("role process stopped", "exit", describeExit(e.exit))
		return
	}
	if s.a.now().Sub(s.st.StartedAt) >= s.a.t.restartReset {
		s.failures = 0 // it stayed up long enough: back to the shortest backoff
	}
	s.state, s.outcome = agentapi.StateExited, outcomeExited
	s.msg = describeExit(e.exit)
	s.log.Warn("role process exited", "exit", s.msg)
	s.note("process exited: %s", s.msg)
}

// ensureStopping stops the running process (SIGTERM, then SIGKILL after the
// role's stop timeout); its end arrives through exitCh.
func (s *supervisor) ensureStopping() {
	if s.stopping || s.proc == nil {
		return
	}
	s.stopping = true
	s.stopProbes()
	s.st.Stopped = true
	s.saveState()
	s.state, s.msg = agentapi.StateStopping, ""
	grace := s.a.t.stopTimeout
	if s.spec != nil && s.spec.StopTimeout > 0 {
		grace = time.Duration(s.spec.StopTimeout)
	}
	p := s.proc
	s.log.Info("stopping role process", "pid", p.Pid(), "grace", grace)
	s.note("stopping the process (SIGTERM, SIGKILL after %s)", grace)
	s.a.wg.Go(func() {
		if err := p.Stop(grace); err != nil {
			s.log.Error("stop role process", "pid", p.Pid(), "err", err)
		}
	})
}

// scheduleRetry arms the automatic restart after an exit.
func (s *supervisor) scheduleRetry() {
	d := backoff(s.failures, s.a.t.restartMin, s.a.t.restartMax)
	s.failures++
	s.retry = time.NewTimer(d)
	s.state = agentapi.StateBackoff
	s.log.Info("restarting the role after backoff", "backoff", d)
}

// cancelRetry drops a pending automatic restart.
func (s *supervisor) cancelRetry() {
	if s.retry != nil {
		s.retry.Stop()
		s.retry = nil
	}
	s.retryDue = false
	if s.state == agentapi.StateBackoff {
		s.state = agentapi.StateExited
	}
}

// cleanup forgets a removed role: its run and conf directories and its
// state go; its logs stay, and so do its data directories.
func (s *supervisor) cleanup() {
	var errs []error
	for _, p := range []string{s.runDir, s.confDir, filepath.Join(s.dir, stateFile)} {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(s.dir, ".conf-*")); len(tmps) > 0 {
		for _, p := range tmps {
			_ = os.RemoveAll(p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Warn("clean up removed role", "err", err)
	}
	s.log.Info("role removed")
}

// publish makes the loop's view the role's status, and asks for a
// heartbeat when it changed.
func (s *supervisor) publish() {
	st := agentapi.RoleStatus{
		Name: s.name, State: s.state, StartSeq: s.st.StartSeq, ConfigHash: s.st.ConfigHash,
		Message: s.msg, Restarts: s.st.Restarts, RefreshHash: s.st.RefreshHash,
	}
	if s.st.Started {
		st.StartedAt = s.st.StartedAt
	}
	if s.proc != nil {
		st.Pid = s.proc.Pid()
	} else if s.exit != nil && s.exit.Known && s.exit.Error == "" && s.exit.Signal == "" {
		code := s.exit.Code
		st.ExitCode = &code
	}
	s.mu.Lock()
	changed := !reflect.DeepEqual(s.published, st)
	s.published = st
	s.mu.Unlock()
	if changed {
		s.a.kickHeartbeat()
	}
}

func (s *supervisor) saveState() {
	if err := writeRoleState(s.dir, s.st); err != nil {
		s.log.Error("save role state", "err", err)
	}
}

// note appends a line about what the agent does to the role's stderr.log.
func (s *supervisor) note(format string, args ...any) {
	if err := os.MkdirAll(s.logsDir, 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(s.logsDir, stderrLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s herd agent: %s\n", s.a.now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// describeExit says how a process ended, in words.
func describeExit(e runner.Exit) string {
	switch {
	case e.Error != "":
		return "the process could not be started: " + e.Error
	case !e.Known && e.Signal != "":
		return "ended without an exit status (its wrapper was killed by signal " + e.Signal + ")"
	case !e.Known:
		return "ended without an exit status"
	case e.Signal != "":
		return "killed by signal (" + e.Signal + ")"
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}
