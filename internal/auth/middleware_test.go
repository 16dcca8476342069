package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/altus"
)

// guarded returns a handler accepting every credential kind, which answers
// 200 with the user's name or 401.
func guarded(f *fixture) http.Handler {
	return f.svc.Require(Guard{
		Schemes: Basic | Bearer | WorkloadBearer | Session | CredentialHeaders | Signature,
		Realm:   "Test", Service: "test",
		Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.WriteHeader(apperr.KindOf(err).HTTPStatus())
		},
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFrom(r.Context())
		if !ok {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.Write([]byte(p.User))
	}))
}

func TestGuardSchemes(t *testing.T) {
	f := newFixture(t)
	h := f.svc.Require(Guard{Schemes: Bearer, Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
		w.WriteHeader(apperr.KindOf(err).HTTPStatus())
	}})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth("admin", f.pw)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("Basic on a Bearer-only route: %d %v", w.Code, w.Header())
	}
}

// FuzzAuthorizationHeader throws arbitrary Authorization, Credential and
// x-altus-auth headers at the guard. Nothing may panic, and nothing but the
// valid credentials may get through.
func FuzzAuthorizationHeader(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	k, priv, err := fx.svc.CreateAccessKey(ctx, fx.admin, "")
	if err != nil {
		f.Fatal(err)
	}
	tok, _ := fx.svc.IssueAccessToken(fx.admin, "")
	// valid is the oracle: the request carries one of the real credentials.
	valid := func(r *http.Request) bool {
		if r.Header.Get("Authorization") != "" {
			if u, p, ok := r.BasicAuth(); ok {
				return u == "admin" && p == fx.pw
			}
			scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			return strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(cred) == tok.Token
		}
		return r.Header.Get(HeaderCredentialID) == k.ID && r.Header.Get(HeaderCredentialSecret) == priv
	}
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+fx.pw)), "", "", "")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("admin:wrong")), "", "", "")
	f.Add("Basic YWRtaW4=", "", "", "")
	f.Add("Basic ====", "", "", "")
	f.Add("basic    ", "", "", "")
	f.Add("Bearer "+tok.Token, "", "", "")
	f.Add("Bearer "+tok.Token[:len(tok.Token)-3], "", "", "")
	f.Add("Bearer a.b.c", "", "", "")
	f.Add("", k.ID, priv[:40], "")
	f.Add("", "", "", altus.EncodeParams(k.ID, altus.MethodEd25519)+".AAAA")
	h := guarded(fx)
	f.Fuzz(func(t *testing.T, authz, credID, credSecret, altusAuth string) {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		set := func(k, v string) {
			if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
				r.Header.Set(k, v)
			}
		}
		set("Authorization", authz)
		set(HeaderCredentialID, credID)
		set(HeaderCredentialSecret, credSecret)
		set(altus.HeaderAuth, altusAuth)
		set(altus.HeaderDate, altus.FormatDate(fx.clock.now()))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			if !valid(r) {
				t.Fatalf("authenticated with Authorization %q, Credential-ID %q, Credential-Secret %q, x-altus-auth %q",
					authz, credID, credSecret, altusAuth)
			}
		case http.StatusUnauthorized:
			if w.Header().Get("WWW-Authenticate") != `Basic realm="Test"` {
				t.Fatalf("401 without challenge")
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

// The handshake of the cm_api client (spec cm-api.md §0, rules 1 and 2): a
// first request without credentials gets a challenge with realm "Cloudera
// Manager", the retry with Basic gets a session cookie, and later requests
// carry only the cookie.
func TestClouderaManagerHandshake(t *testing.T) {
	f := newFixture(t)
	h := f.svc.Require(Guard{
		Schemes: Basic | Session, Realm: "Cloudera Manager", Service: "cm",
		Fail: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.WriteHeader(apperr.KindOf(err).HTTPStatus())
		},
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		w.Write([]byte(p.User + " " + string(p.Method)))
	}))
	serve := func(mod func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/v19/tools/echo", nil)
		mod(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := serve(func(*http.Request) {})
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != `Basic realm="Cloudera Manager"` {
		t.Fatalf("first request: %d %v", w.Code, w.Header())
	}
	w = serve(func(r *http.Request) { r.SetBasicAuth("admin", f.pw) })
	cookies := w.Result().Cookies()
	if w.Code != http.StatusOK || len(cookies) != 1 || cookies[0].Name != "CLOUDERA_MANAGER_SESSIONID" {
		t.Fatalf("Basic retry: %d %v", w.Code, cookies)
	}
	w = serve(func(r *http.Request) { r.AddCookie(cookies[0]) })
	if w.Code != http.StatusOK || w.Body.String() != "admin session" {
		t.Fatalf("cookie only: %d %q", w.Code, w.Body)
	}
}
