-- Job coordination between replicas that share this database (cluster package). Expiry is
-- compared with now() on the server, so replica clocks never matter. A lease row is never deleted:
-- its token must keep growing, or a stale holder could match a fresh lease's token.
CREATE TABLE job_leases (
    job        text PRIMARY KEY,
    holder     text NOT NULL,
    token      bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- One row per claimed tick, so a tick runs on one replica only; rows older than a day are pruned
-- as new ticks are claimed.
CREATE TABLE job_ticks (
    job     text NOT NULL,
    tick    timestamptz NOT NULL,
    holder  text NOT NULL,
    PRIMARY KEY (job, tick)
);
