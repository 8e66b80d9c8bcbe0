-- Reason: a Reddit link's confirmations (a private message on Discord and one on Reddit) must survive
-- a restart between the link and the messages: a link stays unconfirmed until both were attempted,
-- and the inbox reader sends the unconfirmed ones every round (at least once). Links made before
-- this migration were confirmed when they were made.
ALTER TABLE reddit_links ADD COLUMN confirmed_at TEXT;
UPDATE reddit_links SET confirmed_at = linked_at;
