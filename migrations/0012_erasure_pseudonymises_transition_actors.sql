-- Reason: erasure replaces a member's id by the erasure's random (negative) pseudonym wherever it records
-- an action they took, including the append-only log of activation transitions. The log stays
-- append-only for everything else: the one update allowed changes nothing but a real member id in
-- actor_id into a pseudonym.
DROP TRIGGER activation_transitions_append_only;
CREATE TRIGGER activation_transitions_append_only BEFORE UPDATE ON activation_transitions
WHEN NOT (
    OLD.actor_id > 0 AND NEW.actor_id < 0
    AND NEW.id IS OLD.id AND NEW.activation_id IS OLD.activation_id AND NEW.community_id IS OLD.community_id
    AND NEW.from_state IS OLD.from_state AND NEW.to_state IS OLD.to_state
    AND NEW.reason IS OLD.reason AND NEW.at IS OLD.at
)
BEGIN
    SELECT RAISE(ABORT, 'activation_transitions is append-only');
END;
