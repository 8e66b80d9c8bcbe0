-- Reason: erasure replaces a member's id by the erasure's random (negative) pseudonym wherever it records
-- an action they took, including the append-only log of activation transitions. The log stays
-- append-only for everything else: the one update allowed changes nothing but a real member id in
-- actor_id into a pseudonym. (PostgreSQL: the same condition as the trigger's WHEN clause, `IS NOT
-- DISTINCT FROM` for SQLite's `IS`.)
DROP TRIGGER activation_transitions_append_only ON activation_transitions;
CREATE TRIGGER activation_transitions_append_only BEFORE UPDATE ON activation_transitions
    FOR EACH ROW
    WHEN (NOT (
        OLD.actor_id > 0 AND NEW.actor_id < 0
        AND NEW.id IS NOT DISTINCT FROM OLD.id
        AND NEW.activation_id IS NOT DISTINCT FROM OLD.activation_id
        AND NEW.community_id IS NOT DISTINCT FROM OLD.community_id
        AND NEW.from_state IS NOT DISTINCT FROM OLD.from_state
        AND NEW.to_state IS NOT DISTINCT FROM OLD.to_state
        AND NEW.reason IS NOT DISTINCT FROM OLD.reason
        AND NEW.at IS NOT DISTINCT FROM OLD.at
    ))
    EXECUTE FUNCTION microvoice_append_only();
