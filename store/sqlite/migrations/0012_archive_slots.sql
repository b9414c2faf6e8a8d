-- Archive slots (RFC 5005 pages, store.Store.ArchivePage): one row each time an article is filed
-- in a channel, numbered by the change that filed it (one change files one article, so the number
-- orders and identifies a subtree's slots). Rows are never deleted or renumbered, so a
-- channel's k-th slot stays its k-th slot whatever is deleted or moved later: a deletion leaves a
-- page short instead of shifting items into pages that readers have cached as immutable. Whether
-- a slot still shows its article is read from article_channels and from the article's later slots.
-- Existing filings become the first slots, numbered as the pages numbered them until now
-- (article_channels.first_seq), so existing pages keep their items.
CREATE TABLE archive_slots (
    channel    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (channel, seq, article_id)
) WITHOUT ROWID;
-- An article's later slots, which hide its earlier ones (ArchivePage).
CREATE INDEX archive_slots_article ON archive_slots (article_id, seq);
INSERT INTO archive_slots (channel, seq, article_id) SELECT channel, first_seq, article_id FROM article_channels;
