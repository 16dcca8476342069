package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/password"
	"github.com/herdhq/herd/internal/auth/token"
	"github.com/herdhq/herd/internal/keyring"
	"github.com/herdhq/herd/internal/store"
)

// Config holds the settings of the auth service.
type Config struct {
	Issuer           string          // iss of access tokens
	TokenTTL         time.Duration   // lifetime of access tokens
	WorkloadTokenTTL time.Duration   // lifetime of CDP workload tokens
	SessionTTL       time.Duration   // idle lifetime of a session cookie
	SignatureWindow  time.Duration   // allowed skew of x-altus-date
	Password         password.Params // argon2id cost of new hashes

	Now    func() time.Time // clock; time.Now if nil
	NewID  func() string    // id source; random UUIDs if nil
	Logger *slog.Logger
}

// WorkloadIssuer is the iss of CDP workload tokens. It differs from every
// access-token issuer, so neither kind of token passes for the other.
const WorkloadIssuer = "herd-iam"

// Service is the auth domain service.
type Service struct {
	db        *store.DB
	kr        *keyring.Keyring
	keys      *token.Keyset
	cfg       Config
	log       *slog.Logger
	accountID string
	hashSlots chan struct{} // bounds concurrent argon2id work (memory)
	dummyHash string        // checked for unknown users, to even out timing
	passwords *passwordCache
	users     *userCache
}

// New returns the auth service, creating the account id and the first
// signing key on first start.
func New(ctx context.Context, db *store.DB, kr *keyring.Keyring, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid.NewString
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Password.Validate(); err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	s := &Service{
		db: db, kr: kr, cfg: cfg,
		log:       cfg.Logger.With("component", "auth"),
		hashSlots: make(chan struct{}, max(2, runtime.NumCPU())),
		passwords: newPasswordCache(5 * time.Minute),
		users:     newUserCache(time.Second),
	}
	var err error
	if s.dummyHash, err = password.Hash(randomString(16), cfg.Password); err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	if err := db.InTx(ctx, func(q *store.Queries) (err error) {
		s.accountID, err = q.PutMetaIfAbsent(ctx, "account_id", cfg.NewID())
		return err
	}); err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	if s.keys, err = s.loadKeys(ctx); err != nil {
		return nil, fmt.Errorf("new auth service: %w", err)
	}
	return s, nil
}

// now is the service's clock at the store's precision (milliseconds), so
// that times returned equal the times stored.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func sealContext(kid string) string { return "signing-key/" + kid }

// loadKeys reads the signing keys, generating and storing the first one.
func (s *Service) loadKeys(ctx context.Context) (*token.Keyset, error) {
	rows, err := s.db.Read().ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		k, err := token.GenerateKey()
		if err != nil {
			return nil, err
		}
		der, err := token.MarshalKey(k)
		if err != nil {
			return nil, fmt.Errorf("marshal signing key: %w", err)
		}
		sealed, err := s.kr.Seal(sealContext(k.ID), der)
		if err != nil {
			return nil, err
		}
		if err := s.db.InTx(ctx, func(q *store.Queries) error {
			return q.InsertSigningKey(ctx, store.SigningKeyRow{KID: k.ID, Algorithm: token.Algorithm, PrivateKey: sealed, CreatedAt: s.now()})
		}); err != nil {
			return nil, err
		}
		s.log.Info("generated token signing key", "kid", k.ID)
		return token.NewKeyset(k), nil
	}
	keys := make([]*token.Key, 0, len(rows))
	for _, r := range rows {
		der, err := s.kr.Open(sealContext(r.KID), r.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("load signing key %s (is this the master key the data was created with?): %w", r.KID, err)
		}
		k, err := token.ParseKey(r.KID, der)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return token.NewKeyset(keys[0], keys[1:]...), nil
}

// JWKS returns the public keys that verify access tokens.
func (s *Service) JWKS() token.JWKS { return s.keys.JWKS() }

// UserCRN is the CDP-style resource name of a user.
func (s *Service) UserCRN(name string) string {
	return "crn:altus:iam:herd:" + s.accountID + ":user:" + name
}

// EnvironmentCRN is the CDP-style resource name of the one environment
// this server is.
func (s *Service) EnvironmentCRN() string {
	return "crn:cdp:environments:herd:" + s.accountID + ":environment:herd"
}

// AccountID is the id of this server's account, the tenant of its CRNs.
func (s *Service) AccountID() string { return s.accountID }

// AccessKeyCRN is the CDP-style resource name of an access key.
func (s *Service) AccessKeyCRN(id string) string {
	return "crn:altus:iam:herd:" + s.accountID + ":accessKey:" + id
}

// userFromRef accepts a user name or a user CRN of this account.
func (s *Service) userFromRef(ref string) (string, error) {
	if !strings.HasPrefix(ref, "crn:") {
		return ref, nil
	}
	prefix := "crn:altus:iam:herd:" + s.accountID + ":user:"
	if name, ok := strings.CutPrefix(ref, prefix); ok && name != "" {
		return name, nil
	}
	return "", apperr.New(apperr.Invalid, "%q is not a user CRN of this Herd (want %s<name>)", ref, prefix)
}

// Role is a user's role.
type Role string

// The roles.
const (
	RoleAdmin    Role = "admin"
	RoleUser     Role = "user"
	RoleReadOnly Role = "read-only"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleUser, RoleReadOnly:
		return r, nil
	}
	return "", apperr.New(apperr.Invalid, "unknown role %q: want admin, user or read-only", s)
}

// Method names how a principal proved its identity.
type Method string

// The authentication methods.
const (
	MethodPassword      Method = "password"
	MethodSession       Method = "session"
	MethodAccessToken   Method = "access-token"
	MethodWorkloadToken Method = "workload-token"
	MethodAccessKey     Method = "access-key"
	MethodSignature     Method = "request-signature"
)

// Principal is an authenticated caller.
type Principal struct {
	User        string
	Role        Role
	Method      Method
	AccessKeyID string // set for access-key and request-signature callers
}

// IsAdmin reports whether the principal has the admin role.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// CanWrite reports whether the principal may change things (not read-only).
func (p Principal) CanWrite() bool { return p.Role == RoleAdmin || p.Role == RoleUser }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of an authenticated request.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// principalFor loads the user behind a credential and builds its principal.
// Rows come from a cache at most a second old: local changes to a user drop
// its entry at once, changes made by another server show within the second.
func (s *Service) principalFor(ctx context.Context, user string, m Method) (Principal, store.UserRow, error) {
	now := s.now()
	u, ok := s.users.get(user, now)
	if !ok {
		var err error
		u, err = s.db.Read().GetUser(ctx, user)
		if errors.Is(err, store.ErrNotFound) {
			return Principal{}, store.UserRow{}, apperr.New(apperr.Unauthenticated, "user %q no longer exists", user)
		}
		if err != nil {
			return Principal{}, store.UserRow{}, err
		}
		s.users.put(u, now)
	}
	return Principal{User: u.Name, Role: Role(u.Role), Method: m}, u, nil
}

// userCache holds recently read user rows for principalFor.
type userCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	rows map[string]cachedUser
}

type cachedUser struct {
	row     store.UserRow
	expires time.Time
}

const userCacheMax = 10000

func newUserCache(ttl time.Duration) *userCache {
	return &userCache{ttl: ttl, rows: map[string]cachedUser{}}
}

func (c *userCache) get(name string, now time.Time) (store.UserRow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.rows[name]
	if !ok || !now.Before(e.expires) {
		return store.UserRow{}, false
	}
	return e.row, true
}

func (c *userCache) put(row store.UserRow, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rows) >= userCacheMax {
		clear(c.rows)
	}
	c.rows[row.Name] = cachedUser{row: row, expires: now.Add(c.ttl)}
}

func (c *userCache) drop(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rows, name)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// Sweep deletes expired sessions and remembered signatures.
func (s *Service) Sweep(ctx context.Context) error {
	return s.db.InTx(ctx, func(q *store.Queries) error {
		n, err := q.DeleteExpired(ctx, s.now())
		if n > 0 {
			s.log.Debug("swept expired auth records", "rows", n)
		}
		return err
	})
}
