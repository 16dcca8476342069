-- +goose Up
-- The Spark master of each virtual cluster's runs.
ALTER TABLE virtual_clusters ADD COLUMN spark_master TEXT NOT NULL DEFAULT 'local[*]';

-- A run is kept after its job is gone: job_name is not a foreign key.
-- spec is the run's document (the merged Spark spec, mounts, credentials,
-- variables); secrets holds the credential values the run was started with,
-- sealed, so that its logs can be cleaned of them.
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    vc_id             TEXT NOT NULL REFERENCES virtual_clusters (id),
    job_name          TEXT NOT NULL,
    type              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('starting', 'running', 'succeeded', 'failed', 'killed', 'unknown')),
    user_name         TEXT NOT NULL,
    request_id        TEXT,
    spec              TEXT NOT NULL,
    retention         TEXT NOT NULL,
    secrets           BLOB,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    ended_at          INTEGER,
    kill_requested_at INTEGER,
    spark_app_id      TEXT NOT NULL DEFAULT '',
    spark_app_url     TEXT NOT NULL DEFAULT '',
    exit_code         INTEGER,
    reason            TEXT NOT NULL DEFAULT '',
    log_tail          TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX runs_request ON runs (vc_id, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX runs_vc ON runs (vc_id, id);
CREATE INDEX runs_job ON runs (vc_id, job_name, id);
CREATE INDEX runs_status ON runs (vc_id, status, id);
CREATE INDEX runs_expiry ON runs (ended_at) WHERE retention = 'delete_after_run';

-- The scheduler's memory, one row per job with a schedule: the last cron
-- time it started a run for, and the next one due (NULL while the schedule
-- is disabled, paused or past its end).
CREATE TABLE schedules (
    vc_id        TEXT NOT NULL,
    job_name     TEXT NOT NULL,
    last_fire_at INTEGER NOT NULL,
    next_fire_at INTEGER,
    PRIMARY KEY (vc_id, job_name),
    FOREIGN KEY (vc_id, job_name) REFERENCES jobs (vc_id, name) ON DELETE CASCADE
) STRICT;
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;

-- Builds of python-env resources.
ALTER TABLE resources ADD COLUMN build TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE resources DROP COLUMN build;
DROP TABLE schedules;
DROP TABLE runs;
ALTER TABLE virtual_clusters DROP COLUMN spark_master;
