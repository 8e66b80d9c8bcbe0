-- Reason: a brand's sponsored announcement in a subreddit (`/activation create reddit-announcement`) is
-- an activation of a new kind, 'announcement', which the CHECK on activations.kind must accept.

-- SQLite cannot change a CHECK constraint with ALTER TABLE, and rebuilding the table would
-- cascade-delete its children (foreign keys are on), so this follows SQLite's documented procedure for
-- schema changes that leave every stored row valid (https://sqlite.org/lang_altertable.html, "Making
-- Other Kinds Of Table Schema Changes"), as 0013 did: edit the table's definition in the schema, bump
-- the schema cookie (the CREATE TRIGGER below does, so every connection reloads the schema), and run
-- an integrity check before the transaction commits. A constraint that only widens cannot make a
-- stored row invalid; the check proves the edited schema still parses and matches the data.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (kind IN (''qa'', ''giveaway'', ''takeover''))',
                          'CHECK (kind IN (''qa'', ''giveaway'', ''takeover'', ''announcement''))')
 WHERE type = 'table' AND name = 'activations';
PRAGMA writable_schema = RESET;

-- The edit must have happened exactly once (the text it replaces is 0005's).
CREATE TEMP TABLE migration_0015_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0015_check
SELECT count(*) = 1 FROM sqlite_master
 WHERE type = 'table' AND name = 'activations'
   AND sql LIKE '%CHECK (kind IN (''qa'', ''giveaway'', ''takeover'', ''announcement''))%';

-- Kind-specific rows (a giveaway's seed, entries and draws) depend on the kind: it never changes.
CREATE TRIGGER activations_kind_is_fixed BEFORE UPDATE OF kind ON activations
WHEN OLD.kind IS NOT NEW.kind
BEGIN
    SELECT RAISE(ABORT, 'an activation cannot change kind');
END;

-- The integrity check: a result other than 'ok' violates this CHECK and fails the migration, which
-- then leaves nothing of itself behind.
CREATE TEMP TABLE migration_0015_integrity (result TEXT NOT NULL CHECK (result = 'ok'));
INSERT INTO migration_0015_integrity SELECT integrity_check FROM pragma_integrity_check('activations');
DROP TABLE migration_0015_integrity;
DROP TABLE migration_0015_check;
