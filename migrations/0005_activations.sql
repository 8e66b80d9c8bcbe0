-- Reason: brand activations (Q&A, giveaways, takeovers) as moderator-approved state machines with an
-- append-only transition log, plus what Q&A and takeovers keep while they run. Every state change is
-- one guarded UPDATE (WHERE id = ? AND state = ?), so a duplicate job or a double click never repeats it.

CREATE TABLE activations (
    id               INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL,
    brand_id         INTEGER NOT NULL REFERENCES brands (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('qa', 'giveaway', 'takeover')),
    state            TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (state IN ('draft', 'pending', 'scheduled', 'live', 'ended',
                                              'rejected', 'cancelled')),
    -- The material connection the disclosure names: paid partnership, gifted product, affiliate/code.
    connection       TEXT    NOT NULL DEFAULT 'paid' CHECK (connection IN ('paid', 'gifted', 'affiliate')),
    title            TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    channel_id       INTEGER NOT NULL,
    starts_at        TEXT    NOT NULL,
    ends_at          TEXT    NOT NULL CHECK (ends_at > starts_at),
    locale           TEXT    NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'ar', 'he')),
    config           TEXT    NOT NULL DEFAULT '{}',  -- JSON, kind-specific
    created_by       INTEGER NOT NULL,
    created_at       TEXT    NOT NULL,
    approved_by      INTEGER,
    approved_at      TEXT,
    reason           TEXT,                           -- why it was rejected or cancelled
    -- The bot's opening post and the thread hanging off it (Q&A answers), once live.
    message_id       INTEGER,
    thread_id        INTEGER,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX activations_by_state ON activations (state, starts_at);
CREATE INDEX activations_by_community ON activations (community_id, starts_at);

-- Append-only: one row per transition that happened (actor NULL = the scheduler).
CREATE TABLE activation_transitions (
    id             INTEGER PRIMARY KEY,
    activation_id  INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    from_state     TEXT,
    to_state       TEXT    NOT NULL,
    actor_id       INTEGER,
    reason         TEXT,
    at             TEXT    NOT NULL
);
CREATE INDEX activation_transitions_by_activation ON activation_transitions (activation_id, id);
CREATE TRIGGER activation_transitions_append_only BEFORE UPDATE ON activation_transitions
BEGIN
    SELECT RAISE(ABORT, 'activation_transitions is append-only');
END;

-- Q&A: questions members submitted through the modal (the text they chose to send to the brand).
CREATE TABLE qa_questions (
    id             INTEGER PRIMARY KEY,
    activation_id  INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    author_id      INTEGER NOT NULL,
    body           TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    created_at     TEXT    NOT NULL,
    message_id     INTEGER,                 -- the bot's post showing the question and its vote button
    hidden_at      TEXT,
    hidden_by      INTEGER,
    answered_at    TEXT,
    answered_by    INTEGER,
    answer_message_id INTEGER
);
CREATE INDEX qa_questions_by_activation ON qa_questions (activation_id, id);
CREATE INDEX qa_questions_by_author ON qa_questions (community_id, author_id);

-- One upvote per member and question; toggling deletes the row.
CREATE TABLE qa_votes (
    question_id    INTEGER NOT NULL REFERENCES qa_questions (id) ON DELETE CASCADE,
    community_id   INTEGER NOT NULL,
    member_id      INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (question_id, member_id)
) WITHOUT ROWID;
CREATE INDEX qa_votes_by_member ON qa_votes (community_id, member_id);

-- Takeover: what the channel looked like before the bot changed it, written before the change, so the
-- end restores exactly that (an overwrite that did not exist is deleted again, not left as neutral).
CREATE TABLE takeover_snapshots (
    activation_id     INTEGER PRIMARY KEY REFERENCES activations (id) ON DELETE CASCADE,
    community_id      INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,
    taker_id          INTEGER NOT NULL,
    had_overwrite     INTEGER NOT NULL CHECK (had_overwrite IN (0, 1)),
    overwrite_type    INTEGER,              -- 0 role, 1 member (Discord's overwrite type)
    overwrite_allow   TEXT,                 -- permission bit sets as decimal strings, as Discord sends them
    overwrite_deny    TEXT,
    topic             TEXT,                 -- the topic before the takeover (NULL = none)
    taken_at          TEXT    NOT NULL,
    restored_at       TEXT
);

-- Takeover posts made during the window and how each was disclosed (relay, command or attached reply).
CREATE TABLE takeover_posts (
    activation_id        INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id         INTEGER NOT NULL,
    source_message_id    INTEGER NOT NULL,  -- the taker's message (or the bot's post for /takeover post)
    author_id            INTEGER NOT NULL,
    mode                 TEXT    NOT NULL CHECK (mode IN ('relay', 'command', 'reply')),
    disclosed_message_id INTEGER,
    created_at           TEXT    NOT NULL,
    PRIMARY KEY (activation_id, source_message_id)
) WITHOUT ROWID;
