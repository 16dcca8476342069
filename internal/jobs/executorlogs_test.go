package jobs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/apperr"
)

// fakeWorker answers /log as a Spark worker's UI does, with at most
// maxBytes per answer whatever the request asks for (older workers capped
// it at 1 MiB), from logs[appId/executorId/logType].
func fakeWorker(t *testing.T, logs map[string]string, maxBytes int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/proxy/log" {
			http.NotFound(w, r)
			return
		}
		dir := q.Get("appId") + "/" + q.Get("executorId") + "/"
		text, ok := logs[dir+q.Get("logType")]
		if !ok {
			fmt.Fprintf(w, "==== Bytes 0-0 of 0 of %s%s ====\nError getting logs due to exception: no such directory", dir, q.Get("logType"))
			return
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		n, _ := strconv.Atoi(q.Get("byteLength"))
		start := min(offset, len(text))
		end := min(start+min(n, maxBytes), len(text))
		fmt.Fprintf(w, "==== Bytes %d-%d of %d of /work/%s%s ====\n%s", start, end, len(text), dir, q.Get("logType"), text[start:end])
	}))
	t.Cleanup(srv.Close)
	return srv
}

// executorAddedLine is a SparkListenerExecutorAdded event as Spark 4 writes it.
func executorAddedLine(id, page string) string {
	urls := `{}`
	if page != "" {
		urls = fmt.Sprintf(`{"stdout":"%s&logType=stdout","stderr":"%s&logType=stderr"}`, page, page)
	}
	return fmt.Sprintf(`{"Event":"SparkListenerExecutorAdded","Timestamp":1795000000000,"Executor ID":"%s","Executor Info":{"Host":"127.0.1.2","Total Cores":1,"Log Urls":%s,"Attributes":{},"Resources":{},"Resource Profile Id":0,"Registration Time":1795000000000}}`, id, urls)
}

func TestExecutors(t *testing.T) {
	page := func(base, exec string) string {
		return base + "/logPage/?appId=app-20261123101010-0000&executorId=" + exec
	}
	lines := []string{
		`{"Event":"SparkListenerLogStart","Spark Version":"4.1.4"}`,
		executorAddedLine("driver", ""), // local mode: no worker logs
		`{"Event":"SparkListenerEnvironmentUpdate","Padding":"` + strings.Repeat("x", 200<<10) + `"}`,
		executorAddedLine("0", page("http://127.0.1.2:8081", "0")),
		executorAddedLine("1", page("https://gw.example.com/proxy/worker-1", "1")),
		executorAddedLine("0", page("http://127.0.1.9:8081", "0")), // a repeat is ignored
		executorAddedLine("2", page("file:///etc", "2")),
		executorAddedLine("3", page("http://127.0.1.2:8081", "4")), // ids disagree
		executorAddedLine("4", "http://127.0.1.2:8081/other/?appId=a&executorId=4"),
		executorAddedLine("5/../x", page("http://127.0.1.2:8081", "5/../x")),
		`{"Event":"SparkListenerExecutorAdded", not json`,
		executorAddedLine("6", page("http://127.0.1.3:8081", "6"))[:80], // still being written
	}
	file := filepath.Join(t.TempDir(), "app-20261123101010-0000.inprogress")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []executor{
		{id: "0", base: "http://127.0.1.2:8081/", appID: "app-20261123101010-0000"},
		{id: "1", base: "https://gw.example.com/proxy/worker-1/", appID: "app-20261123101010-0000"},
	}
	if got := executors(file); !reflect.DeepEqual(got, want) {
		t.Errorf("executors = %+v, want %+v", got, want)
	}
	if got := executors(filepath.Join(t.TempDir(), "none")); got != nil {
		t.Errorf("executors of a missing file = %+v", got)
	}
}

func TestWorkerLog(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 300) + "END\n"
	srv := fakeWorker(t, map[string]string{"app-1/0/stderr": big, "app-1/0/stdout": ""}, 1000)
	read := func(logType string) (string, error) {
		w := &workerLog{ctx: context.Background(), client: srv.Client(), url: srv.URL + "/proxy/log?appId=app-1&executorId=0&logType=" + logType}
		if err := w.fetch(); err != nil {
			return "", err
		}
		b, err := io.ReadAll(w)
		return string(b), err
	}
	if got, err := read("stderr"); err != nil || got != big {
		t.Errorf("a log of %d bytes in chunks of 1000: %d bytes, %v", len(big), len(got), err)
	}
	if got, err := read("stdout"); err != nil || got != "" {
		t.Errorf("an empty log: %q, %v", got, err)
	}
	if _, err := read("gc"); err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Errorf("a log the worker lacks: %v", err)
	}
	for name, url := range map[string]string{
		"not found":  srv.URL + "/log?appId=app-1&executorId=0&logType=stderr",
		"not spark":  "http://" + srv.Listener.Addr().String() + "/proxy/lo?x=1",
		"no answer":  "http://127.0.0.1:1/log?appId=a",
		"bad offset": srv.URL + "/proxy/log?appId=app-1&executorId=0&logType=stderr&offset=7",
	} {
		w := &workerLog{ctx: context.Background(), client: srv.Client(), url: url}
		if err := w.fetch(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestExecutorLogsOfRun(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, &testClock{t: time.Unix(1795000000, 0)})
	srv := fakeWorker(t, map[string]string{
		"app-7/0/stdout": "out of 0\n",
		"app-7/0/stderr": "err of 0\n",
	}, 1<<20)
	if _, err := s.CreateJob(ctx, alice, DefaultVC, Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "main.py"}}); err != nil {
		t.Fatal(err)
	}
	run, err := s.RunJob(ctx, alice, DefaultVC, "j", RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	types, err := s.LogTypes(ctx, DefaultVC, run.ID)
	if err != nil || len(types) != 0 {
		t.Fatalf("log types before the run has an event log: %v, %v", types, err)
	}
	events := filepath.Join(s.runDir(run.ID), eventsDir)
	if err := os.MkdirAll(events, 0o700); err != nil {
		t.Fatal(err)
	}
	log := executorAddedLine("0", srv.URL+"/proxy/logPage/?appId=app-7&executorId=0") + "\n" +
		executorAddedLine("1", "http://127.0.0.1:1/logPage/?appId=app-7&executorId=1") + "\n"
	if err := os.WriteFile(filepath.Join(events, "app-7.inprogress"), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	types, err = s.LogTypes(ctx, DefaultVC, run.ID)
	want := []string{"driver/event", "executor_0/stdout", "executor_0/stderr", "executor_1/stdout", "executor_1/stderr"}
	if err != nil || !reflect.DeepEqual(types, want) {
		t.Fatalf("log types = %v, %v; want %v", types, err, want)
	}
	for typ, want := range map[string]string{"executor_0/stdout": "out of 0\n", "executor_0/stderr": "err of 0\n"} {
		rc, err := s.OpenLog(ctx, DefaultVC, run.ID, typ)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", typ, got, err, want)
		}
	}
	for typ, kind := range map[string]apperr.Kind{
		"executor_1/stdout": apperr.Unavailable, // its worker does not answer
		"executor_2/stdout": apperr.NotFound,
		"executor_0/gc":     apperr.Invalid,
		"executor_0":        apperr.Invalid,
		"executor_/stdout":  apperr.Invalid,
	} {
		if _, err := s.OpenLog(ctx, DefaultVC, run.ID, typ); apperr.KindOf(err) != kind {
			t.Errorf("%s: %v, want %v", typ, err, kind)
		}
	}
	if _, err := s.OpenLog(ctx, DefaultVC, run.ID, "nonsense"); err == nil || !strings.Contains(err.Error(), "executor_<id>/stdout") {
		t.Errorf("an unknown log type's error does not name the executor logs: %v", err)
	}
}
