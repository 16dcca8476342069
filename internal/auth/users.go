package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth/password"
	"github.com/herdhq/herd/internal/store"
)

// User is a Herd user as the domain sees it.
type User struct {
	Name              string
	Role              Role
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordChangedAt time.Time
}

func userFromRow(r store.UserRow) User {
	return User{Name: r.Name, Role: Role(r.Role), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PasswordChangedAt: r.PasswordChangedAt}
}

// Limits on user input.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
	maxUserNameLen = 64
)

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)

func validateUserName(name string) error {
	if len(name) == 0 || len(name) > maxUserNameLen || !userNameRE.MatchString(name) {
		return apperr.New(apperr.Invalid,
			"invalid user name %q: use 1 to %d letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name, maxUserNameLen)
	}
	return nil
}

func validatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || len(pw) > MaxPasswordLen {
		return apperr.New(apperr.Invalid, "password must be %d to %d characters long", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// hashPassword runs argon2id, limiting how many run at once.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer s.releaseHashSlot()
	return password.Hash(pw, s.cfg.Password)
}

func (s *Service) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) releaseHashSlot() { <-s.hashSlots }

func requireAdmin(actor Principal, what string) error {
	if !actor.IsAdmin() {
		return apperr.New(apperr.Forbidden, "only an admin may %s", what)
	}
	return nil
}

// Bootstrap creates user admin with a random password when the store has no
// users. save is called with the password inside the transaction, before
// the commit, so that a failure to record it creates nothing.
// It reports whether the admin was created.
func (s *Service) Bootstrap(ctx context.Context, save func(password string) error) (bool, error) {
	if n, err := s.db.Read().CountUsers(ctx, ""); err != nil || n > 0 {
		return false, err
	}
	pw := randomString(15) // 20 characters
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return false, err
	}
	created := false
	err = s.db.InTx(ctx, func(q *store.Queries) error {
		if n, err := q.CountUsers(ctx, ""); err != nil || n > 0 {
			return err
		}
		now := s.now()
		if err := q.InsertUser(ctx, store.UserRow{Name: "admin", PasswordHash: hash, Role: string(RoleAdmin), CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}); err != nil {
			return err
		}
		created = true
		return save(pw)
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap admin user: %w", err)
	}
	return created, nil
}

// CreateUser adds a user. Admins only.
func (s *Service) CreateUser(ctx context.Context, actor Principal, name, pw string, role Role) (User, error) {
	if err := requireAdmin(actor, "create users"); err != nil {
		return User{}, err
	}
	if err := validateUserName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if err := validatePassword(pw); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	row := store.UserRow{Name: name, PasswordHash: hash, Role: string(role), CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	err = s.db.InTx(ctx, func(q *store.Queries) error { return q.InsertUser(ctx, row) })
	if errors.Is(err, store.ErrConflict) {
		return User{}, apperr.New(apperr.Conflict, "user %q already exists", name)
	}
	if err != nil {
		return User{}, err
	}
	s.log.Info("user created", "user", name, "role", role, "by", actor.User)
	return userFromRow(row), nil
}

// ListUsers returns every user. Admins only.
func (s *Service) ListUsers(ctx context.Context, actor Principal) ([]User, error) {
	if err := requireAdmin(actor, "list users"); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = userFromRow(r)
	}
	return out, nil
}

// GetUser returns a user: any user to an admin, oneself to anyone.
func (s *Service) GetUser(ctx context.Context, actor Principal, name string) (User, error) {
	if actor.User != name {
		if err := requireAdmin(actor, "read other users"); err != nil {
			return User{}, err
		}
	}
	r, err := s.getUserRow(ctx, s.db.Read(), name)
	if err != nil {
		return User{}, err
	}
	return userFromRow(r), nil
}

func (s *Service) getUserRow(ctx context.Context, q *store.Queries, name string) (store.UserRow, error) {
	r, err := q.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.UserRow{}, apperr.New(apperr.NotFound, "user %q not found", name)
	}
	return r, err
}

// UserUpdate lists the changes of UpdateUser; nil fields stay as they are.
type UserUpdate struct {
	Role     *Role
	Password *string
	// CurrentPassword must be given when a non-admin changes their own password.
	CurrentPassword string
}

// UpdateUser changes a user's role (admins only) or password (admins for
// anyone, users for themselves with their current password). A password
// change ends the user's sessions and invalidates their tokens.
func (s *Service) UpdateUser(ctx context.Context, actor Principal, name string, up UserUpdate) (User, error) {
	if up.Role == nil && up.Password == nil {
		return User{}, apperr.New(apperr.Invalid, "nothing to change: give a role or a password")
	}
	if up.Role != nil {
		if err := requireAdmin(actor, "change roles"); err != nil {
			return User{}, err
		}
		if _, err := ParseRole(string(*up.Role)); err != nil {
			return User{}, err
		}
	}
	var hash string
	if up.Password != nil {
		if err := s.authorizePasswordChange(ctx, actor, name, up.CurrentPassword); err != nil {
			return User{}, err
		}
		if err := validatePassword(*up.Password); err != nil {
			return User{}, err
		}
		var err error
		if hash, err = s.hashPassword(ctx, *up.Password); err != nil {
			return User{}, err
		}
	}
	var out store.UserRow
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := s.getUserRow(ctx, q, name)
		if err != nil {
			return err
		}
		now := s.now()
		if up.Role != nil && *up.Role != Role(cur.Role) {
			if cur.Role == string(RoleAdmin) {
				if err := lastAdminCheck(ctx, q, name, "demote"); err != nil {
					return err
				}
			}
			if err := q.SetUserRole(ctx, name, string(*up.Role), now); err != nil {
				return err
			}
		}
		if up.Password != nil {
			if err := q.SetUserPassword(ctx, name, hash, now); err != nil {
				return err
			}
			if err := q.DeleteUserSessions(ctx, name); err != nil {
				return err
			}
		}
		out, err = q.GetUser(ctx, name)
		return err
	})
	s.users.drop(name)
	if err != nil {
		return User{}, err
	}
	s.log.Info("user updated", "user", name, "role_changed", up.Role != nil, "password_changed", up.Password != nil, "by", actor.User)
	return userFromRow(out), nil
}

func (s *Service) authorizePasswordChange(ctx context.Context, actor Principal, name, current string) error {
	if actor.IsAdmin() {
		return nil
	}
	if actor.User != name {
		return apperr.New(apperr.Forbidden, "only an admin may change another user's password")
	}
	if current == "" {
		return apperr.New(apperr.Invalid, "give your current password to change it")
	}
	if _, err := s.AuthenticatePassword(ctx, name, current); err != nil {
		return apperr.New(apperr.Forbidden, "the current password is wrong")
	}
	return nil
}

func lastAdminCheck(ctx context.Context, q *store.Queries, name, verb string) error {
	n, err := q.CountUsers(ctx, string(RoleAdmin))
	if err != nil {
		return err
	}
	if n <= 1 {
		return apperr.New(apperr.Conflict, "cannot %s %q: it is the last admin", verb, name)
	}
	return nil
}

// DeleteUser removes a user with their access keys and sessions. Admins
// only; the last admin cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, actor Principal, name string) error {
	if err := requireAdmin(actor, "delete users"); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := s.getUserRow(ctx, q, name)
		if err != nil {
			return err
		}
		if cur.Role == string(RoleAdmin) {
			if err := lastAdminCheck(ctx, q, name, "delete"); err != nil {
				return err
			}
		}
		return q.DeleteUser(ctx, name)
	})
	s.users.drop(name)
	if err != nil {
		return err
	}
	s.log.Info("user deleted", "user", name, "by", actor.User)
	return nil
}

// Longest user name and password accepted at login; longer ones fail
// without hashing.
const maxLoginLen = 1024

// AuthenticatePassword checks a user name and password.
func (s *Service) AuthenticatePassword(ctx context.Context, user, pw string) (Principal, error) {
	fail := apperr.New(apperr.Unauthenticated, "invalid user name or password")
	if user == "" || len(user) > maxLoginLen || len(pw) > maxLoginLen {
		return Principal{}, fail
	}
	row, err := s.db.Read().GetUser(ctx, user)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, err
	}
	if found && s.passwords.hit(user, pw, row.PasswordChangedAt, s.now()) {
		return Principal{User: row.Name, Role: Role(row.Role), Method: MethodPassword}, nil
	}
	hash := s.dummyHash
	if found {
		hash = row.PasswordHash
	}
	if err := s.acquireHashSlot(ctx); err != nil {
		return Principal{}, err
	}
	ok, err := password.Check(pw, hash)
	s.releaseHashSlot()
	if err != nil {
		return Principal{}, fmt.Errorf("check password of %q: %w", user, err)
	}
	if !found || !ok {
		s.log.Info("password login refused", "user", user, "known_user", found)
		return Principal{}, fail
	}
	s.passwords.put(user, pw, row.PasswordChangedAt, s.now())
	if password.NeedsRehash(row.PasswordHash, s.cfg.Password) {
		s.rehash(ctx, row, pw)
	}
	return Principal{User: row.Name, Role: Role(row.Role), Method: MethodPassword}, nil
}

// rehash upgrades a hash made with older parameters after a good login.
func (s *Service) rehash(ctx context.Context, row store.UserRow, pw string) {
	hash, err := s.hashPassword(ctx, pw)
	if err == nil {
		err = s.db.InTx(ctx, func(q *store.Queries) error {
			_, err := q.ReplacePasswordHash(ctx, row.Name, row.PasswordHash, hash)
			return err
		})
	}
	if err != nil {
		s.log.Warn("could not upgrade password hash", "user", row.Name, "err", err)
	}
}

// passwordCache remembers successful password checks for a short time,
// keyed by an HMAC (with a key that never leaves memory) of the user name
// and password. An entry is only good while the user's password_changed_at
// is what it was when the entry was made.
type passwordCache struct {
	mu      sync.Mutex
	key     []byte
	ttl     time.Duration
	entries map[[32]byte]cacheEntry
}

type cacheEntry struct {
	changedAt time.Time
	expires   time.Time
}

const passwordCacheMax = 10000

func newPasswordCache(ttl time.Duration) *passwordCache {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &passwordCache{key: key, ttl: ttl, entries: map[[32]byte]cacheEntry{}}
}

func (c *passwordCache) digest(user, pw string) [32]byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var d [32]byte
	copy(d[:], m.Sum(nil))
	return d
}

func (c *passwordCache) hit(user, pw string, changedAt, now time.Time) bool {
	d := c.digest(user, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[d]
	if !ok {
		return false
	}
	if !e.changedAt.Equal(changedAt) || now.After(e.expires) {
		delete(c.entries, d)
		return false
	}
	return true
}

func (c *passwordCache) put(user, pw string, changedAt, now time.Time) {
	d := c.digest(user, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= passwordCacheMax {
		clear(c.entries)
	}
	c.entries[d] = cacheEntry{changedAt: changedAt, expires: now.Add(c.ttl)}
}
