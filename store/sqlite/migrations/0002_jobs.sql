-- Job settings changed through the API (they win over the configuration) and last run times.
CREATE TABLE jobs (
    name       TEXT PRIMARY KEY,
    schedule   TEXT NOT NULL DEFAULT '',
    paused     INTEGER NOT NULL DEFAULT 0,
    last_run   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0
);
