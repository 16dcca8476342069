package hostagent

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/inventory"
)

// API serves the agent protocol.
type API struct {
	inv        *inventory.Service
	auth       *auth.Service
	json       httpjson.Decoder
	writeError func(http.ResponseWriter, *http.Request, error)
	// closing ends the long polls when the server shuts down: an HTTP
	// server's shutdown waits for requests, it does not cancel them.
	closing   chan struct{}
	closeOnce sync.Once
}

// New returns the agent protocol API.
func New(inv *inventory.Service, a *auth.Service, log *slog.Logger, maxBody int64) *API {
	return &API{inv: inv, auth: a, json: httpjson.Decoder{MaxBytes: maxBody, AllowUnknown: true}, writeError: httpjson.CodedErrorWriter(log),
		closing: make(chan struct{})}
}

// Close answers the long polls in flight at once, and those to come; for
// http.Server.RegisterOnShutdown.
func (a *API) Close() { a.closeOnce.Do(func() { close(a.closing) }) }

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+agentapi.RegisterPath, a.register)
	mux.HandleFunc("POST "+agentapi.HeartbeatPath, a.agent(a.heartbeat))
	mux.HandleFunc("GET "+agentapi.DesiredPath, a.agent(a.desired))
	admin := a.auth.Require(auth.Guard{
		Schemes: auth.Basic | auth.Session | auth.Bearer | auth.CredentialHeaders | auth.Signature,
		Realm:   "Herd", Service: "herd", Fail: a.writeError,
	})
	mux.Handle("POST /herd/v1/host-tokens", admin(http.HandlerFunc(a.createToken)))
}

func (a *API) agent(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			a.writeError(w, r, apperr.New(apperr.Unauthenticated, "agent calls need Authorization: Bearer hostId:secret"))
			return
		}
		id, err := a.inv.AuthenticateAgent(r.Context(), cred)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		next(w, r, id)
	}
}

func (a *API) register(w http.ResponseWriter, r *http.Request) {
	var req agentapi.Register
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	out, err := a.inv.Register(r.Context(), req)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *API) heartbeat(w http.ResponseWriter, r *http.Request, host string) {
	var hb agentapi.Heartbeat
	if err := a.json.Decode(w, r, &hb); err != nil {
		a.writeError(w, r, err)
		return
	}
	out, err := a.inv.Heartbeat(r.Context(), host, hb)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *API) desired(w http.ResponseWriter, r *http.Request, host string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-a.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	d, err := a.inv.WaitDesired(ctx, host, r.URL.Query().Get("after"), agentapi.WaitTimeout)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, d)
}

// TokenRequest asks for a host token.
type TokenRequest struct {
	Description string `json:"description"`
	TTL         string `json:"ttl"` // a Go duration; empty: never expires
}

// Token is a new host token; the token is shown only here.
type Token struct {
	ID        string `json:"id"`
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt,omitempty"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	if !p.IsAdmin() {
		a.writeError(w, r, apperr.New(apperr.Forbidden, "only admins issue host tokens"))
		return
	}
	var req TokenRequest
	if err := a.json.DecodeOptional(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	var ttl time.Duration
	if req.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(req.TTL); err != nil || ttl <= 0 {
			a.writeError(w, r, apperr.New(apperr.Invalid, "ttl %q is not a positive duration such as 24h", req.TTL))
			return
		}
	}
	t, err := a.inv.CreateHostToken(r.Context(), p.User, req.Description, ttl)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := Token{ID: t.ID, Token: t.Secret}
	if !t.ExpiresAt.IsZero() {
		out.ExpiresAt = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	httpjson.Write(w, http.StatusCreated, out)
}
