package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/store"
)

func sessionHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// StartSession opens a session for p and returns its id, to be sent as a
// cookie, and its expiry. Only the id's hash is stored.
func (s *Service) StartSession(ctx context.Context, p Principal) (string, time.Time, error) {
	id := randomString(32)
	now := s.now()
	exp := now.Add(s.cfg.SessionTTL)
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		return q.InsertSession(ctx, store.SessionRow{IDHash: sessionHash(id), UserName: p.User, CreatedAt: now, ExpiresAt: exp})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return id, exp, nil
}

// AuthenticateSession checks a session id. A session in the second half of
// its life is extended, so an active client stays logged in.
func (s *Service) AuthenticateSession(ctx context.Context, id string) (Principal, error) {
	fail := apperr.New(apperr.Unauthenticated, "session expired or unknown; log in again")
	if id == "" || len(id) > 128 {
		return Principal{}, fail
	}
	h := sessionHash(id)
	row, err := s.db.Read().GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fail
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.now()
	if !now.Before(row.ExpiresAt) {
		return Principal{}, fail
	}
	p, _, err := s.principalFor(ctx, row.UserName, MethodSession)
	if err != nil {
		return Principal{}, err
	}
	if row.ExpiresAt.Sub(now) < s.cfg.SessionTTL/2 {
		if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.ExtendSession(ctx, h, now.Add(s.cfg.SessionTTL)) }); err != nil {
			s.log.Warn("could not extend session", "user", row.UserName, "err", err)
		}
	}
	return p, nil
}

// EndSession deletes a session (log out).
func (s *Service) EndSession(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(q *store.Queries) error { return q.DeleteSession(ctx, sessionHash(id)) })
}
