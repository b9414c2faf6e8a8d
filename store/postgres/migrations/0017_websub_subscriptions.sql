-- The built-in WebSub hub's verified subscribers (store.Subscriptions): one row per (callback,
-- topic).
CREATE TABLE websub_subscriptions (
    id            bigserial PRIMARY KEY,
    callback      text NOT NULL,
    topic         text NOT NULL,
    host          text NOT NULL,
    secret        text NOT NULL DEFAULT '',
    lease_seconds integer NOT NULL,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    renewed_at    timestamptz NOT NULL,
    UNIQUE (callback, topic)
);
CREATE INDEX websub_subscriptions_topic ON websub_subscriptions (topic, expires_at);
CREATE INDEX websub_subscriptions_host ON websub_subscriptions (host, expires_at);
CREATE INDEX websub_subscriptions_expiry ON websub_subscriptions (expires_at);
