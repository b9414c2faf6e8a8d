-- The newest change number that touched each channel (an article filed in, changed in, or removed
-- from it), so a build can tell in one indexed lookup that nothing in its subtree changed.
CREATE TABLE channel_marks (
    channel text COLLATE "C" PRIMARY KEY,
    seq     bigint NOT NULL
);
INSERT INTO channel_marks (channel, seq)
    SELECT ac.channel, max(a.seq) FROM article_channels ac JOIN articles a ON a.id = ac.article_id GROUP BY ac.channel;
