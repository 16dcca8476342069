package server_test

import (
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/server/servertest"
)

// TestCdepy drives cdepy, the Python client of the CDE jobs API from PyPI,
// through resources, uploads, Spark and Airflow jobs, schedules and
// credentials, and checks what it printed and what the server holds.
func TestCdepy(t *testing.T) {
	python := compatTool(t, "python")
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)
	// cdepy makes basic credentials only; the job's workload credential is
	// made here.
	c.must(http.StatusCreated, "POST", "/credentials", `{"name":"cdepy-secret","workloadCred":{"token":"t0k"}}`)
	u, _ := url.Parse(env.URL)
	cmd := exec.Command(python, "testdata/cdepy_compat.py", u.Port(), "admin", env.AdminPassword)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("cdepy:\n%s", out)
	if err != nil || !strings.Contains(string(out), "CDEPY COMPATIBLE") {
		t.Fatalf("cdepy run failed: %v", err)
	}
	// cdepy checks the status codes it expects and prints when they match.
	for _, want := range []string{
		"CDE Resource Created Successfully",
		"Uploading File app.py to CDE Resource cdepy-files has Succeeded",
		"CDE Job Creation Succeeded",
		"CDE Credential Creation has Succeeded",
		"CDE Resource cdepy-files Deleted Successfully",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cdepy did not print %q", want)
		}
	}
	// Nothing cdepy made is left, but the credential made here.
	if s := string(c.must(http.StatusOK, "GET", "/resources", "")); !strings.Contains(s, `"count":0`) {
		t.Errorf("resources left: %s", s)
	}
	if s := string(c.must(http.StatusOK, "GET", "/jobs", "")); !strings.Contains(s, `"count":0`) {
		t.Errorf("jobs left: %s", s)
	}
}
