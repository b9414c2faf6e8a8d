-- An article's content as the feeds' HTML policy left it (syndicate.Article.Sanitized), saved
-- with the article so that builds need not sanitise it again; sanitized_html is NULL when that is
-- the content as it came (a CMS's clean HTML), which data keeps. It counts only while
-- sanitized_hash equals hash: a writer that knows nothing of these columns (a replica not yet
-- upgraded) changes hash alone, and the stale result is ignored.
ALTER TABLE articles ADD COLUMN sanitized_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN sanitized_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN sanitized_html TEXT;
