-- Builds save documents gzip-compressed (store.StoredBody); earlier rows stay identity.
ALTER TABLE documents ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity';
