-- Reason: a trust recompute runs every few minutes and needs every member's tenure facts; re-reading
-- tens of thousands of members each time costs more than the recompute's own update. A per-community
-- version, bumped whenever a member is added or one of those facts changes, lets the reader fetch
-- only the members changed since its last read. A removal (erasure) marks the version at which it
-- happened, so a reader that read before it starts over.

ALTER TABLE members ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE member_versions (
    community_id  INTEGER PRIMARY KEY,
    version       INTEGER NOT NULL,            -- the latest member change in the community
    removed       INTEGER NOT NULL DEFAULT 0   -- the version of the latest removal
);

CREATE TRIGGER members_version_insert AFTER INSERT ON members
BEGIN
    INSERT INTO member_versions (community_id, version) VALUES (NEW.community_id, 1)
    ON CONFLICT (community_id) DO UPDATE SET version = version + 1;
    UPDATE members SET version = (SELECT version FROM member_versions WHERE community_id = NEW.community_id)
     WHERE platform = NEW.platform AND community_id = NEW.community_id AND member_id = NEW.member_id;
END;

CREATE TRIGGER members_version_update
AFTER UPDATE OF first_seen, joined_at, account_created_at, is_bot ON members
WHEN OLD.first_seen IS NOT NEW.first_seen OR OLD.joined_at IS NOT NEW.joined_at
     OR OLD.account_created_at IS NOT NEW.account_created_at OR OLD.is_bot IS NOT NEW.is_bot
BEGIN
    INSERT INTO member_versions (community_id, version) VALUES (NEW.community_id, 1)
    ON CONFLICT (community_id) DO UPDATE SET version = version + 1;
    UPDATE members SET version = (SELECT version FROM member_versions WHERE community_id = NEW.community_id)
     WHERE platform = NEW.platform AND community_id = NEW.community_id AND member_id = NEW.member_id;
END;

CREATE TRIGGER members_version_delete AFTER DELETE ON members
BEGIN
    INSERT INTO member_versions (community_id, version, removed) VALUES (OLD.community_id, 1, 1)
    ON CONFLICT (community_id) DO UPDATE SET version = version + 1, removed = version + 1;
END;
