-- The durable delivery queue (store.Queue): WebSub pings to hubs now, a built-in hub's content
-- deliveries later, told apart by kind. One row per (kind, target, topic) coalesces changes.
-- Times are Unix microseconds; claimed_until 0 means unclaimed.
CREATE TABLE websub_queue (
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    topic           TEXT NOT NULL,
    payload         BLOB,
    version         INTEGER NOT NULL DEFAULT 1,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    claim           TEXT NOT NULL DEFAULT '',
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, target, topic)
);
CREATE INDEX websub_queue_due ON websub_queue (kind, target, next_attempt_at);
