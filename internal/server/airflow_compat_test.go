package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/server/servertest"
)

// requireAirflow returns the Python of build/airflow-venv, where make test
// installs Airflow and the CDE Airflow operator; without it the test is
// skipped, or fails under HERD_REQUIRE_COMPAT=1.
func requireAirflow(t *testing.T) string {
	t.Helper()
	py := filepath.Join(servertest.ModuleRoot(), "build", "airflow-venv", "bin", "python")
	if _, err := os.Stat(filepath.Join(filepath.Dir(py), "..", ".requirements.sha256")); err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") == "1" {
			t.Fatalf("Airflow and the CDE operator are not installed (%v): run make test", err)
		}
		t.Skipf("Airflow and the CDE operator are not installed (%v): run make test", err)
	}
	return py
}

// The real CDE Airflow operator (cloudera-airflow-provider 2.4.0 on Airflow
// 3) runs jobs on Herd unchanged: it authenticates with an access key
// (describeService, generateWorkloadAuthToken, the cdptkn Knox endpoint)
// over HTTPS, reaches each virtual cluster by its host name, runs SparkPi
// and waits for it, gets the same run back for a repeated requestID, fails
// the task of a failing run, and kills a run when its task is cancelled.
func TestAirflowOperator(t *testing.T) {
	jar := requireSpark(t)
	py := requireAirflow(t)
	certFile, keyFile, der := selfSigned(t)
	env := servertest.StartWithClock(t, servertest.WallClock(), servertest.WithTLS(certFile, keyFile))
	client := trustingClient(t, der)
	root := headers{"Authorization": basic("admin", env.AdminPassword), "Content-Type": "application/json"}
	mustTLS := func(want int, method, path, body string) []byte {
		t.Helper()
		st, _, b := callWith(t, client, method, env.URL+path, body, root)
		if st != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, want)
		}
		return b
	}

	// Two virtual clusters: etl runs locally; remote's runs go to a
	// standalone master, so a run with a credential fails there at once.
	mustTLS(http.StatusCreated, http.MethodPost, "/herd/v1/virtual-clusters", `{"id": "etl"}`)
	mustTLS(http.StatusCreated, http.MethodPost, "/herd/v1/virtual-clusters", `{"id": "remote", "sparkMaster": "spark://127.0.0.1:1"}`)
	_, _, tb := callWith(t, client, http.MethodGet, env.URL+"/gateway/authtkn/knoxtoken/api/v1/token", "", headers{"Authorization": basic("admin", env.AdminPassword)})
	token := decode[cde.TokenResponse](t, tb).AccessToken
	vc := func(id string) *cdeClient {
		return &cdeClient{t: t, env: env, token: token, base: env.URL + "/dex/api/v1", host: id + ".cde-herd.localtest", client: client}
	}
	etl, remote := vc("etl"), vc("remote")
	etl.must(http.StatusCreated, http.MethodPost, "/resources", `{"name": "code"}`)
	for name, content := range map[string][]byte{"spark-examples.jar": jar, "sleep_job.py": mustRead(t, "testdata/spark/sleep_job.py")} {
		if st, b := etl.upload("code", name, content); st != http.StatusCreated {
			t.Fatalf("upload %s: %d %s", name, st, b)
		}
	}
	etl.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "pi", "type": "spark", "mounts": [{"resourceName": "code"}],
		"spark": {"file": "spark-examples.jar", "className": "org.herd.examples.SparkPi", "args": ["{{ slices }}"]}}`)
	etl.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "sleep", "type": "spark", "mounts": [{"resourceName": "code"}],
		"spark": {"file": "sleep_job.py", "conf": {"spark.eventLog.enabled": "false"}}}`)
	remote.must(http.StatusCreated, http.MethodPost, "/credentials", `{"name": "db", "type": "workload-credential", "workloadCred": {"password": "Wq-secret-77"}}`)
	remote.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "secret", "type": "spark", "workloadCredentials": ["db"], "spark": {"file": "local:/nonexistent.py"}}`)

	var key struct {
		AccessKey struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKey"`
		PrivateKey string `json:"privateKey"`
	}
	if err := json.Unmarshal(mustTLS(http.StatusOK, http.MethodPost, "/api/v1/iam/createAccessKey", `{}`), &key); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyJSON := filepath.Join(dir, "key.json")
	b, _ := json.Marshal(map[string]string{"accessKeyId": key.AccessKey.AccessKeyID, "privateKey": key.PrivateKey})
	if err := os.WriteFile(keyJSON, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "cache"), 0o700); err != nil {
		t.Fatal(err)
	}

	port := env.URL[strings.LastIndex(env.URL, ":")+1:]
	cmd := exec.Command(py, filepath.Join("testdata", "airflow_cde.py"), port, keyJSON)
	cmd.Env = append(os.Environ(), "AIRFLOW_HOME="+filepath.Join(dir, "airflow"), "CDE_TOKEN_CACHE="+filepath.Join(dir, "cache"),
		"AIRFLOW__CORE__LOAD_EXAMPLES=False", "PYTHONWARNINGS=ignore")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("the operator's steps took %s", time.Since(start).Round(time.Millisecond))
	if err != nil || !strings.Contains(string(out), "AIRFLOW CDE OPERATOR PASSED") {
		t.Fatalf("airflow_cde.py: %v\n%s", err, out)
	}
	steps := map[string]map[string]any{}
	for _, line := range strings.Split(string(out), "\n") {
		var m map[string]any
		if strings.HasPrefix(line, `{"`) && json.Unmarshal([]byte(line), &m) == nil && m["step"] != nil {
			steps[m["step"].(string)] = m
		}
	}

	// What the server saw: each run as the operator left it.
	run := func(c *cdeClient, v any) cde.Run {
		id, _ := v.(float64)
		return decode[cde.Run](t, c.must(http.StatusOK, http.MethodGet, "/job-runs/"+strconv.FormatInt(int64(id), 10), ""))
	}
	pi := run(etl, steps["pi"]["run"])
	if pi.Status != "succeeded" || pi.User != "admin" || pi.Spark.Spec.DriverMemory != "512m" || len(pi.Spark.Spec.Args) != 1 || pi.Spark.Spec.Args[0] != "3" {
		t.Errorf("the operator's SparkPi run: %+v %+v", pi, pi.Spark.Spec)
	}
	if !regexp.MustCompile(`^herd_e2e#manual__2026-11-23T00:00:00\+00:00#pi#1#\d+$`).MatchString(pi.RequestID) {
		t.Errorf("requestID %q is not the operator's dag#run#task#try#time", pi.RequestID)
	}
	if rid := steps["request_id"]; rid["first"] != rid["again"] {
		t.Errorf("a repeated requestID gave runs %v and %v", rid["first"], rid["again"])
	}
	if failed := run(remote, steps["failing"]["run"]); failed.Status != "failed" || !strings.Contains(failed.StatusReason, "need a local master") {
		t.Errorf("the failing run: %+v", failed)
	}
	if killed := run(etl, steps["kill"]["run"]); killed.Status != "killed" {
		t.Errorf("the cancelled task's run: %+v", killed)
	}
	list := decode[cde.RunList](t, remote.must(http.StatusOK, http.MethodGet, "/job-runs?filter=job%5Beq%5Dsecret", ""))
	if len(list.Runs) != 2 { // one by the hook's two submissions, one by the failing task
		t.Errorf("runs of secret: %d, want 2", len(list.Runs))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
