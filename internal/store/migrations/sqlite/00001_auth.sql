-- +goose Up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    name                TEXT PRIMARY KEY,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'user', 'read-only')),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
) STRICT;

CREATE TABLE access_keys (
    id                TEXT PRIMARY KEY,
    user_name         TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    public_key        BLOB NOT NULL,
    secret_hash       BLOB NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER,
    last_used_service TEXT
) STRICT;
CREATE INDEX access_keys_user ON access_keys (user_name);

CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;

CREATE TABLE seen_signatures (
    digest     BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX seen_signatures_expiry ON seen_signatures (expires_at);

-- +goose Down
DROP TABLE seen_signatures;
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE access_keys;
DROP TABLE users;
DROP TABLE meta;
