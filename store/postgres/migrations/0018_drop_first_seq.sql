-- first_seq ordered archive pages until archive_slots (0013) took over; nothing reads it since,
-- and every write kept it up to date. Dropping a column drops its indexes.
ALTER TABLE articles DROP COLUMN first_seq;
ALTER TABLE article_channels DROP COLUMN first_seq;
