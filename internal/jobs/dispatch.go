package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/store"
)

// dispatcher starts accepted runs when a slot is free, watches them to
// their end, and stops them on request. Its map of active runs (launching
// or live) is what the concurrency cap counts.
type dispatcher struct {
	s      *Service
	mu     sync.Mutex
	active map[int64]*activeRun
	wakeCh chan struct{}
}

type activeRun struct {
	vc   string
	id   int64
	proc *runner.Process // nil while launching
	kill bool            // a kill was asked for
}

func newDispatcher(s *Service) *dispatcher {
	return &dispatcher{s: s, active: map[int64]*activeRun{}, wakeCh: make(chan struct{}, 1)}
}

func (d *dispatcher) wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// loop launches waiting runs whenever woken, and at least every second.
func (d *dispatcher) loop(ctx context.Context) {
	every(ctx, time.Second, d.wakeCh, func() { d.fill(ctx) })
}

// fill launches waiting runs, oldest first, while slots are free.
func (d *dispatcher) fill(ctx context.Context) {
	rows, err := d.s.db.Read().LiveRuns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.s.log.Warn("list waiting runs", "err", err)
		}
		return
	}
	for _, row := range rows {
		if row.Status != RunStarting || ctx.Err() != nil {
			continue
		}
		d.mu.Lock()
		if len(d.active) >= d.s.cfg.MaxConcurrentRuns {
			d.mu.Unlock()
			return
		}
		if _, busy := d.active[row.ID]; busy {
			d.mu.Unlock()
			continue
		}
		a := &activeRun{vc: row.VCID, id: row.ID}
		d.active[row.ID] = a
		d.mu.Unlock()
		if !d.s.launch(ctx, a) {
			d.release(a)
		}
	}
}

// release forgets an active run that did not start (it waits, or ended).
func (d *dispatcher) release(a *activeRun) {
	d.mu.Lock()
	delete(d.active, a.id)
	d.mu.Unlock()
}

// kill stops a run: a waiting one ends killed now, a live one is stopped
// and ends killed when its process is gone.
func (d *dispatcher) kill(ctx context.Context, vc string, id int64) error {
	d.mu.Lock()
	if a, ok := d.active[id]; ok && a.vc == vc {
		a.kill = true
		proc := a.proc
		d.mu.Unlock()
		if err := d.s.db.InTx(ctx, func(q *store.Queries) error { return q.RequestRunKill(ctx, vc, id, d.s.now()) }); err != nil {
			return err
		}
		if proc != nil {
			go d.stop(proc, id)
		}
		return nil
	}
	// Not active: holding the lock keeps the dispatcher from starting it now.
	defer d.mu.Unlock()
	return d.s.db.InTx(ctx, func(q *store.Queries) error {
		r, err := q.GetRun(ctx, vc, id)
		if err != nil {
			return notFound(err, "run", strconv.FormatInt(id, 10))
		}
		if r.Status != RunStarting {
			return nil // ended already: nothing to do
		}
		now := d.s.now()
		if err := q.RequestRunKill(ctx, vc, id, now); err != nil {
			return err
		}
		return q.EndRun(ctx, vc, id, RunKilled, now, nil, "killed before it started", "")
	})
}

func (d *dispatcher) stop(proc *runner.Process, id int64) {
	if err := proc.Stop(d.s.cfg.KillGrace); err != nil {
		d.s.log.Warn("stop run", "run", id, "err", err)
	}
}

// watch waits for a live run to end and records how it ended. When the
// server stops first, the run is left running, to be re-attached.
func (d *dispatcher) watch(ctx context.Context, a *activeRun, r Run) {
	appCtx, stopApp := context.WithCancel(ctx)
	go d.s.detectApp(appCtx, r)
	exit, err := a.proc.Wait(ctx)
	stopApp()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		d.s.log.Error("wait for run", "run", r.ID, "err", err)
		exit = runner.Exit{Code: -1}
	}
	d.mu.Lock()
	killed := a.kill
	d.mu.Unlock()
	d.s.finish(context.WithoutCancel(ctx), r, exit, killed)
	d.release(a)
	d.wake()
}

// finish records the end of a run and applies its retention.
func (s *Service) finish(ctx context.Context, r Run, exit runner.Exit, killed bool) {
	status, reason := RunSucceeded, ""
	var code *int
	if exit.Known {
		c := exit.Code
		code = &c
	}
	switch {
	case killed:
		status, reason = RunKilled, "killed on request"
	case !exit.Known:
		status, reason = RunUnknown, "the run's process ended without leaving an exit status (was it killed from outside Herd?)"
	case exit.Signal != "":
		status, reason = RunFailed, "spark-submit was ended by a signal: "+exit.Signal
	case exit.Code != 0:
		status, reason = RunFailed, fmt.Sprintf("spark-submit exited with status %d", exit.Code)
	}
	tail := ""
	if status != RunSucceeded {
		tail = s.logTail(ctx, r, 20)
	}
	s.submitterLog(r.ID, "run ended: %s %s", status, reason)
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if err := q.EndRun(ctx, r.vc, r.ID, status, s.now(), code, reason, tail); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		return nil
	})
	if err != nil {
		s.log.Error("record end of run", "run", r.ID, "err", err)
		return
	}
	s.log.Info("run ended", "run", r.ID, "job", r.Job, "status", status, "reason", reason)
	// Scratch space goes at once; the working files (mounts, outputs) stay
	// unless the job asked otherwise. Logs stay as long as the record.
	remove := []string{tmpDir}
	if r.Retention == DeleteAfterRun {
		remove = append(remove, appDir)
	}
	for _, sub := range remove {
		if err := os.RemoveAll(filepath.Join(s.runDir(r.ID), sub)); err != nil {
			s.log.Warn("remove the working files of a run", "run", r.ID, "err", err)
		}
	}
}

// recoverRuns re-attaches the runs that were live when the server last
// stopped: a run whose process still lives is watched again; one whose
// process is gone ends as its exit file says, or unknown without one. Runs
// that never started stay queued. Wrappers of runs no longer live are
// stopped, so that nothing is left behind.
func (s *Service) recoverRuns(ctx context.Context) error {
	rows, err := s.db.Read().LiveRuns(ctx)
	if err != nil {
		return err
	}
	live := map[int64]bool{}
	for _, row := range rows {
		live[row.ID] = true
		r, err := runFromRow(row)
		if err != nil {
			return err
		}
		dir := s.runDir(r.ID)
		if row.Status == RunStarting && !hasPidFile(dir) {
			continue // never launched: the dispatcher starts it
		}
		proc, err := s.cfg.Runner.Attach(dir)
		switch {
		case err == nil:
			a := &activeRun{vc: r.vc, id: r.ID, proc: proc, kill: !row.KillRequestedAt.IsZero()}
			s.dispatch.mu.Lock()
			s.dispatch.active[r.ID] = a
			s.dispatch.mu.Unlock()
			if row.Status == RunStarting {
				if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.MarkRunStarted(ctx, r.vc, r.ID, s.now()) }); err != nil {
					return err
				}
			}
			s.log.Info("re-attached to a run", "run", r.ID, "pid", proc.Pid())
			s.submitterLog(r.ID, "herd restarted; re-attached to the run's process %d", proc.Pid())
			if a.kill { // asked for before the restart, maybe not carried out
				go s.dispatch.stop(proc, r.ID)
			}
			go s.dispatch.watch(ctx, a, r)
		case errors.Is(err, runner.ErrGone):
			exit, _ := runner.ReadExit(dir)
			s.log.Info("a run ended while herd was down", "run", r.ID, "exit_known", exit.Known)
			s.finish(ctx, r, exit, !row.KillRequestedAt.IsZero())
		default:
			return fmt.Errorf("re-attach run %d: %w", r.ID, err)
		}
	}
	return s.stopStrays(ctx, live)
}

// stopStrays stops wrappers whose runs are not live (a run deleted or ended
// while its process went on), and removes the directories of runs that
// have no record (a crash between deleting records and their files).
func (s *Service) stopStrays(ctx context.Context, live map[int64]bool) error {
	entries, err := os.ReadDir(filepath.Join(s.cfg.DataDir, "runs"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	known, err := s.db.Read().RunIDs(ctx)
	if err != nil {
		return err
	}
	for _, e := range entries {
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || live[id] {
			continue
		}
		dir := filepath.Join(s.cfg.DataDir, "runs", e.Name())
		if proc, err := s.cfg.Runner.Attach(dir); err == nil {
			s.log.Warn("stopping the process of a run that is no longer live", "run", id, "pid", proc.Pid())
			if err := proc.Stop(s.cfg.KillGrace); err != nil {
				s.log.Warn("stop stray run process", "run", id, "err", err)
				continue
			}
		}
		if !known[id] {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove the directory of deleted run %d: %w", id, err)
			}
			s.log.Info("removed the directory of a deleted run", "run", id)
		}
	}
	return nil
}

func hasPidFile(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, runner.PidFile))
	return err == nil
}

// runtimeMissing is how runs fail without a Spark runtime.
func runtimeMissing(err error) error {
	return apperr.Wrap(apperr.Unavailable, err, "no usable Spark runtime: "+err.Error())
}

// retentionLoop deletes, every minute, the runs of delete_after_run jobs
// that ended more than EndedRunTTL ago: their records and directories.
func (s *Service) retentionLoop(ctx context.Context) {
	every(ctx, time.Minute, nil, func() {
		if err := s.purgeExpiredRuns(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("delete expired runs", "err", err)
		}
	})
}

func (s *Service) purgeExpiredRuns(ctx context.Context) error {
	for {
		rows, err := s.db.Read().ExpiredRuns(ctx, s.now().Add(-s.cfg.EndedRunTTL), 100)
		if err != nil || len(rows) == 0 {
			return err
		}
		for _, r := range rows {
			// The directory first: a crash in between leaves a record
			// without files, which the next round deletes.
			if err := os.RemoveAll(s.runDir(r.ID)); err != nil {
				return fmt.Errorf("remove run %d: %w", r.ID, err)
			}
			if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.DeleteRun(ctx, r.VCID, r.ID) }); err != nil {
				return err
			}
			s.log.Info("deleted an expired run", "run", r.ID, "job", r.JobName)
		}
	}
}
