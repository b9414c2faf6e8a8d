-- Every job's runs, as all replicas read them (store.RunHistory). NULL ended means running.
-- The index serves both the newest-first reads and the per-job pruning.
CREATE TABLE job_runs (
    id           text COLLATE "C" PRIMARY KEY,
    job          text COLLATE "C" NOT NULL,
    triggered_by text NOT NULL,
    replica      text NOT NULL DEFAULT '',
    started      timestamptz NOT NULL,
    ended        timestamptz,
    deadline     timestamptz,
    status       text NOT NULL,
    count        integer NOT NULL DEFAULT 0,
    documents    integer NOT NULL DEFAULT 0,
    events       integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT ''
);
CREATE INDEX job_runs_job ON job_runs (job, started DESC, id DESC);
