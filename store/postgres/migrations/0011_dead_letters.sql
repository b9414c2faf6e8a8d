-- A row the NATS server refuses for good (too large, a bad subject) is parked with the error
-- instead of being retried forever, which held back its channel and, through the relay's
-- retries, everything else.
ALTER TABLE outbox ADD COLUMN dead_at timestamptz;
ALTER TABLE outbox ADD COLUMN dead_error text;
CREATE INDEX outbox_dead ON outbox (seq) WHERE dead_at IS NOT NULL;
