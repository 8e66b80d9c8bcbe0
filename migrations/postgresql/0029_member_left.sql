-- Reason: ../0029_member_left.sql for PostgreSQL: a departure (`members.left_at`, or a return that
-- clears it) bumps the member version as the other member facts do.
DROP TRIGGER members_version_update ON members;

CREATE TRIGGER members_version_update
AFTER UPDATE OF first_seen, joined_at, account_created_at, is_bot, left_at ON members
    FOR EACH ROW
    WHEN (OLD.first_seen IS DISTINCT FROM NEW.first_seen OR OLD.joined_at IS DISTINCT FROM NEW.joined_at
          OR OLD.account_created_at IS DISTINCT FROM NEW.account_created_at OR OLD.is_bot IS DISTINCT FROM NEW.is_bot
          OR OLD.left_at IS DISTINCT FROM NEW.left_at)
    EXECUTE FUNCTION members_version_bump();
