-- Several relays share one outbox: a relay claims whole channels for a while, so that no two
-- relays publish rows of one channel at once (which would break per-channel order).
ALTER TABLE outbox ADD COLUMN claimed_by text;
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;
CREATE INDEX outbox_pending_channel ON outbox (channel, claimed_until) WHERE sent_at IS NULL;
