-- Archive pages (RFC 5005) list a channel's articles in creation order, which published_at is
-- not: an article can be back-dated, and editing one must not move it to another page. first_seq
-- is the change sequence number an article got when it was created; updates keep it, and an
-- article deleted and stored again gets a new one. Existing rows start from their current seq,
-- the only order of arrival the store knows. article_channels carries a copy, as it does
-- published_at, so that one channel's page is one index range scan.
ALTER TABLE articles ADD COLUMN first_seq INTEGER NOT NULL DEFAULT 0;
UPDATE articles SET first_seq = seq;
CREATE UNIQUE INDEX articles_first_seq ON articles (first_seq);

ALTER TABLE article_channels ADD COLUMN first_seq INTEGER NOT NULL DEFAULT 0;
UPDATE article_channels SET first_seq = (SELECT a.first_seq FROM articles a WHERE a.id = article_channels.article_id);
CREATE INDEX article_channels_created ON article_channels (channel, first_seq, article_id);
