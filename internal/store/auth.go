package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// GetMeta returns the value stored under key.
func (q *Queries) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := q.q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("get meta %s: %w", key, classify(err))
	}
	return v, nil
}

// PutMetaIfAbsent stores value under key unless the key has a value already,
// and returns the value that is stored afterwards.
func (q *Queries) PutMetaIfAbsent(ctx context.Context, key, value string) (string, error) {
	if _, err := q.exec(ctx, "put meta "+key,
		`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", err
	}
	return q.GetMeta(ctx, key)
}

// UserRow is a row of the users table.
type UserRow struct {
	Name              string
	PasswordHash      string
	Role              string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordChangedAt time.Time
}

const userColumns = `name, password_hash, role, created_at, updated_at, password_changed_at`

func scanUser(s interface{ Scan(...any) error }) (UserRow, error) {
	var u UserRow
	var created, updated, changed int64
	if err := s.Scan(&u.Name, &u.PasswordHash, &u.Role, &created, &updated, &changed); err != nil {
		return UserRow{}, err
	}
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = fromMS(created), fromMS(updated), fromMS(changed)
	return u, nil
}

// InsertUser adds a user; ErrConflict if the name is taken.
func (q *Queries) InsertUser(ctx context.Context, u UserRow) error {
	_, err := q.exec(ctx, "insert user",
		`INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.Name, u.PasswordHash, u.Role, ms(u.CreatedAt), ms(u.UpdatedAt), ms(u.PasswordChangedAt))
	return err
}

// GetUser returns the named user.
func (q *Queries) GetUser(ctx context.Context, name string) (UserRow, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if err != nil {
		return UserRow{}, fmt.Errorf("get user: %w", classify(err))
	}
	return u, nil
}

// ListUsers returns every user ordered by name.
func (q *Queries) ListUsers(ctx context.Context) ([]UserRow, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []UserRow
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CountUsers returns the number of users with the given role, or of all
// users when role is empty.
func (q *Queries) CountUsers(ctx context.Context, role string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM users WHERE $1 = '' OR role = $1`, role).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// SetUserPassword replaces a user's password hash.
func (q *Queries) SetUserPassword(ctx context.Context, name, hash string, at time.Time) error {
	return q.execOne(ctx, "set user password",
		`UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE name = $1`,
		name, hash, ms(at))
}

// SetUserRole changes a user's role.
func (q *Queries) SetUserRole(ctx context.Context, name, role string, at time.Time) error {
	return q.execOne(ctx, "set user role",
		`UPDATE users SET role = $2, updated_at = $3 WHERE name = $1`, name, role, ms(at))
}

// DeleteUser removes a user with its access keys and sessions.
func (q *Queries) DeleteUser(ctx context.Context, name string) error {
	return q.execOne(ctx, "delete user", `DELETE FROM users WHERE name = $1`, name)
}

// AccessKeyRow is a row of the access_keys table.
type AccessKeyRow struct {
	ID              string
	UserName        string
	PublicKey       []byte
	SecretHash      []byte
	Status          string
	CreatedAt       time.Time
	LastUsedAt      time.Time // zero if never used
	LastUsedService string
}

const accessKeyColumns = `id, user_name, public_key, secret_hash, status, created_at, last_used_at, last_used_service`

func scanAccessKey(s interface{ Scan(...any) error }) (AccessKeyRow, error) {
	var k AccessKeyRow
	var created int64
	var lastUsed sql.NullInt64
	var service sql.NullString
	if err := s.Scan(&k.ID, &k.UserName, &k.PublicKey, &k.SecretHash, &k.Status, &created, &lastUsed, &service); err != nil {
		return AccessKeyRow{}, err
	}
	k.CreatedAt, k.LastUsedAt, k.LastUsedService = fromMS(created), fromNullMS(lastUsed), service.String
	return k, nil
}

// InsertAccessKey adds an access key.
func (q *Queries) InsertAccessKey(ctx context.Context, k AccessKeyRow) error {
	_, err := q.exec(ctx, "insert access key",
		`INSERT INTO access_keys (id, user_name, public_key, secret_hash, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.UserName, k.PublicKey, k.SecretHash, k.Status, ms(k.CreatedAt))
	return err
}

// GetAccessKey returns the access key with the given id.
func (q *Queries) GetAccessKey(ctx context.Context, id string) (AccessKeyRow, error) {
	k, err := scanAccessKey(q.q.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id))
	if err != nil {
		return AccessKeyRow{}, fmt.Errorf("get access key: %w", classify(err))
	}
	return k, nil
}

// ListAccessKeys returns the access keys of a user, or of everyone when
// user is empty, oldest first.
func (q *Queries) ListAccessKeys(ctx context.Context, user string) ([]AccessKeyRow, error) {
	rows, err := q.q.QueryContext(ctx,
		`SELECT `+accessKeyColumns+` FROM access_keys WHERE $1 = '' OR user_name = $1 ORDER BY created_at, id`, user)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	defer rows.Close()
	var out []AccessKeyRow
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list access keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	return out, nil
}

// CountAccessKeys returns the number of access keys a user has.
func (q *Queries) CountAccessKeys(ctx context.Context, user string) (int, error) {
	var n int
	if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_keys WHERE user_name = $1`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("count access keys: %w", err)
	}
	return n, nil
}

// SetAccessKeyStatus sets an access key ACTIVE or INACTIVE.
func (q *Queries) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	return q.execOne(ctx, "set access key status", `UPDATE access_keys SET status = $2 WHERE id = $1`, id, status)
}

// TouchAccessKey records a use of an access key.
func (q *Queries) TouchAccessKey(ctx context.Context, id string, at time.Time, service string) error {
	_, err := q.exec(ctx, "touch access key",
		`UPDATE access_keys SET last_used_at = $2, last_used_service = $3 WHERE id = $1`, id, ms(at), service)
	return err
}

// DeleteAccessKey removes an access key.
func (q *Queries) DeleteAccessKey(ctx context.Context, id string) error {
	return q.execOne(ctx, "delete access key", `DELETE FROM access_keys WHERE id = $1`, id)
}

// SessionRow is a row of the sessions table. The session id itself is never
// stored, only its hash.
type SessionRow struct {
	IDHash    []byte
	UserName  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// InsertSession adds a session.
func (q *Queries) InsertSession(ctx context.Context, s SessionRow) error {
	_, err := q.exec(ctx, "insert session",
		`INSERT INTO sessions (id_hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.IDHash, s.UserName, ms(s.CreatedAt), ms(s.ExpiresAt))
	return err
}

// GetSession returns the session with the given id hash.
func (q *Queries) GetSession(ctx context.Context, idHash []byte) (SessionRow, error) {
	var s SessionRow
	var created, expires int64
	err := q.q.QueryRowContext(ctx,
		`SELECT id_hash, user_name, created_at, expires_at FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.UserName, &created, &expires)
	if err != nil {
		return SessionRow{}, fmt.Errorf("get session: %w", classify(err))
	}
	s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	return s, nil
}

// ExtendSession moves a session's expiry.
func (q *Queries) ExtendSession(ctx context.Context, idHash []byte, expires time.Time) error {
	_, err := q.exec(ctx, "extend session", `UPDATE sessions SET expires_at = $2 WHERE id_hash = $1`, idHash, ms(expires))
	return err
}

// DeleteSession removes one session.
func (q *Queries) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := q.exec(ctx, "delete session", `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return err
}

// DeleteUserSessions removes every session of a user.
func (q *Queries) DeleteUserSessions(ctx context.Context, user string) error {
	_, err := q.exec(ctx, "delete user sessions", `DELETE FROM sessions WHERE user_name = $1`, user)
	return err
}

// SigningKeyRow is a row of the signing_keys table; PrivateKey is sealed.
type SigningKeyRow struct {
	KID        string
	Algorithm  string
	PrivateKey []byte
	CreatedAt  time.Time
	RetiredAt  time.Time // zero while the key is in use
}

// InsertSigningKey adds a signing key.
func (q *Queries) InsertSigningKey(ctx context.Context, k SigningKeyRow) error {
	_, err := q.exec(ctx, "insert signing key",
		`INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)`,
		k.KID, k.Algorithm, k.PrivateKey, ms(k.CreatedAt), nullMS(k.RetiredAt))
	return err
}

// ListSigningKeys returns the signing keys not retired, newest first.
func (q *Queries) ListSigningKeys(ctx context.Context) ([]SigningKeyRow, error) {
	rows, err := q.q.QueryContext(ctx,
		`SELECT kid, algorithm, private_key, created_at, retired_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKeyRow
	for rows.Next() {
		var k SigningKeyRow
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.KID, &k.Algorithm, &k.PrivateKey, &created, &retired); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		k.CreatedAt, k.RetiredAt = fromMS(created), fromNullMS(retired)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// RememberSignature records a request-signature digest until expires;
// ErrConflict if it was recorded before (a replay).
func (q *Queries) RememberSignature(ctx context.Context, digest []byte, expires time.Time) error {
	n, err := q.exec(ctx, "remember signature",
		`INSERT INTO seen_signatures (digest, expires_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING`,
		digest, ms(expires))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("remember signature: %w", ErrConflict)
	}
	return nil
}

// DeleteExpired removes sessions and remembered signatures whose time is up,
// and returns how many rows went.
func (q *Queries) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	a, err := q.exec(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, err
	}
	b, err := q.exec(ctx, "delete expired signatures", `DELETE FROM seen_signatures WHERE expires_at <= $1`, ms(now))
	return a + b, err
}

// ReplacePasswordHash replaces a user's password hash with an equivalent one made
// with new parameters, if the stored hash is still old; it does not count as
// a password change.
func (q *Queries) ReplacePasswordHash(ctx context.Context, name, oldHash, newHash string) (int64, error) {
	return q.exec(ctx, "rehash password",
		`UPDATE users SET password_hash = $3 WHERE name = $1 AND password_hash = $2`, name, oldHash, newHash)
}
