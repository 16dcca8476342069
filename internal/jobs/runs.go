package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/listquery"
	"github.com/herdhq/herd/internal/store"
)

// Run states, exactly as CDE clients expect them.
const (
	RunStarting  = store.RunStarting
	RunRunning   = store.RunRunning
	RunSucceeded = store.RunSucceeded
	RunFailed    = store.RunFailed
	RunKilled    = store.RunKilled
	RunUnknown   = store.RunUnknown
)

// SchedulerUser runs the scheduled runs of a schedule without a user.
const SchedulerUser = "scheduler"

// RunSpec is what a run executes: the job as it was when the run was
// accepted, with the run's overrides merged and its variables filled in.
type RunSpec struct {
	Spark                    *Spark            `json:"spark,omitempty"`
	Mounts                   []Mount           `json:"mounts"`
	WorkloadCredentials      []string          `json:"workloadCredentials,omitempty"`
	RuntimeImageResourceName string            `json:"runtimeImageResourceName,omitempty"`
	Variables                map[string]string `json:"variables,omitempty"`
	Hidden                   bool              `json:"hidden,omitempty"`
}

// Run is a run of a job.
type Run struct {
	vc          string
	ID          int64
	Job         string
	Type        string
	Status      string
	User        string
	RequestID   string
	Spec        RunSpec
	Retention   string
	Created     time.Time // accepted
	Started     time.Time // process started; zero before
	Ended       time.Time // zero while live
	SparkAppID  string
	SparkAppURL string
	ExitCode    *int
	Reason      string
	LogTail     string
}

func runFromRow(r store.RunRow) (Run, error) {
	var spec RunSpec
	if err := json.Unmarshal([]byte(r.Spec), &spec); err != nil {
		return Run{}, fmt.Errorf("decode run %d: %w", r.ID, err)
	}
	if spec.Mounts == nil {
		spec.Mounts = []Mount{}
	}
	return Run{
		vc: r.VCID, ID: r.ID, Job: r.JobName, Type: r.Type, Status: r.Status, User: r.User, RequestID: r.RequestID,
		Spec: spec, Retention: r.Retention, Created: r.CreatedAt, Started: r.StartedAt, Ended: r.EndedAt,
		SparkAppID: r.SparkAppID, SparkAppURL: r.SparkAppURL, ExitCode: r.ExitCode, Reason: r.Reason, LogTail: r.LogTail,
	}, nil
}

// RunRequest is what starting a run takes; all of it is optional.
type RunRequest struct {
	// SparkOverrides is a JSON merge patch over the job's spark section.
	SparkOverrides json.RawMessage
	// Variables fill {{ name }} placeholders, over the job's defaults.
	Variables map[string]string
	// RequestID makes the call idempotent: a second run with the same id is
	// not started; the first one's id is returned with a Conflict.
	RequestID string
	Hidden    bool
}

// DuplicateRunError is the Conflict of a repeated request id; it carries the
// id of the run the first request started.
type DuplicateRunError struct{ ID int64 }

func (e *DuplicateRunError) Error() string {
	return fmt.Sprintf("a run with this requestID exists already: run %d", e.ID)
}

const maxRequestIDLen = 512

// RunJob accepts a run of a job; the run starts when a slot is free.
// A repeated request id answers a *DuplicateRunError (kind Conflict).
func (s *Service) RunJob(ctx context.Context, p auth.Principal, vc, job string, req RunRequest) (Run, error) {
	if err := requireWrite(p); err != nil {
		return Run{}, err
	}
	var run Run
	err := s.db.InTx(ctx, func(q *store.Queries) (err error) {
		run, err = s.acceptRun(ctx, q, vc, job, p.User, req)
		return err
	})
	if err != nil {
		return Run{}, err
	}
	s.log.Info("run accepted", "vc", vc, "job", job, "run", run.ID, "user", p.User)
	s.dispatch.wake()
	return run, nil
}

// acceptRun stores a new run in a write transaction.
func (s *Service) acceptRun(ctx context.Context, q *store.Queries, vc, job, user string, req RunRequest) (Run, error) {
	if len(req.RequestID) > maxRequestIDLen {
		return Run{}, apperr.New(apperr.Invalid, "requestID is longer than %d characters", maxRequestIDLen)
	}
	if req.RequestID != "" {
		prev, err := q.GetRunByRequest(ctx, vc, req.RequestID)
		if err == nil {
			return Run{}, apperr.Wrap(apperr.Conflict, &DuplicateRunError{ID: prev.ID}, (&DuplicateRunError{ID: prev.ID}).Error())
		}
		if !errors.Is(err, store.ErrNotFound) {
			return Run{}, err
		}
	}
	row, err := q.GetJob(ctx, vc, job)
	if err != nil {
		return Run{}, notFound(err, "job", job)
	}
	j, err := s.jobFromRow(row)
	if err != nil {
		return Run{}, err
	}
	if j.Type != TypeSpark {
		return Run{}, apperr.New(apperr.Invalid, "job %q is an %s job: Herd runs Spark jobs only", job, j.Type)
	}
	spec, err := runSpec(j.Definition, req)
	if err != nil {
		return Run{}, err
	}
	doc, err := json.Marshal(spec)
	if err != nil {
		return Run{}, fmt.Errorf("encode run: %w", err)
	}
	now := s.now()
	id, err := q.InsertRun(ctx, store.RunRow{
		VCID: vc, JobName: job, Type: j.Type, Status: RunStarting, User: user, RequestID: req.RequestID,
		Spec: string(doc), Retention: j.RetentionPolicy, CreatedAt: now,
	})
	if err != nil {
		return Run{}, err
	}
	if err := q.TouchJob(ctx, vc, job, now); err != nil {
		return Run{}, err
	}
	r, err := q.GetRun(ctx, vc, id)
	if err != nil {
		return Run{}, err
	}
	return runFromRow(r)
}

// runSpec merges a run request into its job: overrides over spark (key by
// key, as a JSON merge patch), variables over the job's defaults, then the
// placeholders filled; the result is checked as a job would be.
func runSpec(d Definition, req RunRequest) (RunSpec, error) {
	if len(req.SparkOverrides) > 0 && string(req.SparkOverrides) != "null" {
		cur, err := json.Marshal(d.Spark)
		if err != nil {
			return RunSpec{}, fmt.Errorf("encode spark: %w", err)
		}
		merged, err := MergePatch(cur, req.SparkOverrides)
		if err != nil {
			return RunSpec{}, err
		}
		var sp Spark
		if err := json.Unmarshal(merged, &sp); err != nil {
			return RunSpec{}, apperr.FromJSON(err)
		}
		d.Spark = &sp
		d.WorkloadCredentials = mergeNames(d.WorkloadCredentials, sp.WorkloadCredentials)
	}
	vars := map[string]string{}
	for k, v := range d.DefaultVariables {
		vars[k] = v
	}
	for k, v := range req.Variables {
		if !varNameRE.MatchString(k) {
			return RunSpec{}, apperr.New(apperr.Invalid, "variables: %q is not a variable name", k)
		}
		vars[k] = v
	}
	if d.Spark != nil {
		d.Spark.Name = fill(d.Spark.Name, vars)
		for i, a := range d.Spark.Args {
			d.Spark.Args[i] = fill(a, vars)
		}
		for k, v := range d.Spark.Conf {
			d.Spark.Conf[k] = fill(v, vars)
		}
	}
	var p problems
	if d.Spark == nil {
		p.add("spark is required")
	} else {
		d.Spark.normalize(&p)
	}
	if err := p.err("invalid run of job " + quote(d.Name)); err != nil {
		return RunSpec{}, err
	}
	if len(vars) == 0 {
		vars = nil
	}
	return RunSpec{
		Spark: d.Spark, Mounts: d.Mounts, WorkloadCredentials: d.WorkloadCredentials,
		RuntimeImageResourceName: d.RuntimeImageResourceName, Variables: vars, Hidden: req.Hidden,
	}, nil
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}`)

// fill replaces {{ name }} by the variable's value; unknown names stay.
func fill(s string, vars map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[placeholderRE.FindStringSubmatch(m)[1]]; ok {
			return v
		}
		return m
	})
}

// GetRun returns a run.
func (s *Service) GetRun(ctx context.Context, vc string, id int64) (Run, error) {
	row, err := s.db.Read().GetRun(ctx, vc, id)
	if err != nil {
		return Run{}, notFound(err, "run", fmt.Sprint(id))
	}
	return runFromRow(row)
}

// ListRuns returns the runs of a virtual cluster that match params.
func (s *Service) ListRuns(ctx context.Context, vc string, params url.Values) ([]Run, Page, error) {
	lq, err := listquery.Parse(store.RunListSchema, params)
	if err != nil {
		return nil, Page{}, err
	}
	var rows []store.RunRow
	var total int
	if err := s.db.ReadTx(ctx, func(q *store.Queries) (err error) {
		rows, total, err = q.ListRuns(ctx, vc, lq)
		return err
	}); err != nil {
		return nil, Page{}, err
	}
	out := make([]Run, len(rows))
	for i, r := range rows {
		if out[i], err = runFromRow(r); err != nil {
			return nil, Page{}, err
		}
	}
	return out, newPage(lq, len(out), total), nil
}

// KillRun stops a run: a run still waiting ends killed at once; a live one
// is stopped with its whole process tree and ends killed when it is gone.
// Killing a run that has ended changes nothing.
func (s *Service) KillRun(ctx context.Context, p auth.Principal, vc string, id int64) (Run, error) {
	if err := requireWrite(p); err != nil {
		return Run{}, err
	}
	if err := s.dispatch.kill(ctx, vc, id); err != nil {
		return Run{}, err
	}
	s.log.Info("run kill requested", "vc", vc, "run", id, "user", p.User)
	return s.GetRun(ctx, vc, id)
}
