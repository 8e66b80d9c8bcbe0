-- Reason: stored trust rankings per community and scope, so /voices answers from the database and
-- never waits on a recompute; moderator pins and exclusions that steer the ranking.

CREATE TABLE trust_scores (
    community_id    INTEGER NOT NULL,
    scope           TEXT    NOT NULL,  -- 'all', 'channel:<id>', 'category:<id>'
    member_id       INTEGER NOT NULL,
    rank            INTEGER NOT NULL,
    score           REAL    NOT NULL,
    distinct_peers  INTEGER NOT NULL,
    trusted_peers   INTEGER NOT NULL,
    computed_at     TEXT    NOT NULL,
    why             TEXT    NOT NULL,  -- JSON: the numbers behind the explanation
    PRIMARY KEY (community_id, scope, member_id)
) WITHOUT ROWID;
CREATE INDEX trust_scores_by_rank ON trust_scores (community_id, scope, rank);

CREATE TABLE trust_runs (
    community_id    INTEGER NOT NULL,
    scope           TEXT    NOT NULL,
    computed_at     TEXT    NOT NULL,
    ranked          INTEGER NOT NULL,
    PRIMARY KEY (community_id, scope)
) WITHOUT ROWID;

CREATE TABLE trust_overrides (
    community_id    INTEGER NOT NULL,
    member_id       INTEGER NOT NULL,
    mode            TEXT    NOT NULL CHECK (mode IN ('pin', 'exclude')),
    set_by          INTEGER NOT NULL,
    set_at          TEXT    NOT NULL,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;
