package server_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/auth/altus"
	"github.com/herdhq/herd/internal/server/servertest"
)

type headers map[string]string

// call sends one request and returns the status, headers and body.
func call(t *testing.T, method, url, body string, h headers) (int, http.Header, []byte) {
	t.Helper()
	return callWith(t, http.DefaultClient, method, url, body, h)
}

// callWith is call through client (one that trusts a test certificate).
func callWith(t *testing.T, client *http.Client, method, url, body string, h headers) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		if k == "Host" { // not a header to net/http
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkSpec(t, req, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, resp.Header, b
}

// jsonBody is body as a JSON request body for call; "" (no body) for nil.
func jsonBody(t *testing.T, body any) string {
	t.Helper()
	if body == nil {
		return ""
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func bearer(tok string) string { return "Bearer " + tok }

// knoxToken gets a token from a Knox endpoint and checks the answer's shape.
func knoxToken(t *testing.T, env *servertest.Env, method, topology, authz string) cde.TokenResponse {
	t.Helper()
	status, _, body := call(t, method, env.URL+"/gateway/"+topology+"/knoxtoken/api/v1/token", "", headers{"Authorization": authz, "Accept": "application/json"})
	if status != http.StatusOK {
		t.Fatalf("%s %s token: %d %s", method, topology, status, body)
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"access_token", "token_type", "expires_in", "token_id", "managed", "endpoint_public_cert"} {
		if _, ok := fields[k]; !ok {
			t.Fatalf("token answer lacks %q: %s", k, body)
		}
	}
	var tr cde.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.Managed != "false" {
		t.Fatalf("token_type %q managed %q", tr.TokenType, tr.Managed)
	}
	return tr
}

type knoxClaims struct {
	josejwt.Claims
	KnoxID  string `json:"knox.id"`
	Managed string `json:"managed.token"`
	KID     string `json:"kid"`
	JKU     string `json:"jku"`
}

// verifyWithJWKS checks a token with go-jose, an independent JWT library,
// against the JWKS the server publishes, and returns its claims.
func verifyWithJWKS(t *testing.T, env *servertest.Env, raw string, now time.Time) knoxClaims {
	t.Helper()
	status, _, body := call(t, http.MethodGet, env.URL+"/gateway/authtkn/knoxtoken/api/v1/jwks.json", "", nil)
	if status != http.StatusOK {
		t.Fatalf("jwks: %d %s", status, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("parse JWKS: %v", err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	kid := tok.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q", len(keys), kid)
	}
	var c knoxClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("verify JWT with JWKS: %v", err)
	}
	if err := c.ValidateWithLeeway(josejwt.Expected{Issuer: "KNOXSSO", Time: now}, 0); err != nil {
		t.Fatalf("validate claims: %v", err)
	}
	if c.KID != kid {
		t.Fatalf("kid claim %q != header kid %q", c.KID, kid)
	}
	return c
}

type accessKey struct {
	ID, Private string
}

func createAccessKey(t *testing.T, env *servertest.Env, user, pw, body string) accessKey {
	t.Helper()
	status, _, b := call(t, http.MethodPost, env.URL+"/api/v1/iam/createAccessKey", body, headers{"Authorization": basic(user, pw), "Content-Type": "application/json"})
	if status != http.StatusOK {
		t.Fatalf("createAccessKey: %d %s", status, b)
	}
	var out struct {
		AccessKey struct {
			AccessKeyID  string `json:"accessKeyId"`
			Status       string `json:"status"`
			CreationDate string `json:"creationDate"`
		} `json:"accessKey"`
		PrivateKey string `json:"privateKey"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.AccessKey.Status != "ACTIVE" || out.AccessKey.CreationDate == "" || len(out.PrivateKey) != 44 {
		t.Fatalf("createAccessKey answer: %s", b)
	}
	if seed, err := base64.StdEncoding.DecodeString(out.PrivateKey); err != nil || len(seed) != 32 {
		t.Fatalf("private key is not base64 of 32 bytes: %q", out.PrivateKey)
	}
	return accessKey{ID: out.AccessKey.AccessKeyID, Private: out.PrivateKey}
}

// signed returns the headers of a request signed as cdpcurl signs it.
func signed(t *testing.T, method, path string, k accessKey, date time.Time) headers {
	t.Helper()
	d := altus.FormatDate(date)
	auth, err := altus.Sign(method, "application/json", d, path, k.ID, k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return headers{"Content-Type": "application/json", "x-altus-date": d, "x-altus-auth": auth}
}

// workloadToken runs the signed generateWorkloadAuthToken call.
func workloadToken(t *testing.T, env *servertest.Env, k accessKey) string {
	t.Helper()
	const path = "/api/v1/iam/generateWorkloadAuthToken"
	status, _, b := call(t, http.MethodPost, env.URL+path, `{"workloadName": "DE"}`, signed(t, http.MethodPost, path, k, env.Clock.Now()))
	if status != http.StatusOK {
		t.Fatalf("generateWorkloadAuthToken: %d %s", status, b)
	}
	var out struct {
		Token    string `json:"token"`
		ExpireAt string `json:"expireAt"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Token == "" {
		t.Fatalf("no token: %s", b)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000-07:00", out.ExpireAt); err != nil {
		t.Fatalf("expireAt %q not in CDP's format: %v", out.ExpireAt, err)
	}
	return out.Token
}

// errorBody decodes an error answer into a generic map.
func errorBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("error body is not JSON: %q", b)
	}
	return m
}
