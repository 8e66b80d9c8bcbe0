-- Reason: tools moderators expect: an optional trusted-voice role per ranking scope (given after each
-- recompute, taken back with hysteresis, so the bot records whom it gave it to), an optional audit-log
-- channel that receives one line per privileged event, and community giveaways: a giveaway with no
-- brand behind it (brand_id NULL), with the moderator's statement that no brand provided the prize.

-- activations.brand_id loses its NOT NULL. SQLite cannot drop a NOT NULL with ALTER TABLE, and
-- rebuilding the table would cascade-delete its children (foreign keys are on), so this uses SQLite's
-- documented procedure for removing a NOT NULL constraint, which changes no stored row: edit the
-- table's definition in the schema, then reload it. The CREATE TABLE statements below bump the schema
-- cookie, so every other connection reloads the schema too. A community activation must be a giveaway,
-- and an activation never gains or loses its brand afterwards (the triggers below).
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, 'brand_id         INTEGER NOT NULL REFERENCES brands (id)',
                          'brand_id         INTEGER REFERENCES brands (id)')
 WHERE type = 'table' AND name = 'activations';
PRAGMA writable_schema = RESET;

CREATE TRIGGER activations_community_is_a_giveaway BEFORE INSERT ON activations
WHEN NEW.brand_id IS NULL AND NEW.kind <> 'giveaway'
BEGIN
    SELECT RAISE(ABORT, 'only a giveaway can run without a brand');
END;
CREATE TRIGGER activations_brand_is_fixed BEFORE UPDATE OF brand_id ON activations
WHEN OLD.brand_id IS NOT NEW.brand_id
BEGIN
    SELECT RAISE(ABORT, 'an activation cannot be attached to another brand, or a community giveaway to one');
END;

-- The moderator's statement that no brand provided a community giveaway's prize (shown on its post).
CREATE TABLE community_giveaways (
    activation_id  INTEGER PRIMARY KEY REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    stated_by      INTEGER NOT NULL,
    stated_at      TEXT    NOT NULL
);

ALTER TABLE guild_settings ADD COLUMN audit_channel_id INTEGER;

-- One rule per scope ('all', 'channel:<id>', 'category:<id>'): the role goes to the top `top_n` of the
-- stored ranking, or to everyone at or above `min_percent` of the top score; never both.
CREATE TABLE voice_roles (
    community_id  INTEGER NOT NULL,
    scope         TEXT    NOT NULL,
    role_id       INTEGER NOT NULL,
    top_n         INTEGER CHECK (top_n BETWEEN 1 AND 100),
    min_percent   INTEGER CHECK (min_percent BETWEEN 1 AND 100),
    set_by        INTEGER NOT NULL,
    set_at        TEXT    NOT NULL,
    PRIMARY KEY (community_id, scope),
    CHECK ((top_n IS NULL) <> (min_percent IS NULL))
);

-- Who holds a trusted-voice role because the bot gave it (the bot only ever takes back what it gave).
CREATE TABLE voice_role_holders (
    community_id  INTEGER NOT NULL,
    scope         TEXT    NOT NULL,
    member_id     INTEGER NOT NULL,
    role_id       INTEGER NOT NULL,
    granted_at    TEXT    NOT NULL,
    PRIMARY KEY (community_id, scope, member_id)
);
