package inventory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/store"
)

// liveHost is what a host's agent last reported.
type liveHost struct {
	seen time.Time
	// persisted is when the host's contact was last written to the store.
	persisted time.Time
	facts     agentapi.Facts
	roles     map[string]agentapi.RoleStatus
	// probedOK remembers, per role, the pid whose probes passed once: a
	// role is STARTED from then on, STARTING before.
	probedOK map[string]int
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HostToken is a newly issued host token; Secret is shown once.
type HostToken struct {
	ID        string
	Secret    string
	ExpiresAt time.Time
}

// CreateHostToken issues a token that admits agents (any number, until it
// expires; ttl 0 never expires).
func (s *Service) CreateHostToken(ctx context.Context, by, description string, ttl time.Duration) (HostToken, error) {
	t := HostToken{ID: s.cfg.NewID(), Secret: "hht_" + randomSecret()}
	now := s.cfg.Now()
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		return q.InsertHostToken(ctx, store.HostTokenRow{ID: t.ID, Hash: hashSecret(t.Secret), Description: description,
			CreatedBy: by, CreatedAt: now, ExpiresAt: t.ExpiresAt})
	})
	return t, err
}

// Register admits an agent with a host token and returns its host id and
// secret. A host with the given id (created through the API, or an agent
// registering again) is taken over; otherwise a host is created.
func (s *Service) Register(ctx context.Context, req agentapi.Register) (agentapi.Registered, error) {
	tok, err := s.db.Read().HostTokenByHash(ctx, hashSecret(req.Token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !tok.ExpiresAt.IsZero() && s.cfg.Now().After(tok.ExpiresAt)) {
		return agentapi.Registered{}, apperr.New(apperr.Unauthenticated, "the host token is unknown or expired; issue one with 'herd host token create'")
	}
	if err != nil {
		return agentapi.Registered{}, err
	}
	if net.ParseIP(req.Address) == nil {
		return agentapi.Registered{}, apperr.New(apperr.Invalid, "address %q is not an IP address", req.Address)
	}
	if req.Hostname == "" {
		return agentapi.Registered{}, apperr.New(apperr.Invalid, "hostname is required")
	}
	if req.HostID != "" && !validName(req.HostID) {
		return agentapi.Registered{}, apperr.New(apperr.Invalid, "host id %q may hold only letters, digits, '.', '-' and '_'", req.HostID)
	}
	facts, _ := json.Marshal(req.Facts)
	secret := randomSecret()
	id := req.HostID
	now := s.cfg.Now()
	err = s.write(ctx, func(q *store.Queries) error {
		if id != "" {
			if _, err := q.GetHost(ctx, id); err == nil {
				return q.UpdateHostAgent(ctx, id, req.Hostname, req.Address, hashSecret(secret), facts, now)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		} else {
			id = s.cfg.NewID()
		}
		return q.InsertHost(ctx, store.HostRow{ID: id, Hostname: req.Hostname, Address: req.Address, Rack: "/default",
			SecretHash: hashSecret(secret), Facts: facts, CreatedAt: now, LastSeenAt: now})
	})
	if err != nil {
		return agentapi.Registered{}, err
	}
	s.mu.Lock()
	s.secrets[id] = hashSecret(secret)
	s.live[id] = &liveHost{seen: now, persisted: now, facts: req.Facts, roles: map[string]agentapi.RoleStatus{}, probedOK: map[string]int{}}
	s.mu.Unlock()
	s.reports.bump()
	s.log.Info("host agent registered", "host", id, "hostname", req.Hostname, "address", req.Address)
	return agentapi.Registered{HostID: id, Secret: secret,
		HeartbeatInterval: agentapi.Duration(s.cfg.HeartbeatInterval), TTL: agentapi.Duration(s.cfg.TTL)}, nil
}

// AuthenticateAgent checks "hostId:secret" and returns the host id.
func (s *Service) AuthenticateAgent(ctx context.Context, cred string) (string, error) {
	id, secret, ok := strings.Cut(cred, ":")
	if !ok || id == "" {
		return "", apperr.New(apperr.Unauthenticated, "agent credentials must be hostId:secret")
	}
	s.mu.Lock()
	want, cached := s.secrets[id]
	s.mu.Unlock()
	if !cached {
		h, err := s.db.Read().GetHost(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "", apperr.New(apperr.Unauthenticated, "host %s is not registered", id)
		}
		if err != nil {
			return "", err
		}
		want = h.SecretHash
		s.mu.Lock()
		s.secrets[id] = want
		s.mu.Unlock()
	}
	if len(want) == 0 || subtle.ConstantTimeCompare(want, hashSecret(secret)) != 1 {
		return "", apperr.New(apperr.Unauthenticated, "wrong secret for host %s; register the agent again", id)
	}
	return id, nil
}

// persistEvery bounds how often a heartbeat writes the host's facts and
// last contact to the store.
const persistEvery = time.Minute

// Heartbeat records an agent's report.
func (s *Service) Heartbeat(ctx context.Context, hostID string, hb agentapi.Heartbeat) (agentapi.HeartbeatReply, error) {
	now := s.cfg.Now()
	s.mu.Lock()
	lh := s.live[hostID]
	if lh == nil {
		lh = &liveHost{probedOK: map[string]int{}}
		s.live[hostID] = lh
	}
	persist := now.Sub(lh.persisted) >= persistEvery
	if persist {
		lh.persisted = now
	}
	changed := !sameReports(lh.roles, hb.Roles)
	// Rendering uses the data directory and machine of a host.
	placed := lh.facts.DataDir != hb.Facts.DataDir || lh.facts.MachineID != hb.Facts.MachineID
	lh.seen, lh.facts = now, hb.Facts
	lh.roles = make(map[string]agentapi.RoleStatus, len(hb.Roles))
	for _, r := range hb.Roles {
		lh.roles[r.Name] = r
		if r.State == agentapi.StateRunning && allProbesOK(r) {
			lh.probedOK[r.Name] = r.Pid
		}
	}
	s.mu.Unlock()
	if changed {
		s.reports.bump()
	}
	if placed {
		s.desired.bump()
	}
	if persist {
		facts, _ := json.Marshal(hb.Facts)
		if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.TouchHost(ctx, hostID, facts, now) }); err != nil {
			return agentapi.HeartbeatReply{}, err
		}
	}
	d, err := s.Desired(ctx, hostID)
	if err != nil {
		return agentapi.HeartbeatReply{}, err
	}
	return agentapi.HeartbeatReply{HeartbeatInterval: agentapi.Duration(s.cfg.HeartbeatInterval),
		TTL: agentapi.Duration(s.cfg.TTL), DesiredHash: d.Hash}, nil
}

func sameReports(old map[string]agentapi.RoleStatus, now []agentapi.RoleStatus) bool {
	if len(old) != len(now) {
		return false
	}
	for _, r := range now {
		o, ok := old[r.Name]
		if !ok || o.State != r.State || o.Pid != r.Pid || o.ConfigHash != r.ConfigHash || o.StartSeq != r.StartSeq || o.Restarts != r.Restarts {
			return false
		}
		if len(o.Probes) != len(r.Probes) {
			return false
		}
		for k, p := range r.Probes {
			op := o.Probes[k]
			if op.OK != p.OK || fmt.Sprint(op.Fields) != fmt.Sprint(p.Fields) {
				return false
			}
		}
	}
	return true
}

func allProbesOK(r agentapi.RoleStatus) bool {
	for _, p := range r.Probes {
		if !p.OK {
			return false
		}
	}
	return true
}

// WaitDesired returns the host's desired state once its hash differs from
// after, or when ctx ends or the wait times out (then it returns the current
// state, possibly with the same hash).
func (s *Service) WaitDesired(ctx context.Context, hostID, after string, timeout time.Duration) (agentapi.Desired, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		_, ch := s.desired.wait()
		d, err := s.Desired(ctx, hostID)
		if err != nil || d.Hash != after {
			return d, err
		}
		select {
		case <-ch:
		case <-deadline.C:
			return d, nil
		case <-ctx.Done():
			return d, nil
		}
	}
}

// hostLive reports whether a host's agent is within its TTL, and when it
// was last heard from.
func (s *Service) hostLive(id string) (bool, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lh := s.live[id]
	if lh == nil {
		return false, time.Time{}
	}
	return s.cfg.Now().Sub(lh.seen) <= s.cfg.TTL, lh.seen
}

// roleReport returns the last report on a role from its host's agent.
func (s *Service) roleReport(hostID, role string) (agentapi.RoleStatus, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lh := s.live[hostID]
	if lh == nil {
		return agentapi.RoleStatus{}, false, false
	}
	r, ok := lh.roles[role]
	probed := ok && r.State == agentapi.StateRunning && lh.probedOK[role] == r.Pid && r.Pid != 0
	return r, ok, probed
}

func (s *Service) hostFacts(id string) (agentapi.Facts, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lh := s.live[id]; lh != nil {
		return lh.facts, true
	}
	return agentapi.Facts{}, false
}

func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
