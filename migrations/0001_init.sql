-- Reason: the engagement ledger (metadata only, never message text), members, channels and
-- per-community settings: everything the walking skeleton records and configures.

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    platform      TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id  INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    actor_id      INTEGER NOT NULL,
    target_id     INTEGER,
    kind          TEXT    NOT NULL CHECK (kind IN ('message', 'reply', 'reaction', 'unreaction', 'thread',
                                                   'comment', 'submission', 'join')),
    source_id     TEXT    NOT NULL,
    is_self       INTEGER NOT NULL DEFAULT 0 CHECK (is_self IN (0, 1)),
    created_at    TEXT    NOT NULL,
    -- The natural key: a replayed or duplicated delivery of the same event is ignored.
    UNIQUE (platform, kind, source_id, actor_id)
);
CREATE INDEX events_by_community_time ON events (community_id, created_at);
CREATE INDEX events_by_actor ON events (community_id, actor_id);
CREATE INDEX events_by_target ON events (community_id, target_id) WHERE target_id IS NOT NULL;

CREATE TABLE members (
    platform            TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id        INTEGER NOT NULL,
    member_id           INTEGER NOT NULL,
    first_seen          TEXT    NOT NULL,
    joined_at           TEXT,
    account_created_at  TEXT,
    is_bot              INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1)),
    left_at             TEXT,
    PRIMARY KEY (platform, community_id, member_id)
) WITHOUT ROWID;

CREATE TABLE channels (
    platform      TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id  INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    -- Category for a channel, parent channel (text or forum) for a thread.
    parent_id     INTEGER,
    type          INTEGER NOT NULL DEFAULT 0,
    name          TEXT    NOT NULL DEFAULT '',
    -- Thread creator: a message in a thread engages with whoever opened it.
    owner_id      INTEGER,
    PRIMARY KEY (platform, community_id, channel_id)
) WITHOUT ROWID;

CREATE TABLE guild_settings (
    community_id            INTEGER PRIMARY KEY,
    locale                  TEXT    NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'ar', 'he')),
    mod_role_id             INTEGER,
    report_channel_id       INTEGER,
    retention_days          INTEGER NOT NULL DEFAULT 180 CHECK (retention_days BETWEEN 1 AND 3650),
    max_sponsored_per_week  INTEGER NOT NULL DEFAULT 2 CHECK (max_sponsored_per_week BETWEEN 0 AND 50),
    min_gap_hours           INTEGER NOT NULL DEFAULT 24 CHECK (min_gap_hours BETWEEN 0 AND 720),
    k_anonymity             INTEGER NOT NULL DEFAULT 5 CHECK (k_anonymity BETWEEN 2 AND 100),
    updated_at              TEXT,
    updated_by              INTEGER
);

-- Small key/value facts about this installation (e.g. the hash of the last synced command tree,
-- so commands are synced only when they changed).
CREATE TABLE bot_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
