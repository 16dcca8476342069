package openapitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	job = `{"name":"etl","type":"spark","retentionPolicy":"keep_indefinitely","mounts":[{"resourceName":"code"}],
		"spark":{"file":"main.py","driverCores":1,"driverMemory":"1g","executorCores":1,"executorMemory":"1g"},
		"created":"2024-06-07T19:18:13Z","modified":"2024-06-07T19:18:13Z","lastUsed":"0001-01-01T00:00:00Z"}`
	file     = `{"path":"lib/util.py","signature":"da39a3ee5e6b4b0d3255bfef95601890afd80709","sizeBytes":0,"created":"2024-06-07T19:18:13Z","modified":"2024-06-07T19:18:13Z"}`
	resource = `{"name":"code","type":"files","status":"ready","signature":"da39a3ee5e6b4b0d3255bfef95601890afd80709",
		"retentionPolicy":"keep_indefinitely","hidden":false,"created":"2024-06-07T19:18:13Z","modified":"2024-06-07T19:18:13Z","lastUsed":"0001-01-01T00:00:00Z"}`
	notFound = `{"status":404,"message":"job \"etl\" not found"}`
)

var (
	jsonCT   = http.Header{"Content-Type": {"application/json"}}
	binaryCT = http.Header{"Content-Type": {"application/octet-stream"}}
)

func TestCheck(t *testing.T) {
	v, err := NewCDE()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		wantErr      string // empty: valid
	}{
		{"job", "GET", "/dex/api/v1/jobs/etl", 200, jsonCT, job, ""},
		{"created job", "POST", "/dex/api/v1/jobs", 201, jsonCT, job, ""},
		{"job list", "GET", "/dex/api/v1/jobs?limit=1&filter=name[eq]etl", 200, jsonCT,
			`{"jobs":[` + job + `],"meta":{"hasNext":true,"limit":1,"offset":0,"count":2}}`, ""},
		{"error body", "GET", "/dex/api/v1/jobs/etl", 404, jsonCT, notFound, ""},
		{"deleted", "DELETE", "/dex/api/v1/jobs/etl", 204, http.Header{}, "", ""},
		{"absolute URL", "GET", "http://herd.example:8080/dex/api/v1/info", 200, jsonCT,
			`{"appName":"default","appId":"vc1","clusterID":"vc1","version":"dev","cdeConsoleURL":""}`, ""},
		{"upload, nested path", "PUT", "/dex/api/v1/resources/code/lib/util.py", 201, jsonCT, file, ""},
		{"download, nested path", "GET", "/dex/api/v1/resources/code/lib/deep/util.py", 200, binaryCT, "\x00\x01 any bytes", ""},
		{"download, one segment", "GET", "/dex/api/v1/resources/code/util.py", 200, binaryCT, "print(1)", ""},
		{"resource alias", "GET", "/dex/api/v1/code?includeFiles=true", 200, jsonCT, resource, ""},
		{"resource", "GET", "/dex/api/v1/resources/code", 200, jsonCT, resource, ""},
		{"docs", "GET", "/dex/api/v1/docs", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<!DOCTYPE html>", ""},

		{"missing field", "GET", "/dex/api/v1/jobs/etl", 200, jsonCT, strings.Replace(job, `"created"`, `"createdAt"`, 1), `property "created" is missing`},
		{"wrong type", "GET", "/dex/api/v1/jobs/etl", 200, jsonCT, strings.Replace(job, `"driverCores":1`, `"driverCores":"1"`, 1), "driverCores"},
		{"bad enum", "GET", "/dex/api/v1/jobs/etl", 200, jsonCT, strings.Replace(job, `"type":"spark"`, `"type":"flink"`, 1), "flink"},
		{"bad error body", "GET", "/dex/api/v1/jobs/etl", 404, jsonCT, `{"error":"not found"}`, "status"},
		{"undocumented status", "GET", "/dex/api/v1/jobs/etl", 418, jsonCT, notFound, "status 418 is not documented"},
		{"create answers 200", "POST", "/dex/api/v1/jobs", 200, jsonCT, job, "status 200 is not documented"},
		{"body on 204", "DELETE", "/dex/api/v1/jobs/etl", 204, jsonCT, `{}`, "without a body"},
		{"empty JSON body", "POST", "/dex/api/v1/jobs", 201, jsonCT, "", "decode"},
		{"wrong media type", "GET", "/dex/api/v1/jobs/etl", 200, http.Header{"Content-Type": {"text/plain"}}, job, `"text/plain" is not documented`},
		{"bad file signature", "PUT", "/dex/api/v1/resources/code/a/b.py", 201, jsonCT, strings.Replace(file, "da39", "XX39", 1), "signature"},
		{"other path", "GET", "/gateway/authtkn/knoxtoken/api/v1/token", 200, jsonCT, `{}`, "no operation"},
		{"unknown path", "GET", "/dex/api/v1/jobs/etl/runs/1", 200, jsonCT, `{}`, "no operation"},
		{"other method", "PUT", "/dex/api/v1/jobs", 200, jsonCT, `{}`, "no operation"},
		{"unknown path answered 404", "GET", "/dex/api/v1/jobs/etl/runs/1", 404, jsonCT, notFound, ""},
		{"other method answered 405", "PUT", "/dex/api/v1/jobs", 405, jsonCT, `{"status":405,"message":"use GET or POST"}`, ""},
		{"other method answered 404", "PUT", "/dex/api/v1/jobs", 404, jsonCT, notFound, "not 405"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, nil)
			err := v.Check(req, c.status, c.header, []byte(c.body))
			if err != nil {
				t.Log(err)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("want an error with %q, got none", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("want an error with %q, got %v", c.wantErr, err)
			}
		})
	}
}

func TestNewRejectsBadDocuments(t *testing.T) {
	for name, src := range map[string]string{
		"not yaml":   "openapi: [",
		"no openapi": "info: {title: x, version: '1'}\npaths: {}\n",
	} {
		if _, err := New([]byte(src)); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
