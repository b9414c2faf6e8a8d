-- Archive pages (RFC 5005) list a channel's articles in creation order, which published_at is
-- not: an article can be back-dated, and editing one must not move it to another page. first_seq
-- is the change sequence number an article got when it was created; updates keep it, and an
-- article deleted and stored again gets a new one. Existing rows start from their current seq,
-- the only order of arrival the store knows. article_channels carries a copy, as it does
-- published_at, so that one channel's page is one index range scan.
ALTER TABLE articles ADD COLUMN first_seq bigint;
UPDATE articles SET first_seq = seq;
ALTER TABLE articles ALTER COLUMN first_seq SET NOT NULL;
CREATE UNIQUE INDEX articles_first_seq ON articles (first_seq);

ALTER TABLE article_channels ADD COLUMN first_seq bigint;
UPDATE article_channels ac SET first_seq = a.first_seq FROM articles a WHERE a.id = ac.article_id;
ALTER TABLE article_channels ALTER COLUMN first_seq SET NOT NULL;
CREATE INDEX article_channels_created ON article_channels (channel, first_seq, article_id);
