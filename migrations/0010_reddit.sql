-- Reason: subreddits as communities. A subreddit is bound to one Microvoice community by its
-- moderators; its comment and submission streams resume after a restart from the newest fullname
-- written to the ledger; members may link their Reddit account to their Discord identity (opt-in,
-- proven by a one-time code sent by private message) to get one combined standing.

CREATE TABLE reddit_subreddits (
    -- The subreddit's ledger id (its t5_ id mapped as in bot/subreddits/ids.py): the category
    -- channel its events are filed under.
    subreddit_id   INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL,
    name           TEXT    NOT NULL CHECK (length(name) BETWEEN 2 AND 21),
    added_by       INTEGER NOT NULL,
    added_at       TEXT    NOT NULL,
    -- Whether the bot's Reddit account moderates it (checked when bound and before posting):
    -- sticky and distinguish need it; otherwise the moderators are told once.
    bot_moderates  INTEGER NOT NULL DEFAULT 0 CHECK (bot_moderates IN (0, 1)),
    told_mods_at   TEXT,
    -- Link flair template used for sponsored posts, when the subreddit has one.
    sponsored_flair_id  TEXT
);
CREATE UNIQUE INDEX reddit_subreddits_by_name ON reddit_subreddits (lower(name));
CREATE INDEX reddit_subreddits_by_community ON reddit_subreddits (community_id);

-- Newest fullname of each stream whose events are in the ledger: where the stream resumes.
CREATE TABLE reddit_cursors (
    subreddit_id  INTEGER NOT NULL,
    stream        TEXT    NOT NULL CHECK (stream IN ('comments', 'submissions')),
    fullname      TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (subreddit_id, stream)
) WITHOUT ROWID;

-- A member's Discord identity (member_id) linked to a Reddit account (reddit_id, its ledger id).
-- One Reddit account links to at most one member per community.
CREATE TABLE reddit_links (
    community_id  INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    reddit_id     INTEGER NOT NULL,
    reddit_name   TEXT    NOT NULL,
    linked_at     TEXT    NOT NULL,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX reddit_links_by_account ON reddit_links (community_id, reddit_id);

-- A pending link: the code's SHA-256 (never the code), the Reddit name it must come from, expiry.
CREATE TABLE reddit_link_codes (
    community_id  INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    reddit_name   TEXT    NOT NULL,
    code_sha256   TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;
