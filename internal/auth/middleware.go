package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/altus"
)

// Scheme is a set of credential kinds a route accepts.
type Scheme uint8

// The credential kinds.
const (
	// Basic is "Authorization: Basic" with a user name and password.
	Basic Scheme = 1 << iota
	// Bearer is "Authorization: Bearer" with an access token.
	Bearer
	// WorkloadBearer is "Authorization: Bearer" with a CDP workload token.
	WorkloadBearer
	// Session is the session cookie; with it, a Basic login starts a session.
	Session
	// CredentialHeaders is the Credential-ID / Credential-Secret pair.
	CredentialHeaders
	// Signature is a CDP request signature (x-altus-auth).
	Signature
)

// SessionCookie is the name of the session cookie, as Cloudera Manager
// names it.
const SessionCookie = "CLOUDERA_MANAGER_SESSIONID"

// Header names of the Hadoop Eco access-key credentials.
const (
	HeaderCredentialID     = "Credential-ID"
	HeaderCredentialSecret = "Credential-Secret"
)

// Guard describes how a group of routes authenticates.
type Guard struct {
	Schemes Scheme
	// Realm, when set with Basic, is sent in the WWW-Authenticate challenge
	// of every 401 answer.
	Realm string
	// Service names the API family in an access key's last-use record.
	Service string
	// Fail writes an error in the API family's shape.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
}

// Require returns middleware that authenticates each request as g says and
// puts the Principal into the request's context, or answers with g.Fail.
func (s *Service) Require(g Guard) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := s.authenticate(w, r, g)
			if err != nil {
				if g.Schemes&Basic != 0 && g.Realm != "" && apperr.KindOf(err) == apperr.Unauthenticated {
					w.Header().Set("WWW-Authenticate", `Basic realm="`+g.Realm+`"`)
				}
				g.Fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

func (s *Service) authenticate(w http.ResponseWriter, r *http.Request, g Guard) (Principal, error) {
	ctx := r.Context()
	if authz := r.Header.Get("Authorization"); authz != "" {
		scheme, cred, _ := strings.Cut(authz, " ")
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "Basic") && g.Schemes&Basic != 0:
			user, pw, ok := r.BasicAuth()
			if !ok {
				return Principal{}, apperr.New(apperr.Unauthenticated, "malformed Basic credentials")
			}
			p, err := s.AuthenticatePassword(ctx, user, pw)
			if err != nil {
				return Principal{}, err
			}
			if g.Schemes&Session != 0 {
				s.keepSession(ctx, w, r, p)
			}
			return p, nil
		case strings.EqualFold(scheme, "Bearer") && g.Schemes&(Bearer|WorkloadBearer) != 0:
			return s.authenticateBearer(ctx, cred, g.Schemes)
		default:
			return Principal{}, apperr.New(apperr.Unauthenticated, "authorization scheme %q is not accepted here; use %s", scheme, g.Schemes.describe())
		}
	}
	if id := r.Header.Get(HeaderCredentialID); id != "" && g.Schemes&CredentialHeaders != 0 {
		return s.AuthenticateAccessKey(ctx, id, r.Header.Get(HeaderCredentialSecret), g.Service)
	}
	if r.Header.Get(altus.HeaderAuth) != "" && g.Schemes&Signature != 0 {
		return s.AuthenticateSignedRequest(ctx, r, g.Service)
	}
	if c, err := r.Cookie(SessionCookie); err == nil && g.Schemes&Session != 0 {
		return s.AuthenticateSession(ctx, c.Value)
	}
	return Principal{}, apperr.New(apperr.Unauthenticated, "authentication required: use %s", g.Schemes.describe())
}

func (s *Service) authenticateBearer(ctx context.Context, raw string, schemes Scheme) (Principal, error) {
	if raw == "" {
		return Principal{}, apperr.New(apperr.Unauthenticated, "empty Bearer token")
	}
	var err error
	if schemes&Bearer != 0 {
		var p Principal
		if p, err = s.VerifyAccessToken(ctx, raw); err == nil {
			return p, nil
		}
	}
	if schemes&WorkloadBearer != 0 {
		return s.VerifyWorkloadToken(ctx, raw)
	}
	return Principal{}, err
}

// keepSession sets a session cookie after a Basic login, unless the request
// already carries a live session of the same user (clients that send Basic
// on every call would otherwise open a session per call).
func (s *Service) keepSession(ctx context.Context, w http.ResponseWriter, r *http.Request, p Principal) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if cur, err := s.AuthenticateSession(ctx, c.Value); err == nil && cur.User == p.User {
			return
		}
	}
	id, exp, err := s.StartSession(ctx, p)
	if err != nil {
		s.log.Warn("could not start session", "user", p.User, "err", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
		MaxAge: int(exp.Sub(s.now()).Seconds()),
	})
}

func (sc Scheme) describe() string {
	var parts []string
	if sc&Basic != 0 {
		parts = append(parts, "HTTP Basic")
	}
	if sc&Bearer != 0 {
		parts = append(parts, "a Bearer access token")
	}
	if sc&WorkloadBearer != 0 {
		parts = append(parts, "a Bearer CDP workload token")
	}
	if sc&Session != 0 {
		parts = append(parts, "a session cookie")
	}
	if sc&CredentialHeaders != 0 {
		parts = append(parts, "Credential-ID and Credential-Secret headers")
	}
	if sc&Signature != 0 {
		parts = append(parts, "an x-altus-auth request signature")
	}
	return strings.Join(parts, " or ")
}
