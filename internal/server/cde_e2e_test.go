package server_test

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // the CDE file signature
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/server/servertest"
)

func TestCDEListsFilterAndPage(t *testing.T) {
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	for i := range 25 {
		cores := 1 + i%4
		typ := "spark"
		c.must(http.StatusCreated, "POST", "/jobs", fmt.Sprintf(
			`{"name":"job-%02d","type":"%s","spark":{"file":"app.py","executorCores":%d,"conf":{"spark.x":"v%d"}},"hidden":%t}`,
			i, typ, cores, i%2, i%5 == 0))
		if i == 12 {
			env.Clock.Advance(30 * time.Minute)
		}
	}
	page := func(q string) cde.JobList {
		return decode[cde.JobList](t, c.must(http.StatusOK, "GET", "/jobs?"+q, ""))
	}
	names := func(l cde.JobList) string {
		var out []string
		for _, j := range l.Jobs {
			out = append(out, strings.TrimPrefix(j.Name, "job-"))
		}
		return strings.Join(out, ",")
	}

	// Default page: 20, by name, count is the total of matches.
	l := page("")
	if len(l.Jobs) != 20 || l.Meta != (cde.Meta{HasNext: true, Limit: 20, Offset: 0, Count: 25}) {
		t.Fatalf("first page: %+v", l.Meta)
	}
	l = page("offset=20")
	if names(l) != "20,21,22,23,24" || l.Meta.HasNext {
		t.Fatalf("second page: %s %+v", names(l), l.Meta)
	}
	for _, tc := range []struct{ q, want string }{
		{"filter=spark.executorCores%5Blt%5D2&limit=3", "00,04,08"},
		{"filter=spark.executorCores%5Bgte%5D4&filter=name%5Blike%5Djob-1%25", "11,15,19"},
		{"filter=name%5Bin%5Djob-03,job-07&orderby=name&orderasc=false", "07,03"},
		{"filter=name%5Brlike%5D^job-2[34]$", "23,24"},
		{"filter=hidden%5Beq%5Dtrue", "00,05,10,15,20"},
		{"filter=spark.conf.spark.x%5Beq%5Dv1&filter=name%5Blt%5Djob-06", "01,03,05"},
		{"filter=name%5Bnotin%5Djob-00,job-01&limit=2", "02,03"},
		{"filter=type%5Beq%5Dspark%20AND%20name%5Bgt%5Djob-22", "23,24"},
		{"filter=created%5Bgt%5D" + env.Clock.Now().Add(-15*time.Minute).Format("2006-01-02T15:04:05Z") + "&orderby=created&limit=3", "13,14,15"},
		// Unencoded % in a like pattern, as tutorials write it.
		{"filter=name[like]%2%&orderby=name", "02,12,20,21,22,23,24"},
	} {
		l := page(tc.q)
		if got := names(l); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.q, got, tc.want)
		}
	}
	if l := page("filter=spark.executorCores%5Blt%5D2&limit=3"); l.Meta.Count != 7 || !l.Meta.HasNext {
		t.Errorf("count of a filtered list: %+v", l.Meta)
	}
}

func TestCDEPatchMergesJSON(t *testing.T) {
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	c.must(http.StatusCreated, "POST", "/resources", `{"name":"code"}`)
	c.must(http.StatusCreated, "POST", "/jobs", `{"name":"j","type":"spark","mounts":[{"resourceName":"code","dirPrefix":"app"}],
		"spark":{"file":"app/main.py","args":["a","b"],"conf":{"k1":"1","k2":"2"},"executorMemory":"2g"}}`)
	j := decode[cde.Job](t, c.must(http.StatusOK, "PATCH", "/jobs/j", `{"spark":{"conf":{"k2":"20","k3":"3","k1":null},"args":["c"]}}`))
	if got := fmt.Sprint(j.Spark.Conf); got != "map[k2:20 k3:3]" {
		t.Errorf("conf merged key by key: %s", got)
	}
	if strings.Join(j.Spark.Args, ",") != "c" || j.Spark.ExecutorMemory != "2g" || j.Spark.File != "app/main.py" {
		t.Errorf("arrays replace, other keys stay: %+v", j.Spark)
	}
	if j.Mounts[0].DirPrefix != "app/" {
		t.Errorf("mount kept and normalized: %+v", j.Mounts)
	}
	// A client sending the whole job back, output fields included (witboost).
	whole := c.must(http.StatusOK, "GET", "/jobs/j", "")
	j2 := decode[cde.Job](t, c.must(http.StatusOK, "PATCH", "/jobs/j", string(whole)))
	if fmt.Sprint(j2.Spark.Conf) != fmt.Sprint(j.Spark.Conf) || j2.Created != j.Created {
		t.Errorf("whole-job PATCH changed the job: %+v", j2)
	}
	// Clearing the mounts.
	if j := decode[cde.Job](t, c.must(http.StatusOK, "PATCH", "/jobs/j", `{"mounts":[]}`)); len(j.Mounts) != 0 {
		t.Errorf("mounts not replaced: %+v", j.Mounts)
	}
	// Now the resource is free to go.
	c.must(http.StatusNoContent, "DELETE", "/resources/code", "")
}

func TestCDESchedules(t *testing.T) {
	clock := servertest.NewClock(time.Date(2026, 11, 23, 10, 2, 0, 0, time.UTC))
	env := servertest.StartWithClock(t, clock)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	j := decode[cde.Job](t, c.must(http.StatusCreated, "POST", "/jobs",
		`{"name":"nightly","type":"spark","spark":{"file":"x.py"},"schedule":{"enabled":true,"cronExpression":"0 3 * * *","start":"2026-11-25T00:00:00Z","end":"2027-01-01T00:00:00Z"}}`))
	if j.Schedule.NextExecution != "2026-11-25T03:00:00.000000Z" || j.Schedule.User != "admin" || j.Schedule.Paused {
		t.Fatalf("schedule: %+v", j.Schedule)
	}
	c.must(http.StatusCreated, "POST", "/jobs", `{"name":"paused","type":"spark","spark":{"file":"x.py"},"schedule":{"enabled":true,"cronExpression":"@hourly","pausedUponCreation":true}}`)
	c.must(http.StatusCreated, "POST", "/jobs", `{"name":"manual","type":"spark","spark":{"file":"x.py"},"schedule":{"enabled":false}}`)
	if j := decode[cde.Job](t, c.must(http.StatusOK, "GET", "/jobs/paused", "")); !j.Schedule.Paused || j.Schedule.NextExecution != "" {
		t.Fatalf("paused upon creation: %+v", j.Schedule)
	}
	c.must(http.StatusNoContent, "POST", "/jobs/paused/schedule/unpause", "")
	if j := decode[cde.Job](t, c.must(http.StatusOK, "GET", "/jobs/paused", "")); j.Schedule.Paused || j.Schedule.NextExecution != "2026-11-23T11:00:00.000000Z" {
		t.Fatalf("unpaused: %+v", j.Schedule)
	}
	c.must(http.StatusNoContent, "POST", "/jobs/schedule/pause-all", "")
	l := decode[cde.JobList](t, c.must(http.StatusOK, "GET", "/jobs?filter=schedule.paused%5Beq%5Dtrue", ""))
	if l.Meta.Count != 2 {
		t.Fatalf("pause-all paused %d jobs: %+v", l.Meta.Count, l)
	}
	c.must(http.StatusNoContent, "POST", "/jobs/schedule/unpause-all", "")
	c.must(http.StatusNoContent, "POST", "/jobs/nightly/schedule/pause", "")
	if j := decode[cde.Job](t, c.must(http.StatusOK, "GET", "/jobs/nightly", "")); !j.Schedule.Paused {
		t.Fatal("pause did not stick")
	}
	// The clock moves past the end: no next execution.
	clock.Advance(60 * 24 * time.Hour)
	c = newCDEClient(t, env, "admin", env.AdminPassword)
	c.must(http.StatusNoContent, "POST", "/jobs/nightly/schedule/unpause", "")
	if j := decode[cde.Job](t, c.must(http.StatusOK, "GET", "/jobs/nightly", "")); j.Schedule.NextExecution != "" {
		t.Fatalf("next execution after the end: %+v", j.Schedule)
	}
}

func TestCDEAirflowJob(t *testing.T) {
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	c.must(http.StatusCreated, "POST", "/resources", `{"name":"dags"}`)
	dag := "from airflow import DAG\nwith DAG(\n    dag_id='nightly_etl',\n    schedule=None,\n) as dag:\n    pass\n"
	if status, b := c.upload("dags", "etl/dag.py", []byte(dag)); status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, b)
	}
	j := decode[cde.Job](t, c.must(http.StatusCreated, "POST", "/jobs",
		`{"name":"etl","type":"airflow","airflow":{"dagFile":"pipelines/etl/dag.py"},"mounts":[{"resourceName":"dags","dirPrefix":"pipelines/"}]}`))
	if j.Airflow.DagID != "nightly_etl" {
		t.Fatalf("dagID = %q", j.Airflow.DagID)
	}
	l := decode[cde.JobList](t, c.must(http.StatusOK, "GET", "/jobs?filter=airflow.dagID%5Beq%5Dnightly_etl", ""))
	if l.Meta.Count != 1 {
		t.Fatalf("filter on dagID: %+v", l.Meta)
	}
}

// Secret values are never answered, never logged, and not stored in the
// clear: the database files on disk do not contain them.
func TestCDECredentialSecrecy(t *testing.T) {
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	secrets := []string{"Sup3rS3cret-value-one", "Sup3rS3cret-value-two", "Sup3rS3cret-basic-pw"}
	var answers []string
	answers = append(answers,
		string(c.must(http.StatusCreated, "POST", "/credentials", `{"name":"w","type":"workload-credential","workloadCred":{"a":"`+secrets[0]+`"}}`)),
		string(c.must(http.StatusOK, "PATCH", "/credentials/w", `{"workloadCred":{"a":"`+secrets[1]+`"}}`)),
		string(c.must(http.StatusCreated, "POST", "/credentials", `{"name":"b","type":"basic","basic":{"username":"git","password":"`+secrets[2]+`"},"skipCredentialValidation":true}`)),
		string(c.must(http.StatusOK, "GET", "/credentials", "")),
		string(c.must(http.StatusOK, "GET", "/credentials/w", "")),
		string(c.must(http.StatusOK, "GET", "/credentials/b?includeFiles=true", "")),
	)
	env.Stop() // flushes nothing: the WAL is read as it is
	var disk []byte
	for _, name := range []string{"herd.db", "herd.db-wal"} {
		b, err := os.ReadFile(filepath.Join(env.DataDir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		disk = append(disk, b...)
	}
	if len(disk) == 0 {
		t.Fatal("no database files")
	}
	for _, s := range secrets {
		for _, a := range answers {
			if strings.Contains(a, s) {
				t.Errorf("secret %q answered: %s", s, a)
			}
		}
		if bytes.Contains(disk, []byte(s)) {
			t.Errorf("secret %q stored in the clear", s)
		}
		if strings.Contains(env.Logs(), s) {
			t.Errorf("secret %q logged", s)
		}
	}
}

// A large upload streams to disk: the server's heap stays far below the
// file's size, and the stored file has the right size and signature.
func TestCDEUploadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	c.must(http.StatusCreated, "POST", "/resources", `{"name":"big"}`)
	const size = 256 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	h := sha1.New()                                         //nolint:gosec // the CDE file signature
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "big.bin")
		for written := 0; written < size; written += len(chunk) {
			fw.Write(chunk)
			h.Write(chunk)
		}
		mw.Close()
		pw.Close()
	}()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	req, _ := http.NewRequest("PUT", c.base+"/resources/big/data/big.bin", pr)
	req.Header.Set("Authorization", bearer(c.token))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	f := decode[cde.File](t, body)
	if f.SizeBytes != size || f.Signature != hex.EncodeToString(h.Sum(nil)) {
		t.Fatalf("stored %+v", f)
	}
	if grew := int64(peak.Load()) - int64(base.HeapInuse); grew > 32<<20 {
		t.Fatalf("heap grew by %d MiB while uploading 256 MiB: the upload is buffered", grew>>20)
	}
}
