-- Reason: a brand's sponsored announcement in a subreddit (`/activation create reddit-announcement`) is
-- an activation of a new kind, 'announcement', which the CHECK on activations.kind must accept.
-- (PostgreSQL: the CHECK is replaced with ALTER TABLE, where SQLite edits its schema table; the
-- replacement is validated against every stored row. The trigger is a PL/pgSQL function.)

ALTER TABLE activations DROP CONSTRAINT activations_kind_check;
ALTER TABLE activations ADD CONSTRAINT activations_kind_check
    CHECK (kind IN ('qa', 'giveaway', 'takeover', 'announcement'));

-- Kind-specific rows (a giveaway's seed, entries and draws) depend on the kind: it never changes.
CREATE FUNCTION microvoice_kind_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an activation cannot change kind' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER activations_kind_is_fixed BEFORE UPDATE OF kind ON activations
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION microvoice_kind_is_fixed();
