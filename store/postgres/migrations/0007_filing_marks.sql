-- The newest change number that filed an article in each channel or removed one: archive counts
-- stay valid while it stays the same. Existing channels start at their newest change, which can
-- only cause one recount too many.
ALTER TABLE channel_marks ADD COLUMN filed bigint NOT NULL DEFAULT 0;
UPDATE channel_marks SET filed = seq;
