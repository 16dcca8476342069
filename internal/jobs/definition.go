package jobs

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/apperr"
)

// Job types.
const (
	TypeSpark   = "spark"
	TypeAirflow = "airflow"
)

// Retention policies of jobs and resources.
const (
	KeepIndefinitely = "keep_indefinitely"
	DeleteAfterRun   = "delete_after_run"
)

// Definition is a job as clients write it and read it back, the document
// stored for each job. Fields Herd does not interpret but CDE defines
// (pipeline, alerting, dataConnectors) are kept as they came.
type Definition struct {
	Name                     string            `json:"name"`
	Type                     string            `json:"type"`
	RetentionPolicy          string            `json:"retentionPolicy"`
	Mounts                   []Mount           `json:"mounts"`
	Spark                    *Spark            `json:"spark,omitempty"`
	Airflow                  *Airflow          `json:"airflow,omitempty"`
	Schedule                 *Schedule         `json:"schedule,omitempty"`
	WorkloadCredentials      []string          `json:"workloadCredentials,omitempty"`
	RuntimeImageResourceName string            `json:"runtimeImageResourceName,omitempty"`
	DefaultVariables         map[string]string `json:"defaultVariables,omitempty"`
	Hidden                   bool              `json:"hidden,omitempty"`
	Pipeline                 json.RawMessage   `json:"pipeline,omitempty"`
	Alerting                 json.RawMessage   `json:"alerting,omitempty"`
	DataConnectors           json.RawMessage   `json:"dataConnectors,omitempty"`
}

// Mount makes a files resource visible to a job under DirPrefix.
type Mount struct {
	ResourceName string `json:"resourceName"`
	DirPrefix    string `json:"dirPrefix,omitempty"`
}

// Spark is the Spark part of a job.
type Spark struct {
	File                  string            `json:"file"`
	ClassName             string            `json:"className,omitempty"`
	Args                  []string          `json:"args,omitempty"`
	Conf                  map[string]string `json:"conf,omitempty"`
	DriverCores           *int              `json:"driverCores,omitempty"`
	DriverMemory          string            `json:"driverMemory,omitempty"`
	ExecutorCores         *int              `json:"executorCores,omitempty"`
	ExecutorMemory        string            `json:"executorMemory,omitempty"`
	NumExecutors          *int              `json:"numExecutors,omitempty"`
	PyFiles               []string          `json:"pyFiles,omitempty"`
	Jars                  []string          `json:"jars,omitempty"`
	Files                 []string          `json:"files,omitempty"`
	LogLevel              string            `json:"logLevel,omitempty"`
	Name                  string            `json:"name,omitempty"`
	ProxyUser             string            `json:"proxyUser,omitempty"`
	PythonEnvResourceName string            `json:"pythonEnvResourceName,omitempty"`
	// WorkloadCredentials is accepted here because some clients (cdepy) put
	// it inside spark; it is moved to the job's top level.
	WorkloadCredentials []string `json:"workloadCredentials,omitempty"`
}

// Airflow is the Airflow part of a job.
type Airflow struct {
	DagFile    string            `json:"dagFile"`
	DagID      string            `json:"dagID,omitempty"` // output: the dag_id found in the DAG file
	Conf       map[string]any    `json:"conf,omitempty"`
	Config     map[string]string `json:"config,omitempty"`
	FileMounts []Mount           `json:"fileMounts,omitempty"`
}

// Schedule says when a job runs by itself.
type Schedule struct {
	Enabled            bool   `json:"enabled"`
	User               string `json:"user,omitempty"`
	CronExpression     string `json:"cronExpression,omitempty"`
	Start              string `json:"start,omitempty"`
	End                string `json:"end,omitempty"`
	Paused             bool   `json:"paused"`
	PausedUponCreation bool   `json:"pausedUponCreation,omitempty"`
	Catchup            bool   `json:"catchup"`
	DependsOnPast      bool   `json:"dependsOnPast"`
	NextExecution      string `json:"nextExecution,omitempty"` // output only
}

// Spark defaults filled in at creation, as CDE shows them.
const (
	defaultCores  = 1
	defaultMemory = "1g"
)

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	memoryRE   = regexp.MustCompile(`^[0-9]+[kmgtpKMGTP]?[bB]?$`)
	logLevels  = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF", "ALL"}
	varNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	schemeRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	maxListLen = 1000
)

// ValidName checks the name of a job, resource or credential.
func ValidName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return apperr.New(apperr.Invalid,
			"invalid %s name %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", kind, name)
	}
	return nil
}

// problems collects validation messages, reported together.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err(subject string) error {
	if len(p) == 0 {
		return nil
	}
	return apperr.New(apperr.Invalid, "%s: %s", subject, strings.Join(p, "; "))
}

// normalize fills defaults and moves fields to their canonical place, then
// checks everything that does not need the store. creator is the user who
// creates (or owns) the job; now is used to check schedule times.
func (d *Definition) normalize(creator string) error {
	var p problems
	if err := ValidName("job", d.Name); err != nil {
		return err
	}
	if d.RetentionPolicy == "" {
		d.RetentionPolicy = KeepIndefinitely
	}
	if d.RetentionPolicy != KeepIndefinitely && d.RetentionPolicy != DeleteAfterRun {
		p.add("retentionPolicy %q is not one of %s, %s", d.RetentionPolicy, KeepIndefinitely, DeleteAfterRun)
	}
	if d.Mounts == nil {
		d.Mounts = []Mount{}
	}
	for _, raw := range []*json.RawMessage{&d.Pipeline, &d.Alerting, &d.DataConnectors} {
		if string(*raw) == "null" {
			*raw = nil // an explicit null is the same as leaving the field out
		}
	}
	normalizeMounts("mounts", d.Mounts, &p)
	switch d.Type {
	case TypeSpark:
		if d.Airflow != nil {
			p.add("a spark job has no airflow section")
		}
		if d.Spark == nil {
			p.add("spark is required for a spark job")
		} else {
			d.WorkloadCredentials = mergeNames(d.WorkloadCredentials, d.Spark.WorkloadCredentials)
			d.Spark.WorkloadCredentials = nil
			d.Spark.normalize(&p)
		}
	case TypeAirflow:
		if d.Spark != nil {
			p.add("an airflow job has no spark section")
		}
		if d.Airflow == nil || d.Airflow.DagFile == "" {
			p.add("airflow.dagFile is required for an airflow job")
		} else {
			checkRelPath("airflow.dagFile", d.Airflow.DagFile, &p)
			normalizeMounts("airflow.fileMounts", d.Airflow.FileMounts, &p)
		}
	case "":
		p.add("type is required: spark or airflow")
	default:
		p.add("unknown job type %q: want spark or airflow", d.Type)
	}
	for _, c := range d.WorkloadCredentials {
		if err := ValidName("credential", c); err != nil {
			p.add("workloadCredentials: %s", apperr.Message(err))
		}
	}
	for _, k := range sortedKeys(d.DefaultVariables) {
		if !varNameRE.MatchString(k) {
			p.add("defaultVariables: %q is not a variable name", k)
		}
	}
	if d.Schedule != nil {
		d.Schedule.normalize(creator, &p)
	}
	return p.err("invalid job " + quote(d.Name))
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func (s *Spark) normalize(p *problems) {
	if s.File == "" {
		p.add("spark.file is required")
	} else {
		checkAppPath("spark.file", s.File, p)
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"spark.pyFiles", s.PyFiles}, {"spark.jars", s.Jars}, {"spark.files", s.Files}} {
		if len(l.list) > maxListLen {
			p.add("%s has more than %d entries", l.field, maxListLen)
		}
		for _, f := range l.list {
			checkAppPath(l.field, f, p)
		}
	}
	if len(s.Args) > maxListLen {
		p.add("spark.args has more than %d entries", maxListLen)
	}
	if s.DriverCores == nil {
		s.DriverCores = ptr(defaultCores)
	}
	if s.ExecutorCores == nil {
		s.ExecutorCores = ptr(defaultCores)
	}
	if s.DriverMemory == "" {
		s.DriverMemory = defaultMemory
	}
	if s.ExecutorMemory == "" {
		s.ExecutorMemory = defaultMemory
	}
	for _, c := range []struct {
		field string
		v     *int
	}{{"spark.driverCores", s.DriverCores}, {"spark.executorCores", s.ExecutorCores}, {"spark.numExecutors", s.NumExecutors}} {
		if c.v != nil && (*c.v < 1 || *c.v > 1024) {
			p.add("%s must be between 1 and 1024, not %d", c.field, *c.v)
		}
	}
	for _, m := range []struct{ field, v string }{{"spark.driverMemory", s.DriverMemory}, {"spark.executorMemory", s.ExecutorMemory}} {
		if !memoryRE.MatchString(m.v) {
			p.add("%s %q is not a memory size such as 512m or 2g", m.field, m.v)
		}
	}
	if s.LogLevel != "" {
		s.LogLevel = strings.ToUpper(s.LogLevel)
		if !slices.Contains(logLevels, s.LogLevel) {
			p.add("spark.logLevel %q is not one of %s", s.LogLevel, strings.Join(logLevels, ", "))
		}
	}
	for _, k := range sortedKeys(s.Conf) {
		if k == "" || strings.ContainsAny(k, " \t\n=") {
			p.add("spark.conf key %q is not a Spark property name", k)
		}
	}
	if s.PythonEnvResourceName != "" {
		if err := ValidName("resource", s.PythonEnvResourceName); err != nil {
			p.add("spark.pythonEnvResourceName: %s", apperr.Message(err))
		}
	}
}

func ptr[T any](v T) *T { return &v }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mergeNames(a, b []string) []string {
	out := slices.Clone(a)
	for _, n := range b {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// normalizeMounts checks mounts and brings their prefixes to the form
// "" (the mount root) or "dir/sub/".
func normalizeMounts(field string, mounts []Mount, p *problems) {
	seen := map[Mount]bool{}
	for i := range mounts {
		m := &mounts[i]
		if err := ValidName("resource", m.ResourceName); err != nil {
			p.add("%s[%d].resourceName: %s", field, i, apperr.Message(err))
		}
		prefix, err := CleanDirPrefix(m.DirPrefix)
		if err != nil {
			p.add("%s[%d].dirPrefix: %s", field, i, apperr.Message(err))
		}
		m.DirPrefix = prefix
		if seen[*m] {
			p.add("%s[%d]: resource %q is mounted twice at %q", field, i, m.ResourceName, m.DirPrefix)
		}
		seen[*m] = true
	}
}

// checkAppPath accepts a URL or scheme-prefixed path (local:/..., s3a://...)
// as is, and otherwise wants a clean path relative to the mounts.
func checkAppPath(field, v string, p *problems) {
	if schemeRE.MatchString(v) {
		return
	}
	checkRelPath(field, v, p)
}

func checkRelPath(field, v string, p *problems) {
	if _, err := CleanFilePath(v); err != nil {
		p.add("%s %q: %s", field, v, apperr.Message(err))
	}
}

func (s *Schedule) normalize(creator string, p *problems) {
	if s.User == "" {
		s.User = creator
	}
	s.NextExecution = ""
	if s.Enabled && s.CronExpression == "" {
		p.add("schedule.cronExpression is required when the schedule is enabled")
	}
	if s.CronExpression != "" {
		if _, err := parseCron(s.CronExpression); err != nil {
			p.add("schedule.cronExpression %q: %v", s.CronExpression, err)
		}
	}
	var start, end time.Time
	var err error
	if s.Start != "" {
		if start, err = parseScheduleTime(s.Start); err != nil {
			p.add("schedule.start: %v", err)
		}
	}
	if s.End != "" {
		if end, err = parseScheduleTime(s.End); err != nil {
			p.add("schedule.end: %v", err)
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		p.add("schedule.end %q is not after schedule.start %q", s.End, s.Start)
	}
}
