package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/store"
)

// Access key statuses.
const (
	KeyActive   = "ACTIVE"
	KeyInactive = "INACTIVE"
)

// MaxAccessKeysPerUser bounds how many access keys one user may hold.
const MaxAccessKeysPerUser = 10

// How often a key's last use is written back at most.
const touchInterval = time.Minute

// AccessKey is an access key without its secret.
type AccessKey struct {
	ID              string
	User            string
	Status          string
	CreatedAt       time.Time
	LastUsedAt      time.Time // zero if never used
	LastUsedService string
}

func accessKeyFromRow(r store.AccessKeyRow) AccessKey {
	return AccessKey{ID: r.ID, User: r.UserName, Status: r.Status, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, LastUsedService: r.LastUsedService}
}

func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAccessKey makes a new access key for user (empty: the actor) and
// returns it with its private key: the base64 of a 32-byte Ed25519 seed.
// The private key is shown only here; the store keeps the public key and a
// hash of the private-key string. Admins may create keys for anyone.
func (s *Service) CreateAccessKey(ctx context.Context, actor Principal, user string) (AccessKey, string, error) {
	user, err := s.keyOwner(actor, user)
	if err != nil {
		return AccessKey{}, "", err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return AccessKey{}, "", fmt.Errorf("create access key: %w", err)
	}
	private := base64.StdEncoding.EncodeToString(seed)
	row := store.AccessKeyRow{
		ID:         s.cfg.NewID(),
		UserName:   user,
		PublicKey:  ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey),
		SecretHash: secretHash(private),
		Status:     KeyActive,
		CreatedAt:  s.now(),
	}
	err = s.db.InTx(ctx, func(q *store.Queries) error {
		if _, err := s.getUserRow(ctx, q, user); err != nil {
			return err
		}
		n, err := q.CountAccessKeys(ctx, user)
		if err != nil {
			return err
		}
		if n >= MaxAccessKeysPerUser {
			return apperr.New(apperr.Conflict, "user %q already has %d access keys, the most allowed; delete one first", user, n)
		}
		return q.InsertAccessKey(ctx, row)
	})
	if err != nil {
		return AccessKey{}, "", err
	}
	s.log.Info("access key created", "access_key_id", row.ID, "user", user, "by", actor.User)
	return accessKeyFromRow(row), private, nil
}

// keyOwner resolves whose keys a call is about: the actor by default,
// anyone for an admin.
func (s *Service) keyOwner(actor Principal, user string) (string, error) {
	if user == "" {
		return actor.User, nil
	}
	user, err := s.userFromRef(user)
	if err != nil {
		return "", err
	}
	if user != actor.User {
		if err := requireAdmin(actor, "manage other users' access keys"); err != nil {
			return "", err
		}
	}
	return user, nil
}

// ListAccessKeys returns the access keys of user (empty: the actor); with
// all set, an admin gets everyone's keys.
func (s *Service) ListAccessKeys(ctx context.Context, actor Principal, user string, all bool) ([]AccessKey, error) {
	if all {
		if err := requireAdmin(actor, "list everyone's access keys"); err != nil {
			return nil, err
		}
		user = ""
	} else {
		var err error
		if user, err = s.keyOwner(actor, user); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.Read().ListAccessKeys(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]AccessKey, len(rows))
	for i, r := range rows {
		out[i] = accessKeyFromRow(r)
	}
	return out, nil
}

// GetAccessKey returns one access key of the actor, or anyone's to an admin.
// Callers that are not allowed to see a key get the same answer as for a
// key that does not exist.
func (s *Service) GetAccessKey(ctx context.Context, actor Principal, id string) (AccessKey, error) {
	r, err := s.ownedKey(ctx, s.db.Read(), actor, id)
	if err != nil {
		return AccessKey{}, err
	}
	return accessKeyFromRow(r), nil
}

func (s *Service) ownedKey(ctx context.Context, q *store.Queries, actor Principal, id string) (store.AccessKeyRow, error) {
	r, err := q.GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.UserName != actor.User && !actor.IsAdmin()) {
		return store.AccessKeyRow{}, apperr.New(apperr.NotFound, "access key %q not found", id)
	}
	return r, err
}

// SetAccessKeyStatus activates or deactivates an access key.
func (s *Service) SetAccessKeyStatus(ctx context.Context, actor Principal, id, status string) (AccessKey, error) {
	if status != KeyActive && status != KeyInactive {
		return AccessKey{}, apperr.New(apperr.Invalid, "unknown access key status %q: want ACTIVE or INACTIVE", status)
	}
	var out store.AccessKeyRow
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		r, err := s.ownedKey(ctx, q, actor, id)
		if err != nil {
			return err
		}
		if err := q.SetAccessKeyStatus(ctx, id, status); err != nil {
			return err
		}
		r.Status = status
		out = r
		return nil
	})
	if err != nil {
		return AccessKey{}, err
	}
	s.log.Info("access key status changed", "access_key_id", id, "status", status, "by", actor.User)
	return accessKeyFromRow(out), nil
}

// DeleteAccessKey removes an access key.
func (s *Service) DeleteAccessKey(ctx context.Context, actor Principal, id string) error {
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if _, err := s.ownedKey(ctx, q, actor, id); err != nil {
			return err
		}
		return q.DeleteAccessKey(ctx, id)
	})
	if err != nil {
		return err
	}
	s.log.Info("access key deleted", "access_key_id", id, "by", actor.User)
	return nil
}

// AuthenticateAccessKey checks an access key id and its private-key string,
// as sent in the Credential-ID and Credential-Secret headers.
func (s *Service) AuthenticateAccessKey(ctx context.Context, id, secret, service string) (Principal, error) {
	fail := apperr.New(apperr.Unauthenticated, "invalid access key credentials")
	if id == "" || secret == "" || len(id) > 128 || len(secret) > 256 {
		return Principal{}, fail
	}
	k, err := s.db.Read().GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fail
	}
	if err != nil {
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare(secretHash(secret), k.SecretHash) != 1 {
		s.log.Info("access key login refused", "access_key_id", id, "reason", "wrong secret")
		return Principal{}, fail
	}
	return s.keyPrincipal(ctx, k, MethodAccessKey, service)
}

// keyPrincipal finishes authentication by an access key: the key must be
// active and its user must exist; the use is recorded.
func (s *Service) keyPrincipal(ctx context.Context, k store.AccessKeyRow, m Method, service string) (Principal, error) {
	if k.Status != KeyActive {
		return Principal{}, apperr.New(apperr.Unauthenticated, "access key %q is inactive", k.ID)
	}
	p, _, err := s.principalFor(ctx, k.UserName, m)
	if err != nil {
		return Principal{}, err
	}
	p.AccessKeyID = k.ID
	if now := s.now(); now.Sub(k.LastUsedAt) >= touchInterval {
		if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.TouchAccessKey(ctx, k.ID, now, service) }); err != nil {
			s.log.Warn("could not record access key use", "access_key_id", k.ID, "err", err)
		}
	}
	return p, nil
}
