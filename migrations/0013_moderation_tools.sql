-- Reason: tools moderators expect: an optional trusted-voice role per ranking scope (given after each
-- recompute, taken back with hysteresis, so the bot records whom it gave it to), and an optional
-- audit-log channel that receives one line per privileged event.

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
