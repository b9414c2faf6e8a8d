-- Conditional-GET validators of each upstream source, so a restart does not refetch everything.
CREATE TABLE sources (
    name          TEXT PRIMARY KEY,
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    checked_at    INTEGER NOT NULL DEFAULT 0
);
