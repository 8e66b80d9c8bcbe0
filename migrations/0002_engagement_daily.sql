-- Reason: trust ranking reads who-engaged-with-whom per day, not the raw ledger. Keeping these
-- aggregates up to date as events are inserted (triggers fire only for rows actually inserted, so
-- INSERT OR IGNORE replays never double count) makes a recompute read a small table, and lets the
-- raw ledger expire after the retention window while the aggregates stay.

CREATE TABLE engagement_daily (
    community_id  INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    actor_id      INTEGER NOT NULL,
    target_id     INTEGER NOT NULL,
    day           INTEGER NOT NULL,  -- days since 1970-01-01 UTC
    kind          TEXT    NOT NULL CHECK (kind IN ('reply', 'reaction', 'thread_reply', 'comment')),
    n             INTEGER NOT NULL,
    PRIMARY KEY (community_id, channel_id, actor_id, target_id, day, kind)
) WITHOUT ROWID;

-- Per member, channel and day: what each member did (any kind), for activity baselines and reports.
CREATE TABLE activity_daily (
    community_id  INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (community_id, channel_id, member_id, day, kind)
) WITHOUT ROWID;

CREATE TRIGGER events_feed_engagement AFTER INSERT ON events
WHEN NEW.target_id IS NOT NULL AND NEW.target_id <> NEW.actor_id
     AND NEW.kind IN ('reply', 'reaction', 'message', 'comment')
BEGIN
    INSERT INTO engagement_daily (community_id, channel_id, actor_id, target_id, day, kind, n)
    VALUES (NEW.community_id, NEW.channel_id, NEW.actor_id, NEW.target_id,
            CAST(julianday(NEW.created_at) - 2440587.5 AS INTEGER),
            CASE NEW.kind WHEN 'message' THEN 'thread_reply' ELSE NEW.kind END, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- A removed reaction takes back the engagement it added, on the day the reaction was counted.
CREATE TRIGGER events_retract_reaction AFTER INSERT ON events
WHEN NEW.kind = 'unreaction' AND NEW.target_id IS NOT NULL AND NEW.target_id <> NEW.actor_id
BEGIN
    UPDATE engagement_daily SET n = n - 1
     WHERE community_id = NEW.community_id AND channel_id = NEW.channel_id
       AND actor_id = NEW.actor_id AND target_id = NEW.target_id AND kind = 'reaction' AND n > 0
       AND day = (SELECT CAST(julianday(created_at) - 2440587.5 AS INTEGER) FROM events
                   WHERE platform = NEW.platform AND kind = 'reaction'
                     AND source_id = NEW.source_id AND actor_id = NEW.actor_id);
END;

CREATE TRIGGER events_feed_activity AFTER INSERT ON events
BEGIN
    INSERT INTO activity_daily (community_id, channel_id, member_id, day, kind, n)
    VALUES (NEW.community_id, NEW.channel_id, NEW.actor_id,
            CAST(julianday(NEW.created_at) - 2440587.5 AS INTEGER), NEW.kind, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
