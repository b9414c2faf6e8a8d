-- The same tables as the SQLite store. Ids and slugs are COLLATE "C" so that they sort by byte
-- value, as in SQLite, whatever the database's default collation is (ties in published_at order by
-- id). Articles are never
-- physically deleted: a deleted article keeps its row (deleted = true) so that the next build of
-- each channel it was in can announce its removal.
CREATE TABLE articles (
    id           text COLLATE "C" PRIMARY KEY,
    seq          bigint NOT NULL,          -- change sequence number, unique, grows on every change
    hash         text NOT NULL,            -- content hash (syndicate.Article.Hash)
    deleted      boolean NOT NULL DEFAULT false,
    published_at timestamptz NOT NULL,
    -- The article as JSON text. Not jsonb: jsonb rejects the \u0000 escape that encoding/json
    -- writes for a NUL in a string, and json keeps the text as written (the +08:00 offsets).
    data         json NOT NULL
);
CREATE UNIQUE INDEX articles_seq ON articles (seq);

-- The newest change sequence number handed out. Article writers lock this one row for the rest
-- of their transaction, so change numbers become visible in increasing order (see nextSeq).
CREATE TABLE change_counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq bigint NOT NULL
);
INSERT INTO change_counter (last_seq) VALUES (0);

-- Channel membership, with published_at copied so the newest-N query is one index range scan.
CREATE TABLE article_channels (
    channel      text COLLATE "C" NOT NULL,
    article_id   text COLLATE "C" NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    published_at timestamptz NOT NULL,
    PRIMARY KEY (channel, article_id)
);
CREATE INDEX article_channels_newest ON article_channels (channel, published_at DESC, article_id);
CREATE INDEX article_channels_article ON article_channels (article_id);

-- What each channel's event stream has announced: the content hash of every live item.
CREATE TABLE channel_items (
    channel    text COLLATE "C" NOT NULL,
    article_id text COLLATE "C" NOT NULL,
    hash       text NOT NULL,
    PRIMARY KEY (channel, article_id)
);

CREATE TABLE channel_builds (
    channel     text COLLATE "C" PRIMARY KEY,
    last_change bigint NOT NULL,
    fingerprint text NOT NULL,
    built_at    timestamptz NOT NULL
);

CREATE TABLE documents (
    channel  text COLLATE "C" NOT NULL,
    format   text COLLATE "C" NOT NULL,
    body     bytea NOT NULL,
    etag     text NOT NULL,
    modified timestamptz NOT NULL,
    PRIMARY KEY (channel, format)
);

CREATE TABLE outbox (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   text NOT NULL UNIQUE,
    subject    text NOT NULL,
    channel    text NOT NULL,
    payload    bytea NOT NULL,             -- the CloudEvent JSON, byte for byte
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
