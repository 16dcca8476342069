package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/server/servertest"
)

// The calls of Cloudera's "Accessing the Cloudera Data Engineering service
// using the API" (shared/seeds/000), with their bodies as printed, against
// a real server. Where the PDF wraps a line inside a JSON string, the line
// is joined; where its JSON is malformed, the test shows the clear 400 and
// then sends the body as intended.
func TestCDESeedCalls(t *testing.T) {
	env := servertest.Start(t)
	c := newCDEClient(t, env, "admin", env.AdminPassword)

	// Listing jobs: curl -H "Authorization: Bearer ${CDE_TOKEN}" -X GET .../jobs
	list := decode[cde.JobList](t, c.must(http.StatusOK, "GET", "/jobs", ""))
	if len(list.Jobs) != 0 || list.Meta.Limit != 20 || list.Meta.Count != 0 {
		t.Fatalf("empty job list: %+v", list)
	}

	// Creating a resource, for each of the three documented payloads.
	c.must(http.StatusCreated, "POST", "/resources", `{
  "name": "example-job-files",
  "type": "files",
  "retentionPolicy": "keep_indefinitely"
}`)
	py := decode[cde.Resource](t, c.must(http.StatusCreated, "POST", "/resources", `{
  "name": "example-python-env",
  "type": "python-env",
  "retentionPolicy": "keep_indefinitely",
  "pythonEnv": {
    "pythonVersion": "python3"
  }
}`))
	if py.Status != "pending-build" || py.PythonEnv == nil || py.PythonEnv.PythonVersion != "python3" {
		t.Fatalf("python-env resource: %+v", py)
	}
	img := decode[cde.Resource](t, c.must(http.StatusCreated, "POST", "/resources", `{
  "customRuntimeImage": {
    "credential": "string",
    "engine": "string",
    "image": "string",
    "modified": "string"
  },
  "name": "example-runtime-image",
  "retentionPolicy": "keep_indefinitely",
  "type": "custom-runtime-image"
}`))
	if img.CustomRuntimeImage == nil || img.CustomRuntimeImage.Image != "string" || img.Status != "ready" {
		t.Fatalf("custom-runtime-image resource: %+v", img)
	}

	// Verifying it: the page requests <jobs_api_url>/example-job-files.
	res := decode[cde.Resource](t, c.must(http.StatusOK, "GET", "/example-job-files", ""))
	if res.Name != "example-job-files" || res.Type != "files" || res.RetentionPolicy != "keep_indefinitely" || res.Files == nil || len(res.Files) != 0 {
		t.Fatalf("resource (with its files, none yet): %+v", res)
	}
	c.must(http.StatusOK, "GET", "/resources/example-job-files", "")

	// Deleting it, as the page does: DELETE <jobs_api_url>/example-job-files.
	c.must(http.StatusNoContent, "DELETE", "/example-job-files", "")
	c.must(http.StatusNotFound, "GET", "/resources/example-job-files", "")

	// Workload secrets: create, edit, list with the PDF's type[req] filter, get.
	c.must(http.StatusCreated, "POST", "/credentials", `{
  "workloadCred": {
    "aws-secret": "secret123",
    "db-pass": "dbpass123"
  },
  "name": "workload-cred-1",
  "type": "workload-credential",
  "description": "workload credential description"
}`)
	c.must(http.StatusOK, "PATCH", "/credentials/workload-cred-1", `{
  "workloadCred": {
    "aws-secret": "newsecret123",
    "db-pass": "newdbpass123"
  }
}`)
	creds := decode[cde.CredentialList](t, c.must(http.StatusOK, "GET", "/credentials?filter=type%5Breq%5Dworkload-credential", ""))
	if len(creds.Credentials) != 1 || creds.Meta != (cde.Meta{HasNext: false, Limit: 20, Offset: 0, Count: 1}) {
		t.Fatalf("credential list: %+v", creds)
	}
	got := creds.Credentials[0]
	if got.Name != "workload-cred-1" || got.Type != "workload-credential" || got.Description != "workload credential description" || got.Created == "" || got.Modified == "" {
		t.Fatalf("credential: %+v", got)
	}
	one := c.must(http.StatusOK, "GET", "/credentials/workload-cred-1", "")
	if strings.Contains(string(one), "secret123") || strings.Contains(string(one), "pass123") {
		t.Fatalf("secret values returned: %s", one)
	}

	// Linking secrets to a new job. The PDF's body ends in a stray "},".
	c.must(http.StatusCreated, "POST", "/resources", `{"name": "spark-jar", "type": "files"}`)
	c.must(http.StatusCreated, "POST", "/credentials", `{"name": "workload-cred-2", "type": "workload-credential", "workloadCred": {"k": "v"}}`)
	jobAsPrinted := `{
  "name": "test-workload-job",
  "spark": {
      "className": "org.apache.spark.examples.SparkPi",
      "file": "spark-examples_2.11-2.4.8.7.2.12.0-195.jar"
    },
    "mounts": [
      {
        "resourceName": "spark-jar",
        "dirPrefix": ""
      }
    ],
    "type": "spark",
    "workloadCredentials": ["workload-cred-1", "workload-cred-2"]
  },
}`
	status, body := c.do("POST", "/jobs", jobAsPrinted)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "after the JSON value") {
		t.Fatalf("the PDF's malformed body: %d %s", status, body)
	}
	jobAsIntended := strings.TrimSuffix(jobAsPrinted, "\n  },\n}") + "\n}"
	created := decode[cde.Job](t, c.must(http.StatusCreated, "POST", "/jobs", jobAsIntended))
	if strings.Join(created.WorkloadCredentials, ",") != "workload-cred-1,workload-cred-2" || created.Spark.ClassName != "org.apache.spark.examples.SparkPi" {
		t.Fatalf("job: %+v", created)
	}

	// Linking secrets to an existing job.
	c.must(http.StatusOK, "PATCH", "/jobs/test-workload-job", `{
  "workloadCredentials": ["workload-cred-1", "workload-cred-2"]
}`)

	// A credential in use cannot go; the answer names the job.
	status, body = c.do("DELETE", "/credentials/workload-cred-1", "")
	if status != http.StatusConflict || !strings.Contains(string(body), "test-workload-job") {
		t.Fatalf("deleting a credential in use: %d %s", status, body)
	}

	// Creating a job (the PDF wraps the one-line body inside strings).
	demo := `{"name":"demoJob","spark":{"className":"com.example.demoJobMainClass","file":"local:/path/to/demoJobJar"},"type":"spark"}`
	c.must(http.StatusCreated, "POST", "/jobs", demo)
	job := decode[cde.Job](t, c.must(http.StatusOK, "GET", "/jobs/demoJob", ""))
	if job.Name != "demoJob" || job.Type != "spark" || job.Spark.File != "local:/path/to/demoJobJar" || job.Mounts == nil {
		t.Fatalf("demoJob: %+v", job)
	}

	// Getting job information: GET .../jobs/SparkPi.
	c.must(http.StatusNotFound, "GET", "/jobs/SparkPi", "")
	c.must(http.StatusCreated, "POST", "/jobs", strings.Replace(demo, "demoJob", "SparkPi", 1))
	c.must(http.StatusOK, "GET", "/jobs/SparkPi", "")

	// Listing jobs again.
	list = decode[cde.JobList](t, c.must(http.StatusOK, "GET", "/jobs", ""))
	if list.Meta.Count != 3 || list.Jobs[0].Name != "SparkPi" || list.Jobs[2].Name != "test-workload-job" {
		t.Fatalf("job list: %+v", list)
	}

	// Deleting the secret once no job uses it.
	c.must(http.StatusNoContent, "DELETE", "/jobs/test-workload-job", "")
	c.must(http.StatusNoContent, "DELETE", "/credentials/workload-cred-1", "")
}
