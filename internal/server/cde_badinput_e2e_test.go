package server_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/server/servertest"
)

// cdeSnapshot is everything a refused request must leave as it was: jobs,
// resources with their files, credentials, and the files on disk.
func cdeSnapshot(t *testing.T, c *cdeClient) string {
	t.Helper()
	parts := []string{
		string(c.must(http.StatusOK, "GET", "/jobs?limit=1000", "")),
		string(c.must(http.StatusOK, "GET", "/resources?limit=1000&includeFiles=true", "")),
		string(c.must(http.StatusOK, "GET", "/credentials?limit=1000", "")),
		string(c.must(http.StatusOK, "GET", "/job-runs?limit=1000", "")),
	}
	entries, err := os.ReadDir(filepath.Join(c.env.DataDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		parts = append(parts, e.Name())
	}
	return strings.Join(parts, "\n")
}

type cdeBad struct {
	name, method, path, body string
	status                   int
	msg                      string
	token                    string // another token than the client's
	raw                      func() (int, []byte)
}

func runCDEBad(t *testing.T, c *cdeClient, cases []cdeBad) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := cdeSnapshot(t, c)
			var status int
			var body []byte
			switch {
			case tc.raw != nil:
				status, body = tc.raw()
			case tc.token != "":
				h := headers{"Content-Type": "application/json"}
				if tc.token != "none" {
					h["Authorization"] = bearer(tc.token)
				}
				status, _, body = call(t, tc.method, c.base+tc.path, tc.body, h)
			default:
				status, body = c.do(tc.method, tc.path, tc.body)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			m := errorBody(t, body)
			if m["status"] != float64(tc.status) || len(m) != 2 {
				t.Fatalf("not the CDE error shape: %s", body)
			}
			if msg, _ := m["message"].(string); !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q lacks %q", msg, tc.msg)
			}
			if after := cdeSnapshot(t, c); after != before {
				t.Fatalf("state changed:\n%s", cmp.Diff(before, after))
			}
		})
	}
}

func TestCDEBadInput(t *testing.T) {
	env := servertest.Start(t, func(c *config.Config) { c.MaxUploadBytes = 64 << 10 })
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	admin := headers{"Authorization": basic("admin", env.AdminPassword)}
	mustStatus(t, http.StatusCreated, "POST", env.URL+"/herd/v1/users", `{"name":"reader","password":"reader-pw-1","role":"read-only"}`, admin)
	reader := newCDEClient(t, env, "reader", "reader-pw-1")

	c.must(http.StatusCreated, "POST", "/resources", `{"name":"code"}`)
	c.must(http.StatusCreated, "POST", "/resources", `{"name":"env","type":"python-env"}`)
	if status, b := c.upload("code", "app/main.py", []byte("print('hi')")); status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, b)
	}
	c.must(http.StatusCreated, "POST", "/credentials", `{"name":"db","type":"workload-credential","workloadCred":{"pass":"x"}}`)
	c.must(http.StatusCreated, "POST", "/resources", `{"name":"jobs"}`) // a name that is also an API path
	c.must(http.StatusCreated, "POST", "/jobs", `{"name":"etl","type":"spark","spark":{"file":"app/main.py"},"mounts":[{"resourceName":"code"}],"workloadCredentials":["db"]}`)
	// A run that fails at once, without starting Spark: its python-env has
	// nothing to build from.
	c.must(http.StatusCreated, "POST", "/jobs", `{"name":"noenv","type":"spark","spark":{"file":"app/main.py","pythonEnvResourceName":"env"},"mounts":[{"resourceName":"code"}]}`)
	failed := decode[cde.RunID](t, c.must(http.StatusCreated, "POST", "/jobs/noenv/run", ""))
	failedRun := c.waitRun(failed.ID, 30*time.Second, "ended", ended)
	if failedRun.Status != "failed" || !strings.Contains(failedRun.StatusReason, "has no requirements.txt") {
		t.Fatalf("run with an empty python-env: %+v", failedRun)
	}
	logs := fmt.Sprintf("/job-runs/%d/logs", failed.ID)

	upload := func(resource, path string, content []byte) func() (int, []byte) {
		return func() (int, []byte) { return c.upload(resource, path, content) }
	}
	rawPut := func(path, contentType, body string) func() (int, []byte) {
		return func() (int, []byte) {
			status, _, b := call(t, "PUT", c.base+path, body, headers{"Authorization": bearer(c.token), "Content-Type": contentType})
			return status, b
		}
	}
	var noFilePart bytes.Buffer
	mw := multipart.NewWriter(&noFilePart)
	mw.WriteField("other", "x")
	mw.Close()

	runCDEBad(t, c, []cdeBad{
		// Malformed and mistyped bodies.
		{name: "malformed JSON", method: "POST", path: "/jobs", body: `{"name": "x", `, status: 400, msg: "malformed JSON"},
		{name: "not an object", method: "POST", path: "/jobs", body: `["x"]`, status: 400, msg: "must be a JSON object"},
		{name: "empty body", method: "POST", path: "/resources", body: ``, status: 400, msg: "empty"},
		{name: "unknown job type", method: "POST", path: "/jobs", body: `{"name":"x","type":"flink"}`, status: 400, msg: `unknown job type "flink"`},
		{name: "unknown resource type", method: "POST", path: "/resources", body: `{"name":"x","type":"docker"}`, status: 400, msg: `unknown resource type "docker"`},
		{name: "unknown credential type", method: "POST", path: "/credentials", body: `{"name":"x","type":"docker-basic"}`, status: 400, msg: `unknown credential type "docker-basic"`},
		{name: "cores as string", method: "POST", path: "/jobs", body: `{"name":"x","type":"spark","spark":{"file":"a.py","driverCores":"two"}}`, status: 400, msg: `field "spark.driverCores" must be of type number, not string`},
		{name: "args as string", method: "POST", path: "/jobs", body: `{"name":"x","type":"spark","spark":{"file":"a.py","args":"--x"}}`, status: 400, msg: `field "spark.args" must be of type array`},
		{name: "conf value as number", method: "POST", path: "/jobs", body: `{"name":"x","type":"spark","spark":{"file":"a.py","conf":{"spark.executor.instances":2}}}`, status: 400, msg: `field "spark.conf" must be of type string, not number`},
		{name: "secret value as number", method: "POST", path: "/credentials", body: `{"name":"x","type":"workload-credential","workloadCred":{"k":1}}`, status: 400, msg: "must be of type string"},
		{name: "bad cron", method: "POST", path: "/jobs", body: `{"name":"x","type":"spark","spark":{"file":"a.py"},"schedule":{"enabled":true,"cronExpression":"every day"}}`, status: 400, msg: "schedule.cronExpression"},
		{name: "bad name", method: "POST", path: "/jobs", body: `{"name":"x y","type":"spark","spark":{"file":"a.py"}}`, status: 400, msg: "invalid job name"},
		{name: "secret key as file name", method: "POST", path: "/credentials", body: `{"name":"x","workloadCred":{"../k":"v"}}`, status: 400, msg: "not usable as a file name"},
		// Missing and wrong references, all named at once.
		{name: "missing references", method: "POST", path: "/jobs",
			body:   `{"name":"x","type":"spark","spark":{"file":"a.py","pythonEnvResourceName":"code"},"mounts":[{"resourceName":"nope"}],"workloadCredentials":["ghost"]}`,
			status: 400, msg: `mounts[0]: resource "nope" does not exist; spark.pythonEnvResourceName: resource "code" is of type files, not python-env; workloadCredentials: credential "ghost" does not exist`},
		{name: "airflow DAG not uploaded", method: "POST", path: "/jobs", body: `{"name":"x","type":"airflow","airflow":{"dagFile":"dag.py"},"mounts":[{"resourceName":"code"}]}`, status: 400, msg: `airflow.dagFile "dag.py" is in none of the job's mounted resources`},
		// Duplicates and things in use.
		{name: "duplicate job", method: "POST", path: "/jobs", body: `{"name":"etl","type":"spark","spark":{"file":"a.py"}}`, status: 409, msg: `job "etl" already exists`},
		{name: "duplicate resource", method: "POST", path: "/resources", body: `{"name":"code"}`, status: 409, msg: `resource "code" already exists`},
		{name: "duplicate credential", method: "POST", path: "/credentials", body: `{"name":"db","workloadCred":{"a":"b"}}`, status: 409, msg: `credential "db" already exists`},
		{name: "resource in use", method: "DELETE", path: "/resources/code", status: 409, msg: `resource "code" is used by job(s) "etl"`},
		{name: "credential in use", method: "DELETE", path: "/credentials/db", status: 409, msg: `credential "db" is used by job(s) "etl"`},
		// PATCH limits.
		{name: "rename by patch", method: "PATCH", path: "/jobs/etl", body: `{"name":"etl2"}`, status: 400, msg: "cannot be renamed"},
		{name: "type change by patch", method: "PATCH", path: "/jobs/etl", body: `{"type":"airflow"}`, status: 400, msg: "cannot change type"},
		{name: "patch to a missing credential", method: "PATCH", path: "/jobs/etl", body: `{"workloadCredentials":["ghost"]}`, status: 400, msg: `credential "ghost" does not exist`},
		{name: "patch null removes spark", method: "PATCH", path: "/jobs/etl", body: `{"spark":null}`, status: 400, msg: "spark is required"},
		{name: "pause without schedule", method: "POST", path: "/jobs/etl/schedule/pause", status: 400, msg: "no enabled schedule"},
		{name: "missing job", method: "GET", path: "/jobs/nope", status: 404, msg: `job "nope" not found`},
		{name: "missing file", method: "GET", path: "/resources/code/nope.py", status: 404, msg: `file "nope.py" not found`},
		// Bad filters and list parameters.
		{name: "unknown filter field", method: "GET", path: "/jobs?filter=spark.nope%5Beq%5D1", status: 400, msg: `unknown field "spark.nope"`},
		{name: "unknown operator", method: "GET", path: "/jobs?filter=name%5Beqq%5Dx", status: 400, msg: `unknown operator "eqq"`},
		{name: "filter without operator", method: "GET", path: "/jobs?filter=name", status: 400, msg: "want field[op]value"},
		{name: "like on a number", method: "GET", path: "/jobs?filter=spark.executorCores%5Blike%5D1", status: 400, msg: "like"},
		{name: "bad regexp", method: "GET", path: "/jobs?filter=name%5Brlike%5D(", status: 400, msg: "rlike"},
		{name: "bad number", method: "GET", path: "/jobs?filter=spark.executorCores%5Blt%5Dtwo", status: 400, msg: "two"},
		{name: "bad date", method: "GET", path: "/credentials?filter=created%5Bgte%5Dyesterday", status: 400, msg: "yesterday"},
		{name: "bad limit", method: "GET", path: "/jobs?limit=0", status: 400, msg: "limit"},
		{name: "bad orderby", method: "GET", path: "/resources?orderby=color", status: 400, msg: "color"},
		{name: "bad includeFiles", method: "GET", path: "/resources?includeFiles=maybe", status: 400, msg: "includeFiles"},
		// Uploads: too large, traversal, wrong shape.
		{name: "oversized upload", raw: upload("code", "big.bin", bytes.Repeat([]byte("x"), 65<<10)), status: 413, msg: "larger than the upload limit"},
		{name: "traversal ..", raw: rawPut("/resources/code/a/%2e%2e/%2e%2e/x", "multipart/form-data; boundary=x", "--x--"), status: 400, msg: ". or .. segments"},
		{name: "traversal encoded slash", raw: upload("code", "..%2F..%2Fetc%2Fpasswd", []byte("x")), status: 400, msg: ". or .. segments"},
		{name: "double encoded", raw: upload("code", "%252e%252e/x", []byte("x")), status: 400, msg: ". or .. segments"},
		{name: "absolute path", raw: upload("code", "%2Fetc%2Fpasswd", []byte("x")), status: 400, msg: "must be relative"},
		{name: "not multipart", raw: rawPut("/resources/code/x.py", "application/json", `{}`), status: 400, msg: "multipart/form-data"},
		{name: "no file part", raw: rawPut("/resources/code/x.py", mw.FormDataContentType(), noFilePart.String()), status: 400, msg: "no part named file"},
		{name: "python-env takes only requirements.txt", raw: upload("env", "setup.py", []byte("x")), status: 400, msg: "holds only requirements.txt"},
		{name: "upload to a missing resource", raw: upload("ghost", "x.py", []byte("x")), status: 404, msg: `resource "ghost" not found`},
		// The /{name} spelling of /resources/{name} never takes an API path.
		{name: "DELETE /jobs is no resource", method: "DELETE", path: "/jobs", status: 405, msg: "use GET or POST"},
		{name: "DELETE /job-runs is no resource", method: "DELETE", path: "/job-runs", status: 405, msg: "use GET"},
		{name: "GET /repositories is no resource", method: "GET", path: "/repositories", status: 404, msg: "no endpoint GET /dex/api/v1/repositories"},
		// Runs.
		{name: "run of a missing job", method: "POST", path: "/jobs/ghost/run", status: 404, msg: `job "ghost" not found`},
		{name: "run body not JSON", method: "POST", path: "/jobs/etl/run", body: `{"requestID": `, status: 400, msg: "malformed JSON"},
		{name: "override of the wrong type", method: "POST", path: "/jobs/etl/run", body: `{"overrides":{"spark":{"executorCores":"four"}}}`, status: 400, msg: "executorCores"},
		{name: "override that breaks the job", method: "POST", path: "/jobs/etl/run", body: `{"overrides":{"spark":{"file":null}}}`, status: 400, msg: `invalid run of job "etl"`},
		{name: "bad variable name", method: "POST", path: "/jobs/etl/run", body: `{"variables":{"a b":"x"}}`, status: 400, msg: `"a b" is not a variable name`},
		{name: "variables not strings", method: "POST", path: "/jobs/etl/run", body: `{"variables":{"n":1}}`, status: 400, msg: "variables"},
		{name: "requestID too long", method: "POST", path: "/jobs/etl/run", body: `{"requestID":"` + strings.Repeat("r", 513) + `"}`, status: 400, msg: "requestID is longer"},
		{name: "read-only user runs", token: reader.token, method: "POST", path: "/jobs/etl/run", status: 403, msg: "read-only"},
		{name: "read-only user kills", token: reader.token, method: "POST", path: fmt.Sprintf("/job-runs/%d/kill", failed.ID), status: 403, msg: "read-only"},
		{name: "run id not a number", method: "GET", path: "/job-runs/abc", status: 404, msg: "run ids are positive integers"},
		{name: "run id zero", method: "GET", path: "/job-runs/0", status: 404, msg: "run ids are positive integers"},
		{name: "missing run", method: "GET", path: "/job-runs/999", status: 404, msg: `run "999" not found`},
		{name: "kill a missing run", method: "POST", path: "/job-runs/999/kill", status: 404, msg: `run "999" not found`},
		{name: "logs of a missing run", method: "GET", path: "/job-runs/999/logs?type=driver/stdout", status: 404, msg: `run "999" not found`},
		{name: "log types of a missing run", method: "GET", path: "/job-runs/999/log-types", status: 404, msg: `run "999" not found`},
		{name: "unknown log type", method: "GET", path: logs + "?type=driver/gc", status: 400, msg: `unknown log type "driver/gc"`},
		{name: "unknown executor log type", method: "GET", path: logs + "?type=executor_9/gc", status: 400, msg: `unknown log type "executor_9/gc"`},
		{name: "executor not there", method: "GET", path: logs + "?type=executor_9/stdout", status: 404, msg: `no executor "9"`},
		{name: "log not there", method: "GET", path: logs + "?type=driver%2Fstdout", status: 404, msg: "has no driver/stdout log"},
		{name: "run filter on an unknown field", method: "GET", path: "/job-runs?filter=color%5Beq%5Dred", status: 400, msg: "color"},
		{name: "run order by an unknown field", method: "GET", path: "/job-runs?orderby=color", status: 400, msg: "color"},
		{name: "build log of a missing resource", method: "GET", path: "/resources/ghost/build-log", status: 404, msg: `resource "ghost" not found`},
		{name: "build log before any build", method: "GET", path: "/resources/env/build-log", status: 404, msg: "build log"},
		// Credentials and roles.
		{name: "no token", token: "none", method: "GET", path: "/jobs", status: 401, msg: "authentication required"},
		{name: "garbage token", token: "abc.def.ghi", method: "GET", path: "/jobs", status: 401, msg: "invalid or expired token"},
		{name: "read-only user creates", token: reader.token, method: "POST", path: "/resources", body: `{"name":"r2"}`, status: 403, msg: "read-only"},
		{name: "read-only user deletes", token: reader.token, method: "DELETE", path: "/jobs/etl", status: 403, msg: "read-only"},
	})
	// The read-only user can read.
	reader.must(http.StatusOK, "GET", "/jobs/etl", "")
	// Basic credentials are not accepted by the jobs API, only tokens.
	mustStatus(t, http.StatusUnauthorized, "GET", c.base+"/jobs", "", admin)
}

// A failed or interrupted upload leaves no file behind, and replacing a
// file keeps exactly one copy.
func TestCDEUploadLeavesNothingOnFailure(t *testing.T) {
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	c.must(http.StatusCreated, "POST", "/resources", `{"name":"code"}`)
	blobs := func() []string {
		entries, _ := os.ReadDir(filepath.Join(env.DataDir, "blobs"))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	// A client that disconnects half way through.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "x")
		fw.Write(bytes.Repeat([]byte("y"), 1<<20))
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}()
	req, _ := http.NewRequest("PUT", c.base+"/resources/code/half.bin", pr)
	req.Header.Set("Authorization", bearer(c.token))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("interrupted upload answered %d", resp.StatusCode)
	}
	c.must(http.StatusNotFound, "GET", "/resources/code/half.bin", "")
	// The client gives up first; the server cleans up when it notices.
	deadline := time.Now().Add(5 * time.Second)
	for len(blobs()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b := blobs(); len(b) != 0 {
		t.Fatalf("interrupted upload left %v", b)
	}
	if strings.Contains(env.Logs(), "level=ERROR") {
		t.Fatalf("a client's broken upload was logged as a server error:\n%s", env.Logs())
	}
	// Replacing a file.
	for _, content := range []string{"v1", "v2"} {
		if status, b := c.upload("code", "f.txt", []byte(content)); status != http.StatusCreated {
			t.Fatalf("upload: %d %s", status, b)
		}
	}
	if got := string(c.must(http.StatusOK, "GET", "/resources/code/f.txt", "")); got != "v2" {
		t.Fatalf("content %q", got)
	}
	res := decode[cde.Resource](t, c.must(http.StatusOK, "GET", "/resources/code", ""))
	if len(res.Files) != 1 || res.Files[0].Path != "f.txt" || res.Files[0].SizeBytes != 2 || res.Files[0].Modified == "" {
		t.Fatalf("files of a resource: %+v", res.Files)
	}
	if res := decode[cde.Resource](t, c.must(http.StatusOK, "GET", "/resources/code?includeFiles=false", "")); res.Files != nil {
		t.Fatalf("includeFiles=false: %+v", res.Files)
	}
	if b := blobs(); len(b) != 1 {
		t.Fatalf("after a replace: %v", b)
	}
	c.must(http.StatusNoContent, "DELETE", "/resources/code/f.txt", "")
	if b := blobs(); len(b) != 0 || slices.Contains(b, "") {
		t.Fatalf("after delete: %v", b)
	}
}
