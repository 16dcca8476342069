package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/store"
)

// Job is a stored job.
type Job struct {
	Definition
	CreatedBy string
	Created   time.Time
	Modified  time.Time
	LastUsed  time.Time // zero until a run uses it
}

// jobFromRow decodes a stored job and fills its computed fields.
func (s *Service) jobFromRow(r store.JobRow) (Job, error) {
	var d Definition
	if err := json.Unmarshal([]byte(r.Spec), &d); err != nil {
		return Job{}, fmt.Errorf("decode job %s: %w", r.Name, err)
	}
	if d.Mounts == nil {
		d.Mounts = []Mount{}
	}
	if next, ok := d.Schedule.Next(s.now()); ok {
		d.Schedule.NextExecution = next.Format(NextExecutionFormat)
	}
	return Job{Definition: d, CreatedBy: r.CreatedBy, Created: r.CreatedAt, Modified: r.ModifiedAt, LastUsed: r.LastUsedAt}, nil
}

// CreateJob validates and stores a new job.
func (s *Service) CreateJob(ctx context.Context, p auth.Principal, vc string, d Definition) (Job, error) {
	if err := requireWrite(p); err != nil {
		return Job{}, err
	}
	if err := d.normalize(p.User); err != nil {
		return Job{}, err
	}
	if d.Schedule != nil && d.Schedule.PausedUponCreation {
		d.Schedule.Paused = true
	}
	now := s.now()
	var row store.JobRow
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		spec, refs, err := s.resolve(ctx, q, vc, &d)
		if err != nil {
			return err
		}
		row = store.JobRow{VCID: vc, Name: d.Name, Type: d.Type, Spec: spec, CreatedBy: p.User, CreatedAt: now, ModifiedAt: now}
		if err := q.InsertJob(ctx, row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return apperr.New(apperr.Conflict, "job %q already exists", d.Name)
			}
			return err
		}
		if err := q.SetJobRefs(ctx, vc, d.Name, refs); err != nil {
			return err
		}
		return syncSchedule(ctx, q, vc, d, now)
	})
	if err != nil {
		return Job{}, err
	}
	s.log.Info("job created", "vc", vc, "job", d.Name, "type", d.Type, "user", p.User)
	return s.jobFromRow(row)
}

// GetJob returns a job.
func (s *Service) GetJob(ctx context.Context, vc, name string) (Job, error) {
	row, err := s.db.Read().GetJob(ctx, vc, name)
	if err != nil {
		return Job{}, notFound(err, "job", name)
	}
	return s.jobFromRow(row)
}

// PatchJob applies a JSON merge patch to a job. The job keeps its name and
// type; everything else may change and is validated again as a whole.
func (s *Service) PatchJob(ctx context.Context, p auth.Principal, vc, name string, patch []byte) (Job, error) {
	if err := requireWrite(p); err != nil {
		return Job{}, err
	}
	var row store.JobRow
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetJob(ctx, vc, name)
		if err != nil {
			return notFound(err, "job", name)
		}
		merged, err := MergePatch([]byte(cur.Spec), patch)
		if err != nil {
			return err
		}
		d, err := decodeDefinition(merged)
		if err != nil {
			return err
		}
		if d.Name != name {
			return apperr.New(apperr.Invalid, "a job cannot be renamed (name %q in the patch, %q in the path)", d.Name, name)
		}
		if d.Type != cur.Type {
			return apperr.New(apperr.Invalid, "a job cannot change type (from %s to %q); create a new job", cur.Type, d.Type)
		}
		owner := cur.CreatedBy
		if err := d.normalize(owner); err != nil {
			return err
		}
		spec, refs, err := s.resolve(ctx, q, vc, &d)
		if err != nil {
			return err
		}
		now := s.now()
		if err := q.UpdateJobSpec(ctx, vc, name, spec, now); err != nil {
			return err
		}
		if err := q.SetJobRefs(ctx, vc, name, refs); err != nil {
			return err
		}
		if err := syncSchedule(ctx, q, vc, d, now); err != nil {
			return err
		}
		cur.Spec, cur.ModifiedAt = spec, now
		row = cur
		return nil
	})
	if err != nil {
		return Job{}, err
	}
	s.log.Info("job updated", "vc", vc, "job", name, "user", p.User)
	return s.jobFromRow(row)
}

// decodeDefinition reads a job document, naming the field of a type error.
func decodeDefinition(b []byte) (Definition, error) {
	var d Definition
	if err := json.Unmarshal(b, &d); err != nil {
		return Definition{}, apperr.FromJSON(err)
	}
	return d, nil
}

// DeleteJob removes a job.
func (s *Service) DeleteJob(ctx context.Context, p auth.Principal, vc, name string) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		return notFound(q.DeleteJob(ctx, vc, name), "job", name)
	})
	if err != nil {
		return err
	}
	s.log.Info("job deleted", "vc", vc, "job", name, "user", p.User)
	return nil
}

// SetPaused pauses or unpauses the schedule of one job.
func (s *Service) SetPaused(ctx context.Context, p auth.Principal, vc, name string, paused bool) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetJob(ctx, vc, name)
		if err != nil {
			return notFound(err, "job", name)
		}
		changed, err := setPaused(ctx, q, s.now(), cur, paused)
		if err != nil {
			return err
		}
		if !changed {
			return apperr.New(apperr.Invalid, "job %q has no enabled schedule to pause or unpause", name)
		}
		return nil
	})
}

// SetPausedAll pauses or unpauses every enabled schedule of a virtual
// cluster and returns how many jobs it changed.
func (s *Service) SetPausedAll(ctx context.Context, p auth.Principal, vc string, paused bool) (int, error) {
	if err := requireWrite(p); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		rows, err := q.JobsWithSchedules(ctx, vc)
		if err != nil {
			return err
		}
		now := s.now()
		for _, r := range rows {
			changed, err := setPaused(ctx, q, now, r, paused)
			if err != nil {
				return err
			}
			if changed {
				n++
			}
		}
		return nil
	})
	if err == nil {
		s.log.Info("schedules changed", "vc", vc, "paused", paused, "jobs", n, "user", p.User)
	}
	return n, err
}

// setPaused sets the paused flag of an enabled schedule; it reports false
// for a job without one.
func setPaused(ctx context.Context, q *store.Queries, now time.Time, r store.JobRow, paused bool) (bool, error) {
	var d Definition
	if err := json.Unmarshal([]byte(r.Spec), &d); err != nil {
		return false, fmt.Errorf("decode job %s: %w", r.Name, err)
	}
	if d.Schedule == nil || !d.Schedule.Enabled {
		return false, nil
	}
	if d.Schedule.Paused == paused {
		return true, nil
	}
	d.Schedule.Paused = paused
	spec, err := json.Marshal(d)
	if err != nil {
		return false, fmt.Errorf("encode job: %w", err)
	}
	if err := q.UpdateJobSpec(ctx, r.VCID, r.Name, string(spec), now); err != nil {
		return false, err
	}
	return true, syncSchedule(ctx, q, r.VCID, d, now)
}

// resolve checks a normalized job against the store and encodes it: the
// document to store and the references to record.
func (s *Service) resolve(ctx context.Context, q *store.Queries, vc string, d *Definition) (string, []store.Ref, error) {
	refs, err := s.checkRefs(ctx, q, vc, d)
	if err != nil {
		return "", nil, err
	}
	spec, err := json.Marshal(d)
	if err != nil {
		return "", nil, fmt.Errorf("encode job: %w", err)
	}
	return string(spec), refs, nil
}

// checkRefs makes sure everything a job names exists and has the right
// type, computes the DAG id of an Airflow job, and returns the references
// to record. Every missing or wrong reference is reported at once.
func (s *Service) checkRefs(ctx context.Context, q *store.Queries, vc string, d *Definition) ([]store.Ref, error) {
	var p problems
	var refs []store.Ref
	resource := func(field, name, wantType string) *store.ResourceRow {
		refs = append(refs, store.Ref{Kind: "resource", Name: name})
		r, err := q.GetResource(ctx, vc, name)
		if errors.Is(err, store.ErrNotFound) {
			p.add("%s: resource %q does not exist", field, name)
			return nil
		}
		if err != nil {
			p.add("%s: %v", field, err)
			return nil
		}
		if r.Type != wantType {
			p.add("%s: resource %q is of type %s, not %s", field, name, r.Type, wantType)
			return nil
		}
		return &r
	}
	for i, m := range d.Mounts {
		resource(fmt.Sprintf("mounts[%d]", i), m.ResourceName, ResourceFiles)
	}
	if d.Spark != nil && d.Spark.PythonEnvResourceName != "" {
		resource("spark.pythonEnvResourceName", d.Spark.PythonEnvResourceName, ResourcePythonEnv)
	}
	if d.RuntimeImageResourceName != "" {
		resource("runtimeImageResourceName", d.RuntimeImageResourceName, ResourceRuntimeImage)
	}
	if d.Airflow != nil {
		for i, m := range d.Airflow.FileMounts {
			resource(fmt.Sprintf("airflow.fileMounts[%d]", i), m.ResourceName, ResourceFiles)
		}
	}
	for _, c := range d.WorkloadCredentials {
		refs = append(refs, store.Ref{Kind: "credential", Name: c})
		cr, err := q.GetCredential(ctx, vc, c)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.add("workloadCredentials: credential %q does not exist", c)
		case err != nil:
			return nil, err
		case cr.Type != CredentialWorkload:
			p.add("workloadCredentials: credential %q is of type %s, not %s", c, cr.Type, CredentialWorkload)
		}
	}
	if len(p) == 0 && d.Type == TypeAirflow {
		if err := s.findDAG(ctx, q, vc, d, &p); err != nil {
			return nil, err
		}
	}
	return refs, p.err("invalid job " + quote(d.Name))
}

// findDAG looks for the DAG file in the job's mounts and reads its dag_id.
func (s *Service) findDAG(ctx context.Context, q *store.Queries, vc string, d *Definition, p *problems) error {
	for _, m := range d.Mounts {
		rel, ok := strings.CutPrefix(d.Airflow.DagFile, m.DirPrefix)
		if !ok {
			continue
		}
		f, err := q.GetResourceFile(ctx, vc, m.ResourceName, rel)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		d.Airflow.DagID = s.dagID(f.BlobID, d.Name)
		return nil
	}
	p.add("airflow.dagFile %q is in none of the job's mounted resources; upload it first", d.Airflow.DagFile)
	return nil
}

var dagIDRE = regexp.MustCompile(`dag_id\s*=\s*["']([A-Za-z0-9_.-]+)["']|DAG\(\s*["']([A-Za-z0-9_.-]+)["']`)

// dagID reads the dag_id a DAG file declares, or falls back to the job name.
func (s *Service) dagID(blobID, fallback string) string {
	f, err := s.blobs.Open(blobID)
	if err != nil {
		return fallback
	}
	defer f.Close()
	head, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	if m := dagIDRE.FindSubmatch(head); m != nil {
		if len(m[1]) > 0 {
			return string(m[1])
		}
		return string(m[2])
	}
	return fallback
}
