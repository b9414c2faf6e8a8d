-- Builds save documents gzip-compressed (store.StoredBody); earlier rows stay identity. Gzip
-- bytes do not compress again: EXTERNAL keeps them out of line without PostgreSQL's own pglz
-- pass, which cost the server more CPU than anything else a build asked of it.
ALTER TABLE documents ADD COLUMN encoding text NOT NULL DEFAULT 'identity';
ALTER TABLE documents ALTER COLUMN body SET STORAGE EXTERNAL;
