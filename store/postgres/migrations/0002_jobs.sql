-- Job settings changed through the API (they win over the configuration) and last run times.
-- NULL times mean never, where SQLite stores 0.
CREATE TABLE jobs (
    name       text COLLATE "C" PRIMARY KEY,
    schedule   text NOT NULL DEFAULT '',
    paused     boolean NOT NULL DEFAULT false,
    last_run   timestamptz,
    updated_at timestamptz
);
