-- A row the NATS server refuses for good (too large, a bad subject) is parked with the error
-- instead of being retried forever, which held back its channel and, through the relay's
-- retries, everything else.
ALTER TABLE outbox ADD COLUMN dead_at timestamptz;
ALTER TABLE outbox ADD COLUMN dead_error text;
CREATE INDEX outbox_dead ON outbox (seq) WHERE dead_at IS NOT NULL;

-- Events carry a per-article revision, incremented by every change (update, deletion), so an
-- aggregator can tell which of two events is newer; and the time the store recorded the change,
-- which is the event's time rather than the build's. Rows from before have revision 1 and no time.
ALTER TABLE articles ADD COLUMN revision bigint NOT NULL DEFAULT 1;
ALTER TABLE articles ADD COLUMN changed_at timestamptz;
