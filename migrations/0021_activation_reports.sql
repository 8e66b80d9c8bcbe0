-- Reason: an activation's report must survive a failed post or a stop right after the end: it is
-- claimed before it is posted and marked once it is, and one never posted is tried again by the
-- hourly report job (a claim left by a stopped process is taken over after 15 minutes). Activations
-- that ended before this migration are taken as reported.
CREATE TABLE activation_reports (
    activation_id  INTEGER PRIMARY KEY REFERENCES activations (id),
    community_id   INTEGER NOT NULL,
    claimed_at     TEXT    NOT NULL,
    posted_at      TEXT
);
INSERT INTO activation_reports (activation_id, community_id, claimed_at, posted_at)
SELECT id, community_id, updated_at, updated_at FROM activations WHERE state = 'ended';
