package jobs

import (
	"errors"
	"net/http"
	"time"

	"github.com/robfig/cron/v3"
)

// OnceExpression runs a job once, at the schedule's start.
const OnceExpression = "@once"

// cronParser accepts standard five-field expressions and the @ descriptors
// (@hourly, @daily, @weekly, @monthly, @yearly, @every 1h…).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func parseCron(expr string) (cron.Schedule, error) {
	if expr == OnceExpression {
		return nil, nil
	}
	return cronParser.Parse(expr)
}

// scheduleTimeLayouts are the forms clients store start and end in: RFC 3339
// (with or without fractions) and the HTTP date CDE shows.
var scheduleTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", http.TimeFormat, time.RFC1123Z}

func parseScheduleTime(s string) (time.Time, error) {
	for _, layout := range scheduleTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time: use RFC 3339, such as 2024-06-07T19:18:13Z")
}

// NextExecutionFormat is how nextExecution is written.
const NextExecutionFormat = "2006-01-02T15:04:05.000000Z"

// Next returns the schedule's first execution strictly after after, or
// false when there is none (disabled, paused, past its end, or @once
// already done). The schedule must have passed validation.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	if s == nil || !s.Enabled || s.Paused {
		return time.Time{}, false
	}
	return s.due(after)
}

// startTime returns the schedule's start, if it has one.
func (s *Schedule) startTime() (time.Time, bool) {
	if s.Start == "" {
		return time.Time{}, false
	}
	t, err := parseScheduleTime(s.Start)
	return t, err == nil
}

// due returns the first cron time strictly after after within the
// schedule's start and end, whether or not the schedule is paused.
func (s *Schedule) due(after time.Time) (time.Time, bool) {
	start, _ := s.startTime()
	var end time.Time
	if s.End != "" {
		end, _ = parseScheduleTime(s.End)
	}
	sched, err := parseCron(s.CronExpression)
	if err != nil {
		return time.Time{}, false
	}
	var next time.Time
	if sched == nil { // @once: at the start
		if start.IsZero() || !start.After(after) {
			return time.Time{}, false
		}
		next = start
	} else {
		from := after
		if start.After(from) {
			from = start.Add(-time.Nanosecond) // the start itself may match
		}
		next = sched.Next(from)
	}
	if next.IsZero() || (!end.IsZero() && next.After(end)) {
		return time.Time{}, false
	}
	return next.UTC(), true
}
