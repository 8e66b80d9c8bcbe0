-- Reason: "trend vs the previous period" compares a member's standing with the ranking as it stood a
-- period earlier (a daily snapshot), not with the previous recompute a quarter of an hour ago.

CREATE TABLE trust_snapshots (
    community_id  INTEGER NOT NULL,
    -- Day number (days since 1970-01-01, UTC) the snapshot was taken: the ranking as it stood then.
    day           INTEGER NOT NULL,
    scope         TEXT    NOT NULL,
    member_id     INTEGER NOT NULL,
    score         REAL    NOT NULL,
    PRIMARY KEY (community_id, day, scope, member_id)
) WITHOUT ROWID;
