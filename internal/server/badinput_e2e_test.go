package server_test

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/auth/altus"
	"github.com/herdhq/herd/internal/auth/token"
	"github.com/herdhq/herd/internal/server/servertest"
)

type shape int

const (
	cdeShape   shape = iota // {"status": n, "message": "..."}
	cdpShape                // {"code": "...", "message": "..."}
	plainShape              // {"status": n, "message": "..."} outside the families
)

type badCase struct {
	name    string
	method  string
	path    string
	body    string
	headers headers
	status  int
	shape   shape
	code    string // CDP code, for cdpShape
	message string // substring of the message
}

// snapshot is what bad requests must leave unchanged: users, access keys,
// virtual clusters and the published signing keys. An access key's lastUsage is left out: it
// records a successful authentication, which a request with a bad body
// still is (TestCredentialHeaders checks it).
func snapshot(t *testing.T, env *servertest.Env) string {
	t.Helper()
	admin := headers{"Authorization": basic("admin", env.AdminPassword)}
	users := mustStatus(t, http.StatusOK, http.MethodGet, env.URL+"/herd/v1/users", "", admin)
	var keys struct {
		AccessKeys []map[string]any `json:"accessKeys"`
	}
	if err := json.Unmarshal(mustStatus(t, http.StatusOK, http.MethodPost, env.URL+"/api/v1/iam/listAccessKeys", `{"all":true}`, admin), &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeys {
		delete(k, "lastUsage")
	}
	keyState, _ := json.Marshal(keys)
	jwks := mustStatus(t, http.StatusOK, http.MethodGet, env.URL+"/gateway/authtkn/knoxtoken/api/v1/jwks.json", "", nil)
	vcs := mustStatus(t, http.StatusOK, http.MethodGet, env.URL+"/herd/v1/virtual-clusters", "", admin)
	return string(users) + string(keyState) + string(vcs) + string(jwks)
}

func runBadCases(t *testing.T, env *servertest.Env, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, env)
			status, h, b := call(t, tc.method, env.URL+tc.path, tc.body, tc.headers)
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %s", status, tc.status, b)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			m := errorBody(t, b)
			msg, _ := m["message"].(string)
			switch tc.shape {
			case cdeShape, plainShape:
				if m["status"] != float64(tc.status) || len(m) != 2 {
					t.Fatalf("not the CDE error shape: %s", b)
				}
			case cdpShape:
				if m["code"] != tc.code || len(m) != 2 {
					t.Fatalf("not the CDP error shape with code %s: %s", tc.code, b)
				}
			}
			if !strings.Contains(msg, tc.message) {
				t.Fatalf("message %q lacks %q", msg, tc.message)
			}
			if after := snapshot(t, env); after != before {
				t.Fatalf("state changed:\n%s", cmp.Diff(before, after))
			}
		})
	}
}

func TestBadCredentialsAtKnox(t *testing.T) {
	env := servertest.Start(t)
	tok := "/gateway/authtkn/knoxtoken/api/v1/token"
	runBadCases(t, env, []badCase{
		{name: "wrong password", method: "GET", path: tok, headers: headers{"Authorization": basic("admin", "wrong-password")}, status: 401, message: "invalid user name or password"},
		{name: "unknown user", method: "GET", path: tok, headers: headers{"Authorization": basic("nobody", "whatever-pw")}, status: 401, message: "invalid user name or password"},
		{name: "no credentials", method: "POST", path: tok, status: 401, message: "authentication required"},
		{name: "basic not base64", method: "GET", path: tok, headers: headers{"Authorization": "Basic ???"}, status: 401, message: "malformed Basic"},
		{name: "basic without colon", method: "GET", path: tok, headers: headers{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin"))}, status: 401, message: "malformed Basic"},
		{name: "other scheme", method: "GET", path: tok, headers: headers{"Authorization": "Negotiate abc"}, status: 401, message: "not accepted"},
		{name: "unknown topology", method: "GET", path: "/gateway/knoxsso/knoxtoken/api/v1/token", headers: headers{"Authorization": basic("admin", env.AdminPassword)}, status: 404, message: "no gateway topology"},
		{name: "access token is no CDP token", method: "GET", path: "/gateway/cdptkn/knoxtoken/api/v1/token",
			headers: headers{"Authorization": bearer(knoxToken(t, env, "GET", "authtkn", basic("admin", env.AdminPassword)).AccessToken)}, status: 401, message: "invalid or expired token"},
	})
	// The challenge names a realm, so challenge/response clients retry with Basic.
	_, h, _ := call(t, "GET", env.URL+tok, "", nil)
	if got := h.Get("WWW-Authenticate"); got != `Basic realm="Knox Gateway"` {
		t.Fatalf("WWW-Authenticate = %q", got)
	}
}

// forged returns tokens the server must refuse, each for user admin.
func forged(t *testing.T, env *servertest.Env, issuer string) map[string]string {
	t.Helper()
	now := env.Clock.Now()
	claims := func() *token.Claims {
		return &token.Claims{RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "admin", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	other, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := token.NewKeyset(other).Sign(claims(), "")

	// The server's published key, for the key-confusion attacks.
	var set token.JWKS
	if err := json.Unmarshal(mustStatus(t, 200, "GET", env.URL+"/gateway/authtkn/knoxtoken/api/v1/jwks.json", "", nil), &set); err != nil {
		t.Fatal(err)
	}
	kid := set.Keys[0].KID
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	payload, _ := json.Marshal(claims())
	hs256 := func(secret []byte) string {
		in := b64(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`) + "." + b64(string(payload))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	// A real token of user bob, with the subject rewritten to admin.
	return map[string]string{
		"signed by another key": otherKey,
		"alg none":              b64(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`) + "." + b64(string(payload)) + ".",
		"HS256 with public key": hs256(der),
		"HS256 with PEM key":    hs256(pemKey),
		"not a JWT":             "abc.def.ghi",
	}
}

func TestForgedTokens(t *testing.T) {
	env := servertest.Start(t)
	admin := basic("admin", env.AdminPassword)
	mustStatus(t, http.StatusCreated, "POST", env.URL+"/herd/v1/users", `{"name":"bob","password":"bob-secret-1"}`, headers{"Authorization": admin})
	bobTok := knoxToken(t, env, "GET", "authtkn", basic("bob", "bob-secret-1")).AccessToken
	parts := strings.Split(bobTok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"sub":"bob"`, `"sub":"admin"`, 1))) + "." + parts[2]
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01
	flipped := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	// Access tokens, on an API that takes them.
	access := forged(t, env, "KNOXSSO")
	access["tampered claims"] = tampered
	access["flipped signature bit"] = flipped
	expiring := knoxToken(t, env, "GET", "authtkn", admin).AccessToken
	var cases []badCase
	for name, raw := range access {
		cases = append(cases, badCase{name: "access token " + name, method: "GET", path: "/herd/v1/whoami",
			headers: headers{"Authorization": bearer(raw)}, status: 401, shape: cdpShape, code: "UNAUTHENTICATED", message: "invalid or expired token"})
	}
	// CDP workload tokens, at the Knox exchange.
	for name, raw := range forged(t, env, "herd-iam") {
		cases = append(cases, badCase{name: "workload token " + name, method: "GET", path: "/gateway/cdptkn/knoxtoken/api/v1/token",
			headers: headers{"Authorization": bearer(raw)}, status: 401, message: "invalid or expired token"})
	}
	runBadCases(t, env, cases)

	env.Clock.Advance(time.Hour + time.Second)
	runBadCases(t, env, []badCase{{name: "expired access token", method: "GET", path: "/herd/v1/whoami",
		headers: headers{"Authorization": bearer(expiring)}, status: 401, shape: cdpShape, code: "UNAUTHENTICATED", message: "invalid or expired token"}})
}

func TestBadSignedRequests(t *testing.T) {
	env := servertest.Start(t)
	const path = "/api/v1/iam/generateWorkloadAuthToken"
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	inactive := createAccessKey(t, env, "admin", env.AdminPassword, "")
	mustStatus(t, 200, "POST", env.URL+"/api/v1/iam/updateAccessKey", `{"accessKeyId":"`+inactive.ID+`","status":"INACTIVE"}`, headers{"Authorization": basic("admin", env.AdminPassword)})
	now := env.Clock.Now()
	body := `{"workloadName": "DE"}`
	withAuth := func(h headers, auth string) headers {
		out := headers{}
		for k, v := range h {
			out[k] = v
		}
		out["x-altus-auth"] = auth
		return out
	}
	good := func() headers {
		env.Clock.Advance(time.Second)
		return signed(t, "POST", path, k, env.Clock.Now())
	}
	params := altus.EncodeParams(k.ID, altus.MethodEd25519)
	sig := strings.SplitN(good()["x-altus-auth"], ".", 2)[1]
	otherSigner := accessKey{ID: k.ID, Private: inactive.Private} // right id, wrong private key
	unauth := func(name string, h headers, msg string) badCase {
		return badCase{name: name, method: "POST", path: path, body: body, headers: h, status: 401, shape: cdpShape, code: "UNAUTHENTICATED", message: msg}
	}
	noDate := good()
	delete(noDate, "x-altus-date")
	wrongCT := good()
	wrongCT["Content-Type"] = "text/plain"
	runBadCases(t, env, []badCase{
		unauth("date too old", signed(t, "POST", path, k, now.Add(-6*time.Minute)), "outside the allowed window"),
		unauth("date too new", signed(t, "POST", path, k, now.Add(6*time.Minute)), "outside the allowed window"),
		unauth("date unparsable", withAuth(headers{"x-altus-date": "yesterday", "Content-Type": "application/json"}, good()["x-altus-auth"]), "parse x-altus-date"),
		unauth("date missing", noDate, "missing x-altus-date"),
		unauth("garbage header", withAuth(good(), "garbage"), "malformed x-altus-auth"),
		unauth("params not base64", withAuth(good(), "%%%."+sig), "malformed x-altus-auth"),
		unauth("params not JSON", withAuth(good(), base64.URLEncoding.EncodeToString([]byte("nope"))+"."+sig), "malformed x-altus-auth"),
		unauth("empty signature", withAuth(good(), params+"."), "malformed x-altus-auth"),
		unauth("oversized header", withAuth(good(), params+"."+strings.Repeat("A", 4000)), "malformed x-altus-auth"),
		unauth("rsav1 method", withAuth(good(), altus.EncodeParams(k.ID, "rsav1")+"."+sig), "not supported"),
		unauth("unknown key id", withAuth(good(), altus.EncodeParams("no-such-key", altus.MethodEd25519)+"."+sig), "does not verify"),
		unauth("signed with another key", signed(t, "POST", path, otherSigner, env.Clock.Now()), "does not verify"),
		unauth("signed for another path", withAuth(good(), signed(t, "POST", "/api/v1/iam/listAccessKeys", k, env.Clock.Now())["x-altus-auth"]), "does not verify"),
		unauth("content type changed", wrongCT, "does not verify"),
		unauth("inactive key", signed(t, "POST", path, inactive, env.Clock.Now()), "inactive"),
		unauth("basic is not enough", headers{"Authorization": basic("admin", env.AdminPassword), "Content-Type": "application/json"}, "not accepted"),
	})

	// Replay: the same signed request twice inside the window.
	h := good()
	mustStatus(t, 200, "POST", env.URL+path, body, h)
	runBadCases(t, env, []badCase{unauth("replayed signature", h, "already used")})
}

func TestBadBodies(t *testing.T) {
	env := servertest.Start(t)
	const path = "/api/v1/iam/generateWorkloadAuthToken"
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	req := func(name, body string, status int, code, msg string) badCase {
		env.Clock.Advance(time.Second)
		return badCase{name: name, method: "POST", path: path, body: body, headers: signed(t, "POST", path, k, env.Clock.Now()), status: status, shape: cdpShape, code: code, message: msg}
	}
	big := `{"workloadName": "DE", "environmentCrn": "` + strings.Repeat("x", 2<<20) + `"}`
	runBadCases(t, env, []badCase{
		req("malformed JSON", `{"workloadName": `, 400, "INVALID_ARGUMENT", "malformed JSON"),
		req("empty body", ``, 400, "INVALID_ARGUMENT", "empty"),
		req("wrong type", `{"workloadName": 7}`, 400, "INVALID_ARGUMENT", `field "workloadName" must be of type string`),
		req("unknown field", `{"workloadName": "DE", "color": "red"}`, 400, "INVALID_ARGUMENT", `unknown field "color"`),
		req("missing workload", `{}`, 400, "INVALID_ARGUMENT", "workloadName is required"),
		req("unknown workload", `{"workloadName": "ML"}`, 400, "INVALID_ARGUMENT", `unknown workloadName "ML"`),
		req("oversized body", big, 413, "INVALID_ARGUMENT", "larger than the limit of 1048576 bytes"),
	})
}

func TestOversizedChunkedBody(t *testing.T) {
	env := servertest.Start(t)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	const path = "/api/v1/iam/generateWorkloadAuthToken"
	body := `{"workloadName": "DE", "environmentCrn": "` + strings.Repeat("x", 2<<20) + `"}`
	// No Content-Length: the limit is found while reading.
	req, _ := http.NewRequest("POST", env.URL+path, struct{ *strings.Reader }{strings.NewReader(body)})
	for key, v := range signed(t, "POST", path, k, env.Clock.Now()) {
		req.Header.Set(key, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 || !strings.Contains(string(b), `"code":"INVALID_ARGUMENT"`) {
		t.Fatalf("status %d (content length %d) %s, want 413 in the CDP shape", resp.StatusCode, req.ContentLength, b)
	}
}

func TestUserAndKeyManagementErrors(t *testing.T) {
	env := servertest.Start(t)
	admin := headers{"Authorization": basic("admin", env.AdminPassword)}
	mustStatus(t, 201, "POST", env.URL+"/herd/v1/users", `{"name":"bob","password":"bob-secret-1","role":"user"}`, admin)
	mustStatus(t, 201, "POST", env.URL+"/herd/v1/users", `{"name":"rita","password":"rita-secret-1","role":"read-only"}`, admin)
	bob := headers{"Authorization": basic("bob", "bob-secret-1")}
	ritaKey := createAccessKey(t, env, "rita", "rita-secret-1", "")
	e := func(name, method, path, body string, h headers, status int, code, msg string) badCase {
		return badCase{name: name, method: method, path: path, body: body, headers: h, status: status, shape: cdpShape, code: code, message: msg}
	}
	runBadCases(t, env, []badCase{
		e("user creates user", "POST", "/herd/v1/users", `{"name":"eve","password":"eve-secret-1"}`, bob, 403, "PERMISSION_DENIED", "only an admin"),
		e("user lists users", "GET", "/herd/v1/users", "", bob, 403, "PERMISSION_DENIED", "only an admin"),
		e("user reads admin", "GET", "/herd/v1/users/admin", "", bob, 403, "PERMISSION_DENIED", "only an admin"),
		e("user changes role", "PATCH", "/herd/v1/users/bob", `{"role":"admin"}`, bob, 403, "PERMISSION_DENIED", "only an admin"),
		e("user sets another password", "PATCH", "/herd/v1/users/admin", `{"password":"hijacked-1"}`, bob, 403, "PERMISSION_DENIED", "only an admin"),
		e("own password without current", "PATCH", "/herd/v1/users/bob", `{"password":"bob-secret-2"}`, bob, 400, "INVALID_ARGUMENT", "current password"),
		e("own password with wrong current", "PATCH", "/herd/v1/users/bob", `{"password":"bob-secret-2","currentPassword":"nope-nope"}`, bob, 403, "PERMISSION_DENIED", "current password is wrong"),
		e("duplicate user", "POST", "/herd/v1/users", `{"name":"bob","password":"bob-secret-1"}`, admin, 409, "ALREADY_EXISTS", "already exists"),
		e("bad role", "POST", "/herd/v1/users", `{"name":"eve","password":"eve-secret-1","role":"root"}`, admin, 400, "INVALID_ARGUMENT", "unknown role"),
		e("short password", "POST", "/herd/v1/users", `{"name":"eve","password":"short"}`, admin, 400, "INVALID_ARGUMENT", "password must be"),
		e("bad name", "POST", "/herd/v1/users", `{"name":"../eve","password":"eve-secret-1"}`, admin, 400, "INVALID_ARGUMENT", "invalid user name"),
		e("missing user", "DELETE", "/herd/v1/users/ghost", "", admin, 404, "NOT_FOUND", "not found"),
		e("delete last admin", "DELETE", "/herd/v1/users/admin", "", admin, 409, "ALREADY_EXISTS", "last admin"),
		e("demote last admin", "PATCH", "/herd/v1/users/admin", `{"role":"user"}`, admin, 409, "ALREADY_EXISTS", "last admin"),
		e("empty update", "PATCH", "/herd/v1/users/bob", `{}`, admin, 400, "INVALID_ARGUMENT", "nothing to change"),
		e("key for another user", "POST", "/api/v1/iam/createAccessKey", `{"user":"admin"}`, bob, 403, "PERMISSION_DENIED", "only an admin"),
		e("key for missing user", "POST", "/api/v1/iam/createAccessKey", `{"user":"ghost"}`, admin, 404, "NOT_FOUND", "not found"),
		e("key of another CRN", "POST", "/api/v1/iam/createAccessKey", `{"user":"crn:altus:iam:us-west-1:acct:user:bob"}`, admin, 400, "INVALID_ARGUMENT", "not a user CRN"),
		e("key type V1", "POST", "/api/v1/iam/createAccessKey", `{"type":"V1"}`, admin, 400, "INVALID_ARGUMENT", "not supported"),
		e("someone else's key", "POST", "/api/v1/iam/deleteAccessKey", `{"accessKeyId":"`+ritaKey.ID+`"}`, bob, 404, "NOT_FOUND", "not found"),
		e("bad status", "POST", "/api/v1/iam/updateAccessKey", `{"accessKeyId":"`+ritaKey.ID+`","status":"GONE"}`, admin, 400, "INVALID_ARGUMENT", "unknown access key status"),
		e("bad page size", "POST", "/api/v1/iam/listAccessKeys", `{"pageSize":501}`, admin, 400, "INVALID_ARGUMENT", "pageSize"),
		e("bad page token", "POST", "/api/v1/iam/listAccessKeys", `{"startingToken":"x"}`, admin, 400, "INVALID_ARGUMENT", "startingToken"),
		e("all keys as user", "POST", "/api/v1/iam/listAccessKeys", `{"all":true}`, bob, 403, "PERMISSION_DENIED", "only an admin"),
		{name: "wrong method", method: "PUT", path: "/herd/v1/whoami", status: 405, shape: plainShape, message: "use GET"},
		{name: "no such endpoint", method: "GET", path: "/herd/v1/nothing", status: 404, shape: plainShape, message: "no endpoint"},
	})
}

func TestAccessKeyLimit(t *testing.T) {
	env := servertest.Start(t)
	for range 10 {
		createAccessKey(t, env, "admin", env.AdminPassword, "")
	}
	runBadCases(t, env, []badCase{{name: "eleventh key", method: "POST", path: "/api/v1/iam/createAccessKey",
		headers: headers{"Authorization": basic("admin", env.AdminPassword)}, status: 409, shape: cdpShape, code: "ALREADY_EXISTS", message: "the most allowed"}})
}

// describeService, the DE call the CDE SDK makes for the environment CRN
// before generateWorkloadAuthToken (signed; Basic also works here).
func TestDescribeService(t *testing.T) {
	env := servertest.Start(t)
	admin := headers{"Authorization": basic("admin", env.AdminPassword), "Content-Type": "application/json"}
	var out struct {
		Service map[string]any `json:"service"`
	}
	if err := json.Unmarshal(mustStatus(t, http.StatusOK, http.MethodPost, env.URL+"/api/v1/de/describeService", `{"clusterId": "cluster-herd"}`, admin), &out); err != nil {
		t.Fatal(err)
	}
	if crn, _ := out.Service["environmentCrn"].(string); !strings.HasPrefix(crn, "crn:cdp:environments:") || out.Service["clusterId"] != "cluster-herd" || out.Service["status"] != "ClusterCreationCompleted" {
		t.Fatalf("describeService: %v", out.Service)
	}
	e := func(name, body string, h headers, status int, code, msg string) badCase {
		return badCase{name: name, method: http.MethodPost, path: "/api/v1/de/describeService", body: body, headers: h, status: status, shape: cdpShape, code: code, message: msg}
	}
	runBadCases(t, env, []badCase{
		e("another service", `{"clusterId": "cluster-x1"}`, admin, 404, "NOT_FOUND", "not found"),
		e("no cluster id", `{}`, admin, 400, "INVALID_ARGUMENT", "clusterId is required"),
		e("an unknown field", `{"clusterId": "cluster-herd", "x": 1}`, admin, 400, "INVALID_ARGUMENT", "x"),
		e("no credentials", `{"clusterId": "cluster-herd"}`, nil, 401, "UNAUTHENTICATED", ""),
	})
}
