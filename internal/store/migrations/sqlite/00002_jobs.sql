-- +goose Up
CREATE TABLE virtual_clusters (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

-- A job's definition is one JSON document (spec); the columns beside it are
-- what lists sort and filter on most.
CREATE TABLE jobs (
    vc_id        TEXT NOT NULL REFERENCES virtual_clusters (id),
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    spec         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (vc_id, name)
) STRICT;
CREATE INDEX jobs_type ON jobs (vc_id, type);
CREATE INDEX jobs_created ON jobs (vc_id, created_at);
CREATE INDEX jobs_modified ON jobs (vc_id, modified_at);

-- What each job refers to, so that deleting a resource or credential in use
-- is refused without reading every job.
CREATE TABLE job_refs (
    vc_id    TEXT NOT NULL,
    job_name TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('resource', 'credential')),
    ref_name TEXT NOT NULL,
    PRIMARY KEY (vc_id, kind, ref_name, job_name),
    FOREIGN KEY (vc_id, job_name) REFERENCES jobs (vc_id, name) ON DELETE CASCADE
) STRICT;
CREATE INDEX job_refs_job ON job_refs (vc_id, job_name);

CREATE TABLE resources (
    vc_id        TEXT NOT NULL REFERENCES virtual_clusters (id),
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    spec         TEXT NOT NULL,
    signature    TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (vc_id, name)
) STRICT;

CREATE TABLE resource_files (
    vc_id         TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    path          TEXT NOT NULL,
    blob_id       TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    sha1          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL,
    PRIMARY KEY (vc_id, resource_name, path),
    FOREIGN KEY (vc_id, resource_name) REFERENCES resources (vc_id, name) ON DELETE CASCADE
) STRICT;
CREATE INDEX resource_files_blob ON resource_files (blob_id);

CREATE TABLE credentials (
    vc_id       TEXT NOT NULL REFERENCES virtual_clusters (id),
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    description TEXT NOT NULL,
    secret      BLOB NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    PRIMARY KEY (vc_id, name)
) STRICT;

-- +goose Down
DROP TABLE credentials;
DROP TABLE resource_files;
DROP TABLE resources;
DROP TABLE job_refs;
DROP TABLE jobs;
DROP TABLE virtual_clusters;
