-- first_seq ordered archive pages until archive_slots (0012) took over; nothing reads it since,
-- and every write kept it up to date. Its indexes go first: SQLite drops no indexed column.
DROP INDEX articles_first_seq;
DROP INDEX article_channels_created;
ALTER TABLE articles DROP COLUMN first_seq;
ALTER TABLE article_channels DROP COLUMN first_seq;
