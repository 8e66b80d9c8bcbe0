-- Reason: ../0008_member_versions.sql for PostgreSQL: a per-community member version, bumped by
-- triggers whenever a member is added or one of their tenure facts changes, and marked on removal.

ALTER TABLE members ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE member_versions (
    community_id  BIGINT PRIMARY KEY,
    version       BIGINT NOT NULL,            -- the latest member change in the community
    removed       BIGINT NOT NULL DEFAULT 0   -- the version of the latest removal
);

-- Bump the community's version and stamp the member's row with it (AFTER, like SQLite's triggers:
-- an upsert that turns into an update does not count as an insert).
CREATE FUNCTION members_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v BIGINT;
BEGIN
    INSERT INTO member_versions AS mv (community_id, version) VALUES (NEW.community_id, 1)
    ON CONFLICT (community_id) DO UPDATE SET version = mv.version + 1
    RETURNING mv.version INTO v;
    -- Only `version` changes here, so the UPDATE OF trigger below does not fire again.
    UPDATE members SET version = v
     WHERE platform = NEW.platform AND community_id = NEW.community_id AND member_id = NEW.member_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER members_version_insert AFTER INSERT ON members
    FOR EACH ROW EXECUTE FUNCTION members_version_bump();

CREATE TRIGGER members_version_update
AFTER UPDATE OF first_seen, joined_at, account_created_at, is_bot ON members
    FOR EACH ROW
    WHEN (OLD.first_seen IS DISTINCT FROM NEW.first_seen OR OLD.joined_at IS DISTINCT FROM NEW.joined_at
          OR OLD.account_created_at IS DISTINCT FROM NEW.account_created_at OR OLD.is_bot IS DISTINCT FROM NEW.is_bot)
    EXECUTE FUNCTION members_version_bump();

CREATE FUNCTION members_version_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_versions AS mv (community_id, version, removed) VALUES (OLD.community_id, 1, 1)
    ON CONFLICT (community_id) DO UPDATE SET version = mv.version + 1, removed = mv.version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER members_version_delete AFTER DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION members_version_removed();
