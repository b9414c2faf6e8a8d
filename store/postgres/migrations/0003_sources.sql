-- Conditional-GET validators of each upstream source, so a restart does not refetch everything.
CREATE TABLE sources (
    name          text COLLATE "C" PRIMARY KEY,
    etag          text NOT NULL DEFAULT '',
    last_modified text NOT NULL DEFAULT '',   -- the header as received, compared verbatim
    checked_at    timestamptz NOT NULL
);
