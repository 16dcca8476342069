package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
)

func TestRunSpec(t *testing.T) {
	job := Definition{
		Name: "etl", Type: TypeSpark,
		Spark: &Spark{
			File: "main.py", Name: "etl {{ day }}", Args: []string{"--in", "{{inputdir}}", "{{ missing }}"},
			Conf:          map[string]string{"spark.a": "1", "spark.path": "/data/{{ day }}"},
			ExecutorCores: ptr(2), DriverMemory: "1g",
		},
		DefaultVariables: map[string]string{"day": "monday", "inputdir": "/in"},
	}
	tests := []struct {
		name string
		req  RunRequest
		want func(RunSpec) bool
		kind apperr.Kind // of the error; Internal for none
	}{
		{"no request: the job with its defaults filled", RunRequest{}, func(s RunSpec) bool {
			return s.Spark.Name == "etl monday" && s.Spark.Args[1] == "/in" && s.Spark.Args[2] == "{{ missing }}" &&
				s.Spark.Conf["spark.path"] == "/data/monday" && s.Variables["day"] == "monday"
		}, apperr.Internal},
		{"variables win over the defaults", RunRequest{Variables: map[string]string{"day": "friday"}}, func(s RunSpec) bool {
			return s.Spark.Name == "etl friday" && s.Spark.Conf["spark.path"] == "/data/friday"
		}, apperr.Internal},
		{"an override changes one size and keeps the conf", RunRequest{SparkOverrides: json.RawMessage(`{"executorCores": 4}`)}, func(s RunSpec) bool {
			return *s.Spark.ExecutorCores == 4 && s.Spark.Conf["spark.a"] == "1" && s.Spark.DriverMemory == "1g"
		}, apperr.Internal},
		{"conf keys are overridden one by one", RunRequest{SparkOverrides: json.RawMessage(`{"conf": {"spark.b": "2", "spark.a": null}}`)}, func(s RunSpec) bool {
			_, hasA := s.Spark.Conf["spark.a"]
			return !hasA && s.Spark.Conf["spark.b"] == "2" && s.Spark.Conf["spark.path"] == "/data/monday"
		}, apperr.Internal},
		{"a null override is no override", RunRequest{SparkOverrides: json.RawMessage(`null`)}, func(s RunSpec) bool {
			return *s.Spark.ExecutorCores == 2
		}, apperr.Internal},
		{"an override of the wrong type", RunRequest{SparkOverrides: json.RawMessage(`{"executorCores": "four"}`)}, nil, apperr.Invalid},
		{"an override that breaks the job", RunRequest{SparkOverrides: json.RawMessage(`{"executorCores": 0}`)}, nil, apperr.Invalid},
		{"removing the file", RunRequest{SparkOverrides: json.RawMessage(`{"file": null}`)}, nil, apperr.Invalid},
		{"a bad variable name", RunRequest{Variables: map[string]string{"no spaces": "x"}}, nil, apperr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := job
			d.Spark = cloneSpark(t, job.Spark)
			got, err := runSpec(d, tc.req)
			if tc.kind != apperr.Internal {
				if apperr.KindOf(err) != tc.kind {
					t.Fatalf("err %v (kind %v), want kind %v", err, apperr.KindOf(err), tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(got) {
				b, _ := json.Marshal(got)
				t.Fatalf("unexpected run spec %s", b)
			}
			if job.Spark.Name != "etl {{ day }}" || job.Spark.Args[1] != "{{inputdir}}" {
				t.Fatal("runSpec changed the job")
			}
		})
	}
}

func cloneSpark(t *testing.T, sp *Spark) *Spark {
	t.Helper()
	b, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	var out Spark
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestRunJobRequestID(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	s := newTestService(t, clock)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, alice, DefaultVC, Definition{Name: "etl", Type: TypeSpark, Spark: &Spark{File: "local:/app.py"}}); err != nil {
		t.Fatal(err)
	}
	first, err := s.RunJob(ctx, alice, DefaultVC, "etl", RunRequest{RequestID: "dag#run#task#1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RunJob(ctx, alice, DefaultVC, "etl", RunRequest{RequestID: "dag#run#task#1"})
	var dup *DuplicateRunError
	if !errors.As(err, &dup) || dup.ID != first.ID || apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("repeat: err %v, want a Conflict naming run %d", err, first.ID)
	}
	if _, err := s.RunJob(ctx, alice, DefaultVC, "etl", RunRequest{RequestID: "dag#run#task#2"}); err != nil {
		t.Fatal(err)
	}
	if n := len(runsOf(t, s, "etl")); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
	j, err := s.GetJob(ctx, DefaultVC, "etl")
	if err != nil {
		t.Fatal(err)
	}
	if !j.LastUsed.Equal(clock.Now()) {
		t.Errorf("lastUsed %v, want %v", j.LastUsed, clock.Now())
	}
}

func TestRunJobRefusals(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	s := newTestService(t, clock)
	ctx := context.Background()
	readOnly := alice
	readOnly.Role = auth.RoleReadOnly
	tests := []struct {
		name string
		p    func() error
		kind apperr.Kind
	}{
		{"no such job", func() error { _, err := s.RunJob(ctx, alice, DefaultVC, "nope", RunRequest{}); return err }, apperr.NotFound},
		{"read-only user", func() error { _, err := s.RunJob(ctx, readOnly, DefaultVC, "nope", RunRequest{}); return err }, apperr.Forbidden},
		{"request id too long", func() error {
			_, err := s.RunJob(ctx, alice, DefaultVC, "nope", RunRequest{RequestID: string(make([]byte, 513))})
			return err
		}, apperr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p(); apperr.KindOf(err) != tc.kind {
				t.Fatalf("err %v, want kind %v", err, tc.kind)
			}
		})
	}
	if n := len(runsOf(t, s, "nope")); n != 0 {
		t.Fatalf("%d runs after refusals", n)
	}
}

// FuzzRunSpec: any override and variables either give a valid run of the
// job or an Invalid error; never a panic or another kind of error.
func FuzzRunSpec(f *testing.F) {
	f.Add(`{"executorCores": 4}`, "day", "monday")
	f.Add(`{"conf": {"spark.a": null, "spark.b": "{{ day }}"}}`, "day", "{{ day }}")
	f.Add(`{"file": null}`, "", "")
	f.Add(`[1, 2]`, "x y", "z")
	f.Fuzz(func(t *testing.T, override, name, value string) {
		job := Definition{Name: "etl", Type: TypeSpark, Spark: &Spark{
			File: "main.py", Name: "{{ day }}", Args: []string{"{{day}}", "x"}, Conf: map[string]string{"spark.a": "{{ day }}"},
		}}
		spec, err := runSpec(job, RunRequest{SparkOverrides: json.RawMessage(override), Variables: map[string]string{name: value}})
		if err != nil {
			if apperr.KindOf(err) != apperr.Invalid {
				t.Fatalf("error of kind %v: %v", apperr.KindOf(err), err)
			}
			return
		}
		if spec.Spark == nil || spec.Spark.File == "" {
			t.Fatalf("a run without a file: %+v", spec)
		}
	})
}

func TestKillWaitingRun(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	s := newTestService(t, clock)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, alice, DefaultVC, Definition{Name: "etl", Type: TypeSpark, Spark: &Spark{File: "local:/app.py"}}); err != nil {
		t.Fatal(err)
	}
	r, err := s.RunJob(ctx, alice, DefaultVC, "etl", RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(time.Minute))
	for range 2 { // a second kill changes nothing
		killed, err := s.KillRun(ctx, alice, DefaultVC, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if killed.Status != RunKilled || killed.Reason != "killed before it started" || !killed.Ended.Equal(clock.Now()) {
			t.Fatalf("killed run %+v", killed)
		}
	}
	if _, err := s.KillRun(ctx, alice, DefaultVC, r.ID+1); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("kill of a missing run: %v", err)
	}
}
