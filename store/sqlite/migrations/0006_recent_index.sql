-- The newest filings across all channels, for feeds over many channels (the site-wide feed).
CREATE INDEX article_channels_recent ON article_channels (published_at DESC, article_id);
