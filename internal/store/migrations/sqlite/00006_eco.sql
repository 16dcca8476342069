-- +goose Up
-- Hadoop Eco clusters and their VMs. A cluster's request is kept as JSON
-- (spec) with its secrets sealed apart (secrets); status holds the
-- Hadoop Eco status text ("Running", "Terminated(User)", ...). A name is
-- unique among clusters that are not terminated.

CREATE TABLE eco_clusters (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    owner         TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    spec          TEXT NOT NULL,
    secrets       BLOB,
    worker_cnt    INTEGER NOT NULL,
    changing      INTEGER NOT NULL DEFAULT 0,
    task_status   TEXT NOT NULL DEFAULT '',
    task_log      TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    running_at    INTEGER,
    terminated_at INTEGER,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX eco_clusters_live_name ON eco_clusters (name) WHERE status NOT LIKE 'Terminated%';
CREATE INDEX eco_clusters_created ON eco_clusters (created_at);

CREATE TABLE eco_vms (
    instance_id  TEXT PRIMARY KEY,
    cluster_id   TEXT NOT NULL REFERENCES eco_clusters (id),
    name         TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    is_master    INTEGER NOT NULL,
    flavor       TEXT NOT NULL,
    volume_gb    INTEGER NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    script_log   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    deleted_at   INTEGER
) STRICT;

CREATE INDEX eco_vms_cluster ON eco_vms (cluster_id, idx);

-- +goose Down
DROP TABLE eco_vms;
DROP TABLE eco_clusters;
