-- Times are Unix microseconds. Articles are never physically deleted: a deleted article keeps its
-- row (deleted = 1) so that the next build of each channel it was in can announce its removal.
CREATE TABLE articles (
    id           TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL,          -- change sequence number, unique, grows on every change
    hash         TEXT NOT NULL,             -- content hash (syndicate.Article.Hash)
    deleted      INTEGER NOT NULL DEFAULT 0,
    published_at INTEGER NOT NULL,
    data         TEXT NOT NULL              -- the article as JSON
);
CREATE UNIQUE INDEX articles_seq ON articles (seq);

-- Channel membership, with published_at copied so the newest-N query is one index range scan.
CREATE TABLE article_channels (
    channel      TEXT NOT NULL,
    article_id   TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (channel, article_id)
);
CREATE INDEX article_channels_newest ON article_channels (channel, published_at DESC, article_id);
CREATE INDEX article_channels_article ON article_channels (article_id);

-- What each channel's event stream has announced: the content hash of every live item.
CREATE TABLE channel_items (
    channel    TEXT NOT NULL,
    article_id TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (channel, article_id)
);

CREATE TABLE channel_builds (
    channel     TEXT PRIMARY KEY,
    last_change INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    built_at    INTEGER NOT NULL
);

CREATE TABLE documents (
    channel  TEXT NOT NULL,
    format   TEXT NOT NULL,
    body     BLOB NOT NULL,
    etag     TEXT NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (channel, format)
);

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
