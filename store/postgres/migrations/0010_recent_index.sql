-- The newest filings across all channels, for feeds over many channels (the site-wide feed, a
-- parent of many channels): NewestItems walks it instead of seeking into every channel.
CREATE INDEX article_channels_recent ON article_channels (published_at DESC, article_id);
