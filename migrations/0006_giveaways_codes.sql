-- Reason: giveaways (entries, the secret seed behind the published SHA-256 commitment, draws that happen
-- exactly once per round, winners and their claims) and unique discount codes attached to an activation
-- (the pool, one atomic claim per member, and the redemptions a brand reports back for conversions).

-- The seed is written in the same transaction as the activation and only read at the draw; the opening
-- post shows the commitment alone. revealed_at is set when the seed is published with the winners.
CREATE TABLE giveaway_secrets (
    activation_id  INTEGER PRIMARY KEY REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    seed           TEXT    NOT NULL CHECK (length(seed) = 64),
    commitment     TEXT    NOT NULL CHECK (length(commitment) = 64),
    revealed_at    TEXT
);

-- One entry per member and giveaway (leaving deletes the row; only while the giveaway is live).
CREATE TABLE giveaway_entries (
    activation_id  INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    member_id      INTEGER NOT NULL,
    entered_at     TEXT    NOT NULL,
    PRIMARY KEY (activation_id, member_id)
) WITHOUT ROWID;
CREATE INDEX giveaway_entries_by_member ON giveaway_entries (community_id, member_id);

-- Round 0 is the draw at the end; rounds 1.. are moderator rerolls. Each round is ONE row (winners and
-- the winners it replaces as JSON arrays), written by one INSERT: the primary key makes each round
-- happen once even if two jobs, a restart catch-up and a click race, and there is never half a draw.
-- (One statement matters: the bot shares one connection between concurrent interactions.)
CREATE TABLE giveaway_draws (
    activation_id    INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id     INTEGER NOT NULL,
    round            INTEGER NOT NULL CHECK (round >= 0),
    winners          TEXT    NOT NULL,               -- JSON array of member ids, in draw order
    replaced         TEXT    NOT NULL DEFAULT '[]',  -- JSON array: winners this reroll replaced
    entrants         TEXT    NOT NULL,               -- JSON: the sorted pool this round drew from
    entrants_sha256  TEXT    NOT NULL,
    drawn_by         INTEGER,                        -- NULL = the scheduler, else the moderator
    drawn_at         TEXT    NOT NULL,
    message_id       INTEGER,                        -- the announcement, once posted
    PRIMARY KEY (activation_id, round)
) WITHOUT ROWID;

-- A winner confirming their prize (rerolls only replace winners without a row here).
CREATE TABLE giveaway_claims (
    activation_id  INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    member_id      INTEGER NOT NULL,
    claimed_at     TEXT    NOT NULL,
    PRIMARY KEY (activation_id, member_id)
) WITHOUT ROWID;

-- A pool of unique discount codes attached to an activation (added by one INSERT ... SELECT, all or
-- nothing). A claim is one guarded UPDATE of the lowest unclaimed row; the partial unique index makes a
-- second code for the same member impossible.
CREATE TABLE activation_codes (
    id             INTEGER PRIMARY KEY,
    activation_id  INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    code           TEXT    NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    added_at       TEXT    NOT NULL,
    claimed_by     INTEGER,
    claimed_at     TEXT,
    UNIQUE (activation_id, code)
);
CREATE UNIQUE INDEX activation_codes_one_per_member
    ON activation_codes (activation_id, claimed_by) WHERE claimed_by IS NOT NULL;
CREATE INDEX activation_codes_unclaimed ON activation_codes (activation_id, id) WHERE claimed_by IS NULL;

-- Codes the brand reported as redeemed (from its shop), for conversion reports. Reporting a code
-- again keeps the first report.
CREATE TABLE code_redemptions (
    code_id        INTEGER PRIMARY KEY REFERENCES activation_codes (id) ON DELETE CASCADE,
    activation_id  INTEGER NOT NULL,
    community_id   INTEGER NOT NULL,
    redeemed_at    TEXT,                -- as the brand's CSV said, if it did
    reported_by    INTEGER NOT NULL,
    reported_at    TEXT    NOT NULL
);
CREATE INDEX code_redemptions_by_activation ON code_redemptions (activation_id);
