package jobs

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 2, 30, 0, time.UTC)
	tests := []struct {
		name string
		s    Schedule
		want string // "" for none
	}{
		{"every five minutes", Schedule{Enabled: true, CronExpression: "*/5 * * * *"}, "2026-11-23T10:05:00Z"},
		{"daily", Schedule{Enabled: true, CronExpression: "@daily"}, "2026-11-24T00:00:00Z"},
		{"disabled", Schedule{Enabled: false, CronExpression: "*/5 * * * *"}, ""},
		{"paused", Schedule{Enabled: true, Paused: true, CronExpression: "*/5 * * * *"}, ""},
		{"future start counts itself", Schedule{Enabled: true, CronExpression: "0 12 * * *", Start: "2026-12-01T12:00:00Z"}, "2026-12-01T12:00:00Z"},
		{"start in HTTP date form", Schedule{Enabled: true, CronExpression: "0 * * * *", Start: "Tue, 01 Dec 2026 12:30:00 GMT"}, "2026-12-01T13:00:00Z"},
		{"after the end", Schedule{Enabled: true, CronExpression: "0 12 * * *", End: "2026-11-23T11:00:00Z"}, ""},
		{"once in the future", Schedule{Enabled: true, CronExpression: "@once", Start: "2026-11-24T08:00:00Z"}, "2026-11-24T08:00:00Z"},
		{"once in the past", Schedule{Enabled: true, CronExpression: "@once", Start: "2026-11-22T08:00:00Z"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, ok := tc.s.Next(now)
			got := ""
			if ok {
				got = next.Format(time.RFC3339)
			}
			if got != tc.want {
				t.Fatalf("Next = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScheduleValidation(t *testing.T) {
	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{Enabled: true}, "cronExpression is required"},
		{Schedule{Enabled: true, CronExpression: "61 * * * *"}, "cronExpression"},
		{Schedule{Enabled: true, CronExpression: "every day"}, "cronExpression"},
		{Schedule{Enabled: true, CronExpression: "@daily", Start: "tomorrow"}, "schedule.start"},
		{Schedule{Enabled: true, CronExpression: "@daily", Start: "2026-12-02T00:00:00Z", End: "2026-12-01T00:00:00Z"}, "not after"},
	} {
		var p problems
		s := tc.s
		s.normalize("alice", &p)
		if len(p) == 0 || !strings.Contains(strings.Join(p, ";"), tc.want) {
			t.Errorf("%+v: problems %v, want %q", tc.s, p, tc.want)
		}
	}
	s := Schedule{Enabled: true, CronExpression: "0 5 * * 1-5"}
	var p problems
	s.normalize("alice", &p)
	if len(p) != 0 || s.User != "alice" {
		t.Fatalf("valid schedule: %v, user %q", p, s.User)
	}
}
