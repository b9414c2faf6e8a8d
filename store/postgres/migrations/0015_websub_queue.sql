-- The durable delivery queue (store.Queue): WebSub pings to hubs now, a built-in hub's content
-- deliveries later, told apart by kind. One row per (kind, target, topic) coalesces changes;
-- replicas claim due rows with FOR UPDATE SKIP LOCKED and a lease (claimed_until).
CREATE TABLE websub_queue (
    kind            text NOT NULL,
    target          text NOT NULL,
    topic           text NOT NULL,
    payload         bytea,
    version         bigint NOT NULL DEFAULT 1,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    claim           text NOT NULL DEFAULT '',
    claimed_until   timestamptz NOT NULL DEFAULT 'epoch',
    PRIMARY KEY (kind, target, topic)
);
CREATE INDEX websub_queue_due ON websub_queue (kind, target, next_attempt_at);
