-- Reason: engagement with a message that reached members by privilege rather than by choice (it
-- pinged @everyone or @here, or its own author pinned it) credits nobody, as a reply to a system
-- notice does not: the recorder keeps those messages' ids across restarts, since their reactions
-- come for days. Ids only: no author, no text.
CREATE TABLE broadcast_messages (
    platform      TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id  INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (platform, message_id)
);
CREATE INDEX broadcast_messages_by_time ON broadcast_messages (platform, created_at);
