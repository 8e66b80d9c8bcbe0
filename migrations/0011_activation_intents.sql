-- Reason: every platform action an activation depends on (its opening post; a takeover's overwrite,
-- topic and their restore; the results or closing post) is written down before it is tried and marked
-- done after, so a failure or a stop in the middle is retried and caught up at start-up instead of
-- being lost. An activation is live for members only once its opening post exists (`opened_at`).

CREATE TABLE activation_intents (
    id              INTEGER PRIMARY KEY,
    activation_id   INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    community_id    INTEGER NOT NULL,
    -- 'open': what going live takes; 'close': what ending or cancelling a live activation takes.
    action          TEXT    NOT NULL CHECK (action IN ('open', 'close')),
    -- pending: not done yet (retried); done; failed: a permanent refusal, moderators were told;
    -- dropped: an opening the activation ended before it could finish.
    state           TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'done', 'failed', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- JSON object: each finished step's result (e.g. the id of the message it posted), so a retry
    -- never repeats a step that is done.
    steps           TEXT    NOT NULL DEFAULT '{}',
    last_error      TEXT,                    -- the platform's own error, never member content
    next_attempt_at TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    done_at         TEXT,
    UNIQUE (activation_id, action)
);
CREATE INDEX activation_intents_pending ON activation_intents (state, activation_id);

ALTER TABLE activations ADD COLUMN opened_at TEXT;

-- Activations that went live before intents existed had their opening post made then.
UPDATE activations
   SET opened_at = (SELECT min(t.at) FROM activation_transitions AS t
                     WHERE t.activation_id = activations.id AND t.to_state = 'live')
 WHERE EXISTS (SELECT 1 FROM activation_transitions AS t
                WHERE t.activation_id = activations.id AND t.to_state = 'live');
