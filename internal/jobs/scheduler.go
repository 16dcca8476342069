package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/store"
)

// The scheduler starts the runs of enabled, unpaused schedules at their
// cron times. Its state is one row per scheduled job (store.ScheduleState):
// the last time it fired and the next time due. Each run it starts carries
// the request id "scheduled:<job>:<unix time>", so that a time is never
// run twice, whatever crashes happen between starting the run and
// recording the firing.

// schedulerLoop fires due schedules every second.
func (s *Service) schedulerLoop(ctx context.Context) {
	every(ctx, time.Second, nil, func() {
		if err := s.fireDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("fire due schedules", "err", err)
		}
	})
}

// fireDue starts the runs of every schedule due now.
func (s *Service) fireDue(ctx context.Context) error {
	now := s.now()
	due, err := s.db.Read().DueSchedules(ctx, now, 100)
	if err != nil {
		return err
	}
	fired := false
	for _, st := range due {
		err := s.db.InTx(ctx, func(q *store.Queries) error {
			ok, err := s.fire(ctx, q, st, now)
			fired = fired || ok
			return err
		})
		if err != nil {
			s.log.Warn("fire schedule", "vc", st.VCID, "job", st.Job, "err", err)
		}
	}
	if fired {
		s.dispatch.wake()
	}
	return nil
}

// fire starts the run a due schedule owes and moves its state on. Without
// catch-up only the latest time due is run; with it, the earliest not yet
// run (the next ones follow at the next ticks).
func (s *Service) fire(ctx context.Context, q *store.Queries, st store.ScheduleState, now time.Time) (bool, error) {
	row, err := q.GetJob(ctx, st.VCID, st.Job)
	if errors.Is(err, store.ErrNotFound) {
		return false, q.DeleteScheduleState(ctx, st.VCID, st.Job)
	}
	if err != nil {
		return false, err
	}
	var d Definition
	if err := json.Unmarshal([]byte(row.Spec), &d); err != nil {
		return false, fmt.Errorf("decode job %s: %w", row.Name, err)
	}
	sch := d.Schedule
	if sch == nil || !sch.Enabled || sch.Paused {
		return false, syncSchedule(ctx, q, st.VCID, d, now)
	}
	at := st.NextFire
	if !sch.Catchup {
		for {
			next, ok := sch.due(at)
			if !ok || next.After(now) {
				break
			}
			at = next
		}
	}
	user := sch.User
	if user == "" {
		user = SchedulerUser
	}
	req := RunRequest{RequestID: fmt.Sprintf("scheduled:%s:%d", st.Job, at.Unix())}
	r, err := s.acceptRun(ctx, q, st.VCID, st.Job, user, req)
	var dup *DuplicateRunError
	switch {
	case errors.As(err, &dup):
	case err != nil && apperr.KindOf(err) != apperr.Internal:
		s.log.Warn("a scheduled run was refused", "job", st.Job, "at", at, "err", err)
	case err != nil:
		return false, err
	default:
		s.log.Info("scheduled run accepted", "vc", st.VCID, "job", st.Job, "run", r.ID, "at", at)
	}
	st.LastFire = at
	st.NextFire = time.Time{}
	if next, ok := sch.due(at); ok {
		st.NextFire = next
	}
	return err == nil, q.PutScheduleState(ctx, st)
}

// syncSchedule brings a job's scheduler state in line with its definition,
// in the transaction that changed the definition. A new schedule first
// fires at its first cron time after now, or after its start when that is
// later; with catch-up and a start in the past, from its start.
func syncSchedule(ctx context.Context, q *store.Queries, vc string, d Definition, now time.Time) error {
	sch := d.Schedule
	if sch == nil || !sch.Enabled {
		return q.DeleteScheduleState(ctx, vc, d.Name)
	}
	st, err := q.GetScheduleState(ctx, vc, d.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		st = store.ScheduleState{VCID: vc, Job: d.Name, LastFire: now}
		if start, ok := sch.startTime(); ok && (start.After(now) || sch.Catchup) {
			st.LastFire = start.Add(-time.Millisecond)
		}
	case err != nil:
		return err
	}
	st.NextFire = time.Time{}
	if !sch.Paused {
		if next, ok := sch.due(st.LastFire); ok {
			st.NextFire = next
		} else if sch.CronExpression == OnceExpression && st.LastFire.Equal(now) {
			st.NextFire = now // @once without a start: right away
		}
	}
	return q.PutScheduleState(ctx, st)
}
