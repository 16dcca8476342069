package jobs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
)

// Log types of a run, as CDE names them, and the files they are.
var logTypes = []struct{ typ, file string }{
	{"driver/stdout", driverStdout},
	{"driver/stderr", driverStderr},
	{"submitter/jobs_api", submitterLog},
}

// eventLogType is the Spark event log of a run.
const eventLogType = "driver/event"

// minRedacted is the shortest secret value cleaned out of logs: shorter
// values would blank out ordinary text.
const minRedacted = 4

// Redacted replaces secret values in served logs.
const Redacted = "*****"

// LogTypes lists the logs a run has so far.
func (s *Service) LogTypes(ctx context.Context, vc string, id int64) ([]string, error) {
	if _, err := s.GetRun(ctx, vc, id); err != nil {
		return nil, err
	}
	dir := s.runDir(id)
	var out []string
	for _, lt := range logTypes {
		if _, err := os.Stat(filepath.Join(dir, lt.file)); err == nil {
			out = append(out, lt.typ)
		}
	}
	if f := eventLogFile(dir); f != "" {
		out = append(out, eventLogType)
	}
	return append(out, executorLogTypes(dir)...), nil
}

func eventLogFile(dir string) string {
	entries, err := os.ReadDir(filepath.Join(dir, eventsDir))
	if err != nil || len(entries) == 0 {
		return ""
	}
	return filepath.Join(dir, eventsDir, entries[0].Name())
}

// OpenLog returns one log of a run, as it is now (a live run's logs grow),
// with the values of the run's secrets replaced by Redacted.
func (s *Service) OpenLog(ctx context.Context, vc string, id int64, typ string) (io.ReadCloser, error) {
	if _, err := s.GetRun(ctx, vc, id); err != nil {
		return nil, err
	}
	if strings.HasPrefix(typ, executorLogPrefix) {
		rc, err := s.openExecutorLog(ctx, id, typ)
		if err != nil {
			return nil, err
		}
		return s.redacted(ctx, vc, id, rc)
	}
	dir := s.runDir(id)
	path := ""
	if typ == eventLogType {
		path = eventLogFile(dir)
	}
	for _, lt := range logTypes {
		if lt.typ == typ {
			path = filepath.Join(dir, lt.file)
		}
	}
	if path == "" && typ != eventLogType {
		known := make([]string, 0, len(logTypes)+3)
		for _, lt := range logTypes {
			known = append(known, lt.typ)
		}
		known = append(known, eventLogType, executorLogPrefix+"<id>/stdout", executorLogPrefix+"<id>/stderr")
		return nil, apperr.New(apperr.Invalid, "unknown log type %q: want one of %s", typ, strings.Join(known, ", "))
	}
	f, err := os.Open(path)
	if path == "" || errors.Is(err, os.ErrNotExist) {
		return nil, apperr.New(apperr.NotFound, "run %d has no %s log (yet)", id, typ)
	}
	if err != nil {
		return nil, err
	}
	return s.redacted(ctx, vc, id, f)
}

// redacted wraps a log of a run so that the run's secret values are
// replaced by Redacted; it closes rc on failure.
func (s *Service) redacted(ctx context.Context, vc string, id int64, rc io.ReadCloser) (io.ReadCloser, error) {
	secrets, err := s.runSecretValues(ctx, vc, id)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return redactor(rc, secrets), nil
}

// runSecretValues returns the secret values a run started with.
func (s *Service) runSecretValues(ctx context.Context, vc string, id int64) ([][]byte, error) {
	row, err := s.db.Read().GetRun(ctx, vc, id)
	if err != nil || len(row.Secrets) == 0 {
		return nil, err
	}
	plain, err := s.kr.Open(runSecretsContext(id), row.Secrets)
	if err != nil {
		return nil, err
	}
	var secrets map[string]map[string]string
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, kv := range secrets {
		for _, v := range kv {
			if len(v) >= minRedacted {
				out = append(out, []byte(v))
			}
		}
	}
	return out, nil
}

// logTail returns the last lines of a run's driver logs, redacted: of
// stderr (Spark's log), then of stdout when it has any (a PySpark driver's
// own output and tracebacks go there).
func (s *Service) logTail(ctx context.Context, r Run, lines int) string {
	var parts []string
	for _, typ := range []string{"driver/stderr", "driver/stdout"} {
		if t := s.lastLines(ctx, r, typ, lines); t != "" {
			parts = append(parts, "--- "+typ+" ---\n"+t)
		}
	}
	return strings.Join(parts, "\n")
}

func (s *Service) lastLines(ctx context.Context, r Run, typ string, lines int) string {
	rc, err := s.OpenLog(ctx, r.vc, r.ID, typ)
	if err != nil {
		return ""
	}
	defer rc.Close()
	ring := make([]string, 0, lines)
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(ring) == lines {
			ring = ring[1:]
		}
		ring = append(ring, sc.Text())
	}
	return strings.Join(ring, "\n")
}

// redactor wraps r, replacing every occurrence of a secret by Redacted,
// also across the boundaries of reads.
func redactor(r io.ReadCloser, secrets [][]byte) io.ReadCloser {
	if len(secrets) == 0 {
		return r
	}
	longest := 0
	for _, s := range secrets {
		longest = max(longest, len(s))
	}
	return &redactingReader{src: r, secrets: secrets, keep: longest - 1}
}

type redactingReader struct {
	src     io.ReadCloser
	secrets [][]byte
	keep    int    // bytes held back: a secret may start in them
	in      []byte // read, not yet cleaned
	out     []byte // cleaned, not yet returned
	eof     bool
}

func (r *redactingReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.eof && len(r.in) == 0 {
			return 0, io.EOF
		}
		if !r.eof {
			buf := make([]byte, 32<<10)
			n, err := r.src.Read(buf)
			r.in = append(r.in, buf[:n]...)
			if errors.Is(err, io.EOF) {
				r.eof = true
			} else if err != nil {
				return 0, err
			}
		}
		safe := len(r.in) - r.keep // every secret starting before safe lies whole in r.in
		if r.eof {
			safe = len(r.in)
		}
		i := 0
		for i < safe {
			if s := r.match(r.in[i:]); s > 0 {
				r.out = append(r.out, Redacted...)
				i += s
				continue
			}
			r.out = append(r.out, r.in[i])
			i++
		}
		r.in = append(r.in[:0], r.in[i:]...)
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// match returns the length of the secret b starts with, or 0.
func (r *redactingReader) match(b []byte) int {
	for _, s := range r.secrets {
		if bytes.HasPrefix(b, s) {
			return len(s)
		}
	}
	return 0
}

func (r *redactingReader) Close() error { return r.src.Close() }
