package jobs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
)

// Executor logs. On a standalone master a run's executors write their
// stdout and stderr into the work directories of the workers they run on.
// The run's event log names each executor with its worker's log page;
// Herd serves those logs as CDE's executor_<id>/stdout and
// executor_<id>/stderr, read over HTTP from the worker's /log endpoint, so
// they stay readable after the run for as long as the worker keeps them.
// A local-master run has no such executors: its executor lives in the
// driver and logs into driver/stderr.
//
// The addresses come from a file the run's driver writes, that is from
// the job's own code; fetching them gives the job nothing it could not do
// itself, since its driver runs on this machine.

const executorLogPrefix = "executor_"

// executorStreams are the logs of an executor, as Spark's worker names them.
var executorStreams = []string{"stdout", "stderr"}

// workerLogChunk is how much of a log one request to a worker asks for.
const workerLogChunk = 1 << 20

// executorAdded starts the event log lines that announce an executor.
var executorAdded = []byte(`{"Event":"SparkListenerExecutorAdded",`)

// An executor of a run and where its logs are.
type executor struct {
	id    string
	base  string // the worker UI's address, with any proxy path, ending in "/"
	appID string
}

// executors lists the executors an event log announces that have logs on
// a worker, in the order they were added.
func executors(eventLog string) []executor {
	f, err := os.Open(eventLog)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []executor
	seen := map[string]bool{}
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, more, err := br.ReadLine()
		if !more && bytes.HasPrefix(line, executorAdded) {
			if e, ok := parseExecutorAdded(line); ok && !seen[e.id] {
				seen[e.id] = true
				out = append(out, e)
			}
		}
		for more && err == nil { // the rest of a long line
			_, more, err = br.ReadLine()
		}
		if err != nil {
			return out
		}
	}
}

// parseExecutorAdded reads one SparkListenerExecutorAdded event. Its log
// URLs are worker log pages: <worker UI>/logPage/?appId=…&executorId=…&logType=….
func parseExecutorAdded(line []byte) (executor, bool) {
	var ev struct {
		ID   string `json:"Executor ID"`
		Info struct {
			LogURLs map[string]string `json:"Log Urls"`
		} `json:"Executor Info"`
	}
	if json.Unmarshal(line, &ev) != nil || ev.ID == "" || strings.ContainsAny(ev.ID, "/ ") {
		return executor{}, false
	}
	for _, stream := range executorStreams {
		u, err := url.Parse(ev.Info.LogURLs[stream])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		base, ok := strings.CutSuffix(strings.TrimSuffix(u.Path, "/"), "/logPage")
		q := u.Query()
		if !ok || q.Get("appId") == "" || q.Get("executorId") != ev.ID {
			continue
		}
		return executor{id: ev.ID, base: u.Scheme + "://" + u.Host + base + "/", appID: q.Get("appId")}, true
	}
	return executor{}, false
}

// executorLogTypes lists the log types of a run's executors.
func executorLogTypes(dir string) []string {
	var out []string
	for _, e := range executors(eventLogFile(dir)) {
		for _, stream := range executorStreams {
			out = append(out, executorLogPrefix+e.id+"/"+stream)
		}
	}
	return out
}

// openExecutorLog opens executor_<id>/<stream> of a run, reading its first
// part so that a worker that does not answer is an error, not an empty log.
func (s *Service) openExecutorLog(ctx context.Context, id int64, typ string) (io.ReadCloser, error) {
	execID, stream, ok := strings.Cut(strings.TrimPrefix(typ, executorLogPrefix), "/")
	if !ok || execID == "" || !slices.Contains(executorStreams, stream) {
		return nil, apperr.New(apperr.Invalid, "unknown log type %q: an executor's logs are %s<id>/stdout and %s<id>/stderr", typ, executorLogPrefix, executorLogPrefix)
	}
	for _, e := range executors(eventLogFile(s.runDir(id))) {
		if e.id != execID {
			continue
		}
		r := &workerLog{ctx: ctx, client: s.cfg.HTTPClient, url: e.base + "log?" + url.Values{
			"appId": {e.appID}, "executorId": {e.id}, "logType": {stream}}.Encode()}
		if err := r.fetch(); err != nil {
			return nil, apperr.Wrap(apperr.Unavailable, err, fmt.Sprintf("executor %s's %s is on the worker at %s, which did not serve it: %v", e.id, stream, e.base, err))
		}
		return r, nil
	}
	return nil, apperr.New(apperr.NotFound, "run %d has no executor %q with logs on a worker", id, execID)
}

// workerLogHeader starts every answer of a worker's /log endpoint.
var workerLogHeader = regexp.MustCompile(`^==== Bytes (\d+)-(\d+) of (\d+) of [^\n]* ====\n`)

// workerLog reads one log from a Spark worker, a chunk per request.
type workerLog struct {
	ctx    context.Context
	client *http.Client
	url    string
	offset int64
	buf    []byte
	done   bool
}

func (w *workerLog) Read(p []byte) (int, error) {
	for len(w.buf) == 0 {
		if w.done {
			return 0, io.EOF
		}
		if err := w.fetch(); err != nil {
			return 0, err
		}
	}
	n := copy(p, w.buf)
	w.buf = w.buf[n:]
	return n, nil
}

func (w *workerLog) Close() error { return nil }

// fetch reads the next chunk of the log.
func (w *workerLog) fetch() error {
	u := w.url + "&" + url.Values{"offset": {strconv.FormatInt(w.offset, 10)}, "byteLength": {strconv.Itoa(workerLogChunk)}}.Encode()
	req, err := http.NewRequestWithContext(w.ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("read worker log: %w", err)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("read worker log: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4*workerLogChunk)) // text, maybe escaped
	if err != nil {
		return fmt.Errorf("read worker log: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read worker log: %s", resp.Status)
	}
	m := workerLogHeader.FindSubmatch(body)
	if m == nil {
		return errors.New("read worker log: the answer is not a Spark worker's log")
	}
	start, _ := strconv.ParseInt(string(m[1]), 10, 64)
	end, _ := strconv.ParseInt(string(m[2]), 10, 64)
	length, _ := strconv.ParseInt(string(m[3]), 10, 64)
	text := body[len(m[0]):]
	if length == 0 && bytes.HasPrefix(text, []byte("Error")) {
		// The worker's way to say it has no such log.
		return fmt.Errorf("read worker log: %s", firstLine(text))
	}
	if start != w.offset || end < start {
		return fmt.Errorf("read worker log: asked for bytes from %d, got %d-%d", w.offset, start, end)
	}
	w.buf, w.offset = text, end
	w.done = end >= length || end == start
	return nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}
