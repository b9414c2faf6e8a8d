-- The built-in WebSub hub's verified subscribers (store.Subscriptions): one row per (callback,
-- topic). Times are Unix microseconds.
CREATE TABLE websub_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    callback      TEXT NOT NULL,
    topic         TEXT NOT NULL,
    host          TEXT NOT NULL,
    secret        TEXT NOT NULL DEFAULT '',
    lease_seconds INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    renewed_at    INTEGER NOT NULL,
    UNIQUE (callback, topic)
);
CREATE INDEX websub_subscriptions_topic ON websub_subscriptions (topic, expires_at);
CREATE INDEX websub_subscriptions_host ON websub_subscriptions (host, expires_at);
CREATE INDEX websub_subscriptions_expiry ON websub_subscriptions (expires_at);
