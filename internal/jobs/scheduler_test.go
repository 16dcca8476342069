package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/store"
)

func scheduledJob(name string, sch Schedule) Definition {
	return Definition{Name: name, Type: TypeSpark, Spark: &Spark{File: "local:/app.py"}, Schedule: &sch}
}

// fireAt moves the clock to t and runs the scheduler once.
func fireAt(t *testing.T, s *Service, c *testClock, at time.Time) {
	t.Helper()
	c.Set(at)
	if err := s.fireDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// requestTimes returns the cron times the runs were started for.
func requestTimes(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		var unix int64
		var job string
		if _, err := fmt.Sscanf(r.RequestID, "scheduled:%s", &job); err == nil {
			_, _ = fmt.Sscanf(r.RequestID[len("scheduled:")+len(r.Job)+1:], "%d", &unix)
		}
		out[i] = time.Unix(unix, 0).UTC().Format("15:04")
	}
	return out
}

func TestSchedulerFires(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sch   Schedule
		ticks []time.Duration // clock offsets from t0 at which the scheduler runs
		want  []string        // the cron times of the runs started, in order
		user  string          // the runs' user: the schedule's, which is its creator when it names none
	}{
		{
			name:  "every five minutes",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *"},
			ticks: []time.Duration{time.Minute, 3 * time.Minute, 4 * time.Minute, 9 * time.Minute},
			want:  []string{"10:05", "10:10"},
			user:  "alice",
		},
		{
			name:  "the schedule's user",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *", User: "bob"},
			ticks: []time.Duration{3 * time.Minute},
			want:  []string{"10:05"},
			user:  "bob",
		},
		{
			name:  "missed times without catch-up: only the latest",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *"},
			ticks: []time.Duration{20 * time.Minute, 20 * time.Minute},
			want:  []string{"10:20"},
			user:  "alice",
		},
		{
			name:  "missed times with catch-up: each in turn",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *", Catchup: true},
			ticks: []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute, 20 * time.Minute, 20 * time.Minute},
			want:  []string{"10:05", "10:10", "10:15", "10:20"},
			user:  "alice",
		},
		{
			name:  "catch-up from a start in the past",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *", Catchup: true, Start: "2026-11-23T09:50:00Z"},
			ticks: []time.Duration{0, 0, 0, 0},
			want:  []string{"09:50", "09:55", "10:00"},
			user:  "alice",
		},
		{
			name:  "a future start",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *", Start: "2026-11-23T10:30:00Z"},
			ticks: []time.Duration{10 * time.Minute, 28 * time.Minute, 29 * time.Minute},
			want:  []string{"10:30"},
			user:  "alice",
		},
		{
			name:  "the end",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *", End: "2026-11-23T10:12:00Z"},
			ticks: []time.Duration{4 * time.Minute, 9 * time.Minute, 14 * time.Minute, 60 * time.Minute},
			want:  []string{"10:05", "10:10"},
			user:  "alice",
		},
		{
			name:  "once at its start",
			sch:   Schedule{Enabled: true, CronExpression: OnceExpression, Start: "2026-11-23T10:07:00Z"},
			ticks: []time.Duration{4 * time.Minute, 5 * time.Minute, 60 * time.Minute},
			want:  []string{"10:07"},
			user:  "alice",
		},
		{
			name:  "paused",
			sch:   Schedule{Enabled: true, CronExpression: "*/5 * * * *", Paused: true},
			ticks: []time.Duration{4 * time.Minute, 60 * time.Minute},
			want:  []string{},
		},
		{
			name:  "disabled",
			sch:   Schedule{Enabled: false, CronExpression: "*/5 * * * *"},
			ticks: []time.Duration{60 * time.Minute},
			want:  []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &testClock{t: t0}
			s := newTestService(t, clock)
			if _, err := s.CreateJob(context.Background(), alice, DefaultVC, scheduledJob("etl", tc.sch)); err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.ticks {
				fireAt(t, s, clock, t0.Add(d))
			}
			runs := runsOf(t, s, "etl")
			got := requestTimes(runs)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("runs for %v, want %v", got, tc.want)
			}
			for _, r := range runs {
				if r.User != tc.user || r.Status != RunStarting {
					t.Errorf("run %d: user %q status %q, want %q starting", r.ID, r.User, r.Status, tc.user)
				}
			}
		})
	}
}

func TestSchedulerPauseAndUnpause(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC)
	clock := &testClock{t: t0}
	s := newTestService(t, clock)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, alice, DefaultVC, scheduledJob("etl", Schedule{Enabled: true, CronExpression: "*/5 * * * *"})); err != nil {
		t.Fatal(err)
	}
	fireAt(t, s, clock, t0.Add(4*time.Minute)) // 10:05
	if err := s.SetPaused(ctx, alice, DefaultVC, "etl", true); err != nil {
		t.Fatal(err)
	}
	fireAt(t, s, clock, t0.Add(9*time.Minute))  // 10:10 skipped
	fireAt(t, s, clock, t0.Add(14*time.Minute)) // 10:15 skipped
	if err := s.SetPaused(ctx, alice, DefaultVC, "etl", false); err != nil {
		t.Fatal(err)
	}
	fireAt(t, s, clock, t0.Add(14*time.Minute)) // the latest missed time, once
	fireAt(t, s, clock, t0.Add(19*time.Minute)) // 10:20
	if got := fmt.Sprint(requestTimes(runsOf(t, s, "etl"))); got != "[10:05 10:15 10:20]" {
		t.Fatalf("runs for %s, want [10:05 10:15 10:20]", got)
	}
}

// A schedule never starts two runs for one time, even when its state is
// lost between starting the run and recording the firing (a crash).
func TestSchedulerNeverRunsATimeTwice(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC)
	clock := &testClock{t: t0}
	s := newTestService(t, clock)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, alice, DefaultVC, scheduledJob("etl", Schedule{Enabled: true, CronExpression: "*/5 * * * *"})); err != nil {
		t.Fatal(err)
	}
	fireAt(t, s, clock, t0.Add(4*time.Minute))
	st, err := s.db.Read().GetScheduleState(ctx, DefaultVC, "etl")
	if err != nil {
		t.Fatal(err)
	}
	st.LastFire, st.NextFire = t0, t0.Add(3*time.Minute) // as before the firing
	if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.PutScheduleState(ctx, st) }); err != nil {
		t.Fatal(err)
	}
	fireAt(t, s, clock, t0.Add(4*time.Minute))
	if n := len(runsOf(t, s, "etl")); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

func TestSchedulerForgetsDeletedJobs(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC)
	clock := &testClock{t: t0}
	s := newTestService(t, clock)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, alice, DefaultVC, scheduledJob("etl", Schedule{Enabled: true, CronExpression: "*/5 * * * *"})); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteJob(ctx, alice, DefaultVC, "etl"); err != nil {
		t.Fatal(err)
	}
	fireAt(t, s, clock, t0.Add(time.Hour))
	if n := len(runsOf(t, s, "etl")); n != 0 {
		t.Fatalf("%d runs of a deleted job", n)
	}
	if _, err := s.db.Read().GetScheduleState(ctx, DefaultVC, "etl"); err == nil {
		t.Fatal("the schedule state of a deleted job is still there")
	}
}
