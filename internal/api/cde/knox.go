package cde

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
)

// Topologies that serve the Knox token endpoint. authkn is a misspelling
// found in Cloudera's PDF documentation, served as an alias.
var topologies = map[string]bool{"authtkn": true, "authkn": true, "cdptkn": true}

// KnoxAPI serves the Knox token and JWKS endpoints.
type KnoxAPI struct {
	auth      *auth.Service
	publicURL string // base URL of the server as clients see it; from the request when empty
	certB64   string // base64 DER of the TLS certificate, or empty without TLS
	fail      func(http.ResponseWriter, *http.Request, error)
}

// NewKnox returns the Knox endpoints. certDER is the server's TLS
// certificate (nil without TLS), published as endpoint_public_cert.
func NewKnox(a *auth.Service, log *slog.Logger, publicURL string, certDER []byte) *KnoxAPI {
	k := &KnoxAPI{auth: a, publicURL: strings.TrimSuffix(publicURL, "/"), fail: errorWriter(log)}
	if certDER != nil {
		k.certB64 = base64.StdEncoding.EncodeToString(certDER)
	}
	return k
}

// Register adds the routes to mux.
func (k *KnoxAPI) Register(mux *http.ServeMux) {
	issue := k.topology(k.auth.Require(auth.Guard{
		Schemes: auth.Basic | auth.WorkloadBearer,
		Realm:   "Knox Gateway",
		Service: "knox",
		Fail:    k.fail,
	})(http.HandlerFunc(k.token)))
	mux.Handle("GET /gateway/{topology}/knoxtoken/api/v1/token", issue)
	mux.Handle("POST /gateway/{topology}/knoxtoken/api/v1/token", issue)
	mux.Handle("GET /gateway/{topology}/knoxtoken/api/v1/jwks.json", k.topology(http.HandlerFunc(k.jwks)))
}

// topology answers 404 for topologies Herd does not serve, before any
// authentication.
func (k *KnoxAPI) topology(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t := r.PathValue("topology"); !topologies[t] {
			k.fail(w, r, apperr.New(apperr.NotFound, "no gateway topology %q: use authtkn or cdptkn", t))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TokenResponse is Knox's token answer. ExpiresIn is an absolute time in
// epoch milliseconds, and Managed a string, as Knox sends them.
type TokenResponse struct {
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type"`
	ExpiresIn          int64  `json:"expires_in"`
	TokenID            string `json:"token_id"`
	Managed            string `json:"managed"`
	EndpointPublicCert string `json:"endpoint_public_cert"`
}

func (k *KnoxAPI) token(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	t, err := k.auth.IssueAccessToken(p, k.jwksURL(r))
	if err != nil {
		k.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusOK, TokenResponse{
		AccessToken:        t.Token,
		TokenType:          "Bearer",
		ExpiresIn:          t.ExpiresAt.UnixMilli(),
		TokenID:            t.ID,
		Managed:            "false",
		EndpointPublicCert: k.certB64,
	})
}

func (k *KnoxAPI) jwks(w http.ResponseWriter, _ *http.Request) {
	httpjson.Write(w, http.StatusOK, k.auth.JWKS())
}

func (k *KnoxAPI) jwksURL(r *http.Request) string {
	base := k.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/gateway/" + r.PathValue("topology") + "/knoxtoken/api/v1/jwks.json"
}
