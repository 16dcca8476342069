package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/herdhq/herd/internal/server/servertest"
	"github.com/herdhq/herd/openapi/openapitest"
)

// cdeSpec checks every answer of the jobs API against the checked-in
// OpenAPI document, so that the two cannot drift apart.
var cdeSpec = sync.OnceValues(openapitest.NewCDE)

func checkSpec(t *testing.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.Contains(req.URL.Path, "/dex/api/v1/") {
		return
	}
	v, err := cdeSpec()
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := v.Check(req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which the OpenAPI document does not describe: %v\n%s", req.Method, req.URL, status, err, body)
	}
}

// cdeClient calls one server's jobs API with a Bearer token, as the curl
// recipes of Cloudera's documentation do.
type cdeClient struct {
	t      *testing.T
	env    *servertest.Env
	token  string
	base   string
	host   string       // the Host the requests name, when not the server's address
	client *http.Client // nil: http.DefaultClient
}

func (c *cdeClient) httpClient() *http.Client {
	if c.client != nil {
		return c.client
	}
	return http.DefaultClient
}

func newCDEClient(t *testing.T, env *servertest.Env, user, pw string) *cdeClient {
	t.Helper()
	tok := knoxToken(t, env, http.MethodGet, "authtkn", basic(user, pw)).AccessToken
	return &cdeClient{t: t, env: env, token: tok, base: env.URL + "/dex/api/v1"}
}

// do sends one request with the headers of the documentation's examples.
func (c *cdeClient) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	h := headers{"Authorization": bearer(c.token), "Content-Type": "application/json", "Accept": "application/json"}
	if c.host != "" {
		h["Host"] = c.host
	}
	status, _, b := callWith(c.t, c.httpClient(), method, c.base+path, body, h)
	return status, b
}

// must sends a request and fails the test unless the status is want.
func (c *cdeClient) must(want int, method, path, body string) []byte {
	c.t.Helper()
	status, b := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	return b
}

// upload puts content at path of a resource as curl -F file=@... does.
func (c *cdeClient) upload(resource, path string, content []byte) (int, []byte) {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "upload.bin")
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPut, c.base+"/resources/"+resource+"/"+path, &buf)
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("Authorization", bearer(c.token))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.httpClient().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkSpec(c.t, req, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}
