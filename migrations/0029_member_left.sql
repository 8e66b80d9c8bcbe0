-- Reason: a member who left the community is not listed as a trusted voice, so the ranking reads
-- `members.left_at` with the other member facts; a departure (or a return, which clears it) must
-- bump the member version as those facts do, so that the ranking kept between recomputes sees it.
DROP TRIGGER members_version_update;

CREATE TRIGGER members_version_update
AFTER UPDATE OF first_seen, joined_at, account_created_at, is_bot, left_at ON members
WHEN OLD.first_seen IS NOT NEW.first_seen OR OLD.joined_at IS NOT NEW.joined_at
     OR OLD.account_created_at IS NOT NEW.account_created_at OR OLD.is_bot IS NOT NEW.is_bot
     OR OLD.left_at IS NOT NEW.left_at
BEGIN
    INSERT INTO member_versions (community_id, version) VALUES (NEW.community_id, 1)
    ON CONFLICT (community_id) DO UPDATE SET version = version + 1;
    UPDATE members SET version = (SELECT version FROM member_versions WHERE community_id = NEW.community_id)
     WHERE platform = NEW.platform AND community_id = NEW.community_id AND member_id = NEW.member_id;
END;
