package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/server/servertest"
)

// The seeds' first recipe: curl -u <user> <auth_endpoint>, GET and POST, on
// every topology spelling, verified against the published JWKS.
func TestBasicToJWT(t *testing.T) {
	env := servertest.Start(t)
	for _, topology := range []string{"authtkn", "authkn", "cdptkn"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+topology, func(t *testing.T) {
				before := env.Clock.Now()
				tr := knoxToken(t, env, method, topology, basic("admin", env.AdminPassword))
				c := verifyWithJWKS(t, env, tr.AccessToken, env.Clock.Now())
				if c.Subject != "admin" {
					t.Errorf("sub = %q", c.Subject)
				}
				if c.KnoxID != tr.TokenID || c.Managed != "false" {
					t.Errorf("knox.id %q / token_id %q, managed.token %q", c.KnoxID, tr.TokenID, c.Managed)
				}
				wantJKU := env.URL + "/gateway/" + topology + "/knoxtoken/api/v1/jwks.json"
				if c.JKU != wantJKU {
					t.Errorf("jku = %q, want %q", c.JKU, wantJKU)
				}
				// expires_in is absolute, in epoch milliseconds, one hour ahead.
				wantExp := before.Add(time.Hour).UnixMilli()
				if d := tr.ExpiresIn - wantExp; d < -2000 || d > 2000 {
					t.Errorf("expires_in = %d, want about %d", tr.ExpiresIn, wantExp)
				}
				if c.Expiry.Time().UnixMilli() != tr.ExpiresIn {
					t.Errorf("exp claim %v differs from expires_in %d", c.Expiry.Time(), tr.ExpiresIn)
				}
			})
		}
	}
}

// The token works on the APIs that take Bearer tokens.
func TestAccessTokenAuthenticatesAPICalls(t *testing.T) {
	env := servertest.Start(t)
	tr := knoxToken(t, env, http.MethodGet, "authtkn", basic("admin", env.AdminPassword))
	status, _, b := call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Authorization": bearer(tr.AccessToken)})
	if status != http.StatusOK || !strings.Contains(string(b), `"authMethod":"access-token"`) {
		t.Fatalf("whoami with token: %d %s", status, b)
	}
}

// The seeds' second recipe: an access key signs generateWorkloadAuthToken,
// and the CDP token is exchanged at the Knox endpoint for a JWT.
func TestAccessKeyToCDPTokenToJWT(t *testing.T) {
	env := servertest.Start(t)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	cdpToken := workloadToken(t, env, k)
	for _, topology := range []string{"cdptkn", "authtkn"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			tr := knoxToken(t, env, method, topology, bearer(cdpToken))
			if c := verifyWithJWKS(t, env, tr.AccessToken, env.Clock.Now()); c.Subject != "admin" {
				t.Fatalf("sub = %q", c.Subject)
			}
		}
	}
}

// Clients disagree on whether the query is signed; both forms verify, on
// both path prefixes.
func TestSignatureVariants(t *testing.T) {
	env := servertest.Start(t)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	for _, tc := range []struct{ name, path, query, signedPath string }{
		{"cdp path", "/api/v1/iam/generateWorkloadAuthToken", "", "/api/v1/iam/generateWorkloadAuthToken"},
		{"altus path", "/iam/generateWorkloadAuthToken", "", "/iam/generateWorkloadAuthToken"},
		{"query signed", "/api/v1/iam/generateWorkloadAuthToken", "?a=b&c=d", "/api/v1/iam/generateWorkloadAuthToken?a=b&c=d"},
		{"query not signed", "/api/v1/iam/generateWorkloadAuthToken", "?a=b", "/api/v1/iam/generateWorkloadAuthToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.Clock.Advance(time.Second) // a new date, so a new signature
			h := signed(t, http.MethodPost, tc.signedPath, k, env.Clock.Now())
			status, _, b := call(t, http.MethodPost, env.URL+tc.path+tc.query, `{"workloadName":"DE"}`, h)
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, b)
			}
		})
	}
}

// A token stops working when its user is gone or changed password; the
// role it acts with is the user's current one.
func TestTokensFollowTheUser(t *testing.T) {
	env := servertest.Start(t)
	admin := basic("admin", env.AdminPassword)
	mustStatus(t, http.StatusCreated, http.MethodPost, env.URL+"/herd/v1/users", `{"name":"bob","password":"bob-secret-1","role":"user"}`, headers{"Authorization": admin})
	tok := knoxToken(t, env, http.MethodGet, "authtkn", basic("bob", "bob-secret-1")).AccessToken
	who := func() (int, string) {
		status, _, b := call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Authorization": bearer(tok)})
		return status, string(b)
	}
	if status, b := who(); status != http.StatusOK || !strings.Contains(b, `"role":"user"`) {
		t.Fatalf("whoami: %d %s", status, b)
	}
	mustStatus(t, http.StatusOK, http.MethodPatch, env.URL+"/herd/v1/users/bob", `{"role":"read-only"}`, headers{"Authorization": admin})
	if status, b := who(); status != http.StatusOK || !strings.Contains(b, `"role":"read-only"`) {
		t.Fatalf("role change not applied: %d %s", status, b)
	}
	env.Clock.Advance(2 * time.Second)
	mustStatus(t, http.StatusOK, http.MethodPatch, env.URL+"/herd/v1/users/bob", `{"password":"bob-secret-2"}`, headers{"Authorization": admin})
	if status, b := who(); status != http.StatusUnauthorized {
		t.Fatalf("token survived a password change: %d %s", status, b)
	}
	tok = knoxToken(t, env, http.MethodGet, "authtkn", basic("bob", "bob-secret-2")).AccessToken
	if status, _ := who(); status != http.StatusOK {
		t.Fatal("new token refused")
	}
	mustStatus(t, http.StatusNoContent, http.MethodDelete, env.URL+"/herd/v1/users/bob", "", headers{"Authorization": admin})
	if status, _ := who(); status != http.StatusUnauthorized {
		t.Fatal("token survived its user")
	}
}

// A workload token dies with the access key it was made with.
func TestWorkloadTokenFollowsItsKey(t *testing.T) {
	env := servertest.Start(t)
	admin := basic("admin", env.AdminPassword)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	cdpToken := workloadToken(t, env, k)
	mustStatus(t, http.StatusOK, http.MethodPost, env.URL+"/api/v1/iam/updateAccessKey", `{"accessKeyId":"`+k.ID+`","status":"INACTIVE"}`, headers{"Authorization": admin})
	mustStatus(t, http.StatusUnauthorized, http.MethodGet, env.URL+"/gateway/cdptkn/knoxtoken/api/v1/token", "", headers{"Authorization": bearer(cdpToken)})
	mustStatus(t, http.StatusOK, http.MethodPost, env.URL+"/api/v1/iam/updateAccessKey", `{"accessKeyId":"`+k.ID+`","status":"ACTIVE"}`, headers{"Authorization": admin})
	mustStatus(t, http.StatusOK, http.MethodGet, env.URL+"/gateway/cdptkn/knoxtoken/api/v1/token", "", headers{"Authorization": bearer(cdpToken)})
	mustStatus(t, http.StatusOK, http.MethodPost, env.URL+"/api/v1/iam/deleteAccessKey", `{"accessKeyId":"`+k.ID+`"}`, headers{"Authorization": admin})
	mustStatus(t, http.StatusUnauthorized, http.MethodGet, env.URL+"/gateway/cdptkn/knoxtoken/api/v1/token", "", headers{"Authorization": bearer(cdpToken)})
}

// Tokens, keys and users survive a restart; the signing key is the same.
func TestRestartKeepsCredentials(t *testing.T) {
	env := servertest.Start(t)
	if !strings.Contains(env.Banner, env.AdminPassword) {
		t.Fatalf("first start did not print the admin password: %q", env.Banner)
	}
	tok := knoxToken(t, env, http.MethodGet, "authtkn", basic("admin", env.AdminPassword)).AccessToken
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	env.Stop()

	again := servertest.StartWithClock(t, env.Clock, servertest.WithDataDir(env.DataDir))
	if again.Banner != "" {
		t.Fatalf("second start printed %q", again.Banner)
	}
	if again.AdminPassword != env.AdminPassword {
		t.Fatal("initial password file rewritten")
	}
	verifyWithJWKS(t, again, tok, again.Clock.Now())
	mustStatus(t, http.StatusOK, http.MethodGet, again.URL+"/herd/v1/whoami", "", headers{"Authorization": bearer(tok)})
	workloadToken(t, again, k)
}

// A session cookie, Cloudera Manager style: Basic once, then the cookie.
func TestSessionCookie(t *testing.T) {
	env := servertest.Start(t)
	status, h, b := call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Authorization": basic("admin", env.AdminPassword)})
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, b)
	}
	cookie := h.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "CLOUDERA_MANAGER_SESSIONID=") || !strings.Contains(cookie, "HttpOnly") {
		t.Fatalf("Set-Cookie = %q", cookie)
	}
	sess := strings.SplitN(cookie, ";", 2)[0]
	status, _, b = call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Cookie": sess})
	if status != http.StatusOK || !strings.Contains(string(b), `"authMethod":"session"`) {
		t.Fatalf("cookie-only call: %d %s", status, b)
	}
	// Basic with a live cookie of the same user opens no new session.
	_, h, _ = call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Authorization": basic("admin", env.AdminPassword), "Cookie": sess})
	if h.Get("Set-Cookie") != "" {
		t.Fatalf("new session on every Basic call: %q", h.Get("Set-Cookie"))
	}
	// Sessions expire when idle.
	env.Clock.Advance(31 * time.Minute)
	mustStatus(t, http.StatusUnauthorized, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Cookie": sess})
	// Log out ends a session.
	_, h, _ = call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Authorization": basic("admin", env.AdminPassword)})
	sess = strings.SplitN(h.Get("Set-Cookie"), ";", 2)[0]
	mustStatus(t, http.StatusNoContent, http.MethodPost, env.URL+"/herd/v1/logout", "", headers{"Cookie": sess})
	mustStatus(t, http.StatusUnauthorized, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Cookie": sess})
}

// Hadoop Eco style: the access key as Credential-ID / Credential-Secret,
// header names in any case.
func TestCredentialHeaders(t *testing.T) {
	env := servertest.Start(t)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	for _, names := range [][2]string{{"Credential-ID", "Credential-Secret"}, {"credential-id", "credential-secret"}} {
		status, _, b := call(t, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{names[0]: k.ID, names[1]: k.Private})
		if status != http.StatusOK || !strings.Contains(string(b), `"authMethod":"access-key"`) || !strings.Contains(string(b), k.ID) {
			t.Fatalf("%v: %d %s", names, status, b)
		}
	}
	mustStatus(t, http.StatusUnauthorized, http.MethodGet, env.URL+"/herd/v1/whoami", "", headers{"Credential-ID": k.ID, "Credential-Secret": strings.Repeat("A", 43) + "="})
	// The key's last use is recorded.
	status, _, b := call(t, http.MethodPost, env.URL+"/api/v1/iam/getAccessKey", `{"accessKeyId":"`+k.ID+`"}`, headers{"Authorization": basic("admin", env.AdminPassword)})
	var out struct {
		AccessKey struct {
			LastUsage struct{ ServiceName string } `json:"lastUsage"`
		} `json:"accessKey"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &out) != nil || out.AccessKey.LastUsage.ServiceName != "herd" {
		t.Fatalf("getAccessKey: %d %s", status, b)
	}
}

func mustStatus(t *testing.T, want int, method, url, body string, h headers) []byte {
	t.Helper()
	status, _, b := call(t, method, url, body, h)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, status, b, want)
	}
	return b
}
