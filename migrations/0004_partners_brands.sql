-- Reason: partner programs (members opt in to being seen by brands, under versioned terms),
-- an append-only consent log, and brands sanctioned by moderators with their contacts.
-- Erasure (/privacy forget) and the retention purge delete raw `events` rows; there is deliberately no
-- DELETE trigger on `events`, so the daily aggregates fed by the INSERT triggers of 0002 stay as they are.

-- Partner terms written by moderators; version 0 (no row) means the built-in default text.
CREATE TABLE partner_terms (
    community_id  INTEGER NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    body          TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_by    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (community_id, version)
) WITHOUT ROWID;

-- One row per member who ever joined a community's partner program; active while opted_out_at IS NULL.
CREATE TABLE partners (
    community_id   INTEGER NOT NULL,
    member_id      INTEGER NOT NULL,
    terms_version  INTEGER NOT NULL,
    opted_in_at    TEXT    NOT NULL,
    opted_out_at   TEXT,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;
CREATE INDEX partners_active ON partners (community_id, member_id) WHERE opted_out_at IS NULL;

-- Append-only: rows are never updated. Erasure deletes a member's rows and leaves one 'erased' tombstone.
CREATE TABLE consent_log (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL,
    member_id      INTEGER NOT NULL,
    action         TEXT    NOT NULL CHECK (action IN ('accepted', 'declined', 'left', 'left_server',
                                                      'banned', 'erased')),
    terms_version  INTEGER,
    at             TEXT    NOT NULL
);
CREATE INDEX consent_log_by_member ON consent_log (community_id, member_id);
CREATE TRIGGER consent_log_append_only BEFORE UPDATE ON consent_log
BEGIN
    SELECT RAISE(ABORT, 'consent_log is append-only');
END;

CREATE TABLE brands (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status        TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'approved', 'suspended', 'removed')),
    -- Channels (JSON array of ids) that define the brand's topics for ranking partners.
    topics        TEXT    NOT NULL DEFAULT '[]',
    created_by    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    approved_by   INTEGER,
    -- A Discord role a moderator chose to give the brand's contacts while the brand is approved;
    -- NULL (the default): Microvoice gives brand contacts no Discord role or permission at all.
    role_id       INTEGER,
    updated_at    TEXT    NOT NULL
);
-- A removed brand frees its name; live names are unique per community, case-insensitively.
CREATE UNIQUE INDEX brands_live_name ON brands (community_id, lower(name)) WHERE status <> 'removed';

-- Members who act for a brand inside Microvoice (brand managers while the brand is approved).
CREATE TABLE brand_contacts (
    brand_id      INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    community_id  INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    PRIMARY KEY (brand_id, member_id)
) WITHOUT ROWID;
CREATE INDEX brand_contacts_by_member ON brand_contacts (community_id, member_id);
