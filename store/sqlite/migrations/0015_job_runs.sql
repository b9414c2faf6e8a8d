-- Every job's runs, as all replicas read them (store.RunHistory). Times are Unix microseconds,
-- 0 for none. The index serves both the newest-first reads and the per-job pruning.
CREATE TABLE job_runs (
    id           TEXT PRIMARY KEY,
    job          TEXT NOT NULL,
    triggered_by TEXT NOT NULL,
    replica      TEXT NOT NULL DEFAULT '',
    started      INTEGER NOT NULL,
    ended        INTEGER NOT NULL DEFAULT 0,
    deadline     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    count        INTEGER NOT NULL DEFAULT 0,
    documents    INTEGER NOT NULL DEFAULT 0,
    events       INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_runs_job ON job_runs (job, started DESC, id DESC);
