-- +goose Up
-- Cluster-manager inventory: hosts and their agents, clusters, services,
-- role config groups, roles and commands. Configuration values are JSON
-- objects of the set (non-default) parameters, name -> string.

CREATE TABLE host_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
) STRICT;

CREATE TABLE clusters (
    name         TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    version      TEXT NOT NULL,
    full_version TEXT NOT NULL,
    uuid         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
) STRICT;

-- A host is known once its agent registers (secret_hash set) or once it is
-- created through the API (then an agent registering with the same id
-- takes it over).
CREATE TABLE hosts (
    id           TEXT PRIMARY KEY,
    hostname     TEXT NOT NULL,
    address      TEXT NOT NULL,
    rack         TEXT NOT NULL DEFAULT '/default',
    cluster_name TEXT REFERENCES clusters (name),
    secret_hash  BLOB,
    facts        TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER
) STRICT;
CREATE INDEX hosts_cluster ON hosts (cluster_name);

CREATE TABLE services (
    cluster_name TEXT NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    config       TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (cluster_name, name)
) STRICT;

CREATE TABLE role_config_groups (
    cluster_name TEXT NOT NULL,
    service_name TEXT NOT NULL,
    name         TEXT NOT NULL,
    role_type    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    base         INTEGER NOT NULL,
    config       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (cluster_name, service_name, name),
    FOREIGN KEY (cluster_name, service_name) REFERENCES services (cluster_name, name) ON DELETE CASCADE
) STRICT;

-- Role names are unique across clusters: a host agent keeps one directory
-- per role name. desired is what the role's process should be doing;
-- start_seq counts ordered starts (see agentapi.RoleSpec.StartSeq).
CREATE TABLE roles (
    name             TEXT PRIMARY KEY,
    cluster_name     TEXT NOT NULL,
    service_name     TEXT NOT NULL,
    type             TEXT NOT NULL,
    host_id          TEXT NOT NULL REFERENCES hosts (id),
    group_name       TEXT NOT NULL,
    desired          TEXT NOT NULL CHECK (desired IN ('STARTED', 'STOPPED')),
    start_seq        INTEGER NOT NULL DEFAULT 0,
    commission_state TEXT NOT NULL DEFAULT 'COMMISSIONED',
    created_at       INTEGER NOT NULL,
    FOREIGN KEY (cluster_name, service_name) REFERENCES services (cluster_name, name) ON DELETE CASCADE,
    FOREIGN KEY (cluster_name, service_name, group_name) REFERENCES role_config_groups (cluster_name, service_name, name)
) STRICT;
CREATE INDEX roles_service ON roles (cluster_name, service_name);
CREATE INDEX roles_host ON roles (host_id);

-- Commands are asynchronous operations with parent and child commands.
CREATE TABLE commands (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    parent_id      INTEGER REFERENCES commands (id),
    cluster_name   TEXT NOT NULL DEFAULT '',
    service_name   TEXT NOT NULL DEFAULT '',
    role_name      TEXT NOT NULL DEFAULT '',
    host_id        TEXT NOT NULL DEFAULT '',
    active         INTEGER NOT NULL,
    success        INTEGER,
    result_message TEXT NOT NULL DEFAULT '',
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER
) STRICT;
CREATE INDEX commands_active ON commands (active) WHERE active = 1;
CREATE INDEX commands_parent ON commands (parent_id);

-- +goose Down
DROP TABLE commands;
DROP TABLE roles;
DROP TABLE role_config_groups;
DROP TABLE services;
DROP TABLE hosts;
DROP TABLE clusters;
DROP TABLE host_tokens;
