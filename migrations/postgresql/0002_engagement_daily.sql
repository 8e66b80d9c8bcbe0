-- Reason: the daily aggregates of ../0002_engagement_daily.sql, kept by PostgreSQL triggers that do
-- what SQLite's do: they fire only for rows actually inserted (a replay ignored by ON CONFLICT DO
-- NOTHING never counts twice), and `ON CONFLICT DO UPDATE SET n = n + 1` is atomic under concurrent
-- writers from several processes.

CREATE TABLE engagement_daily (
    community_id  BIGINT  NOT NULL,
    channel_id    BIGINT  NOT NULL,
    actor_id      BIGINT  NOT NULL,
    target_id     BIGINT  NOT NULL,
    day           BIGINT  NOT NULL,  -- days since 1970-01-01 UTC
    kind          TEXT    NOT NULL CHECK (kind IN ('reply', 'reaction', 'thread_reply', 'comment')),
    n             BIGINT  NOT NULL,
    PRIMARY KEY (community_id, channel_id, actor_id, target_id, day, kind)
);

CREATE TABLE activity_daily (
    community_id  BIGINT  NOT NULL,
    channel_id    BIGINT  NOT NULL,
    member_id     BIGINT  NOT NULL,
    day           BIGINT  NOT NULL,
    kind          TEXT    NOT NULL,
    n             BIGINT  NOT NULL,
    PRIMARY KEY (community_id, channel_id, member_id, day, kind)
);

-- Days since 1970-01-01 UTC of a stored timestamp (SQLite: CAST(julianday(t) - 2440587.5 AS INTEGER)).
CREATE FUNCTION microvoice_day(t TEXT) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM t::timestamptz) / 86400)::bigint $$;

CREATE FUNCTION events_feed_daily() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.target_id IS NOT NULL AND NEW.target_id <> NEW.actor_id
       AND NEW.kind IN ('reply', 'reaction', 'message', 'comment') THEN
        INSERT INTO engagement_daily AS d (community_id, channel_id, actor_id, target_id, day, kind, n)
        VALUES (NEW.community_id, NEW.channel_id, NEW.actor_id, NEW.target_id, microvoice_day(NEW.created_at),
                CASE NEW.kind WHEN 'message' THEN 'thread_reply' ELSE NEW.kind END, 1)
        ON CONFLICT (community_id, channel_id, actor_id, target_id, day, kind) DO UPDATE SET n = d.n + 1;
    END IF;
    -- A removed reaction takes back the engagement it added, on the day the reaction was counted.
    IF NEW.kind = 'unreaction' AND NEW.target_id IS NOT NULL AND NEW.target_id <> NEW.actor_id THEN
        UPDATE engagement_daily SET n = n - 1
         WHERE community_id = NEW.community_id AND channel_id = NEW.channel_id
           AND actor_id = NEW.actor_id AND target_id = NEW.target_id AND kind = 'reaction' AND n > 0
           AND day = (SELECT microvoice_day(created_at) FROM events
                       WHERE platform = NEW.platform AND kind = 'reaction'
                         AND source_id = NEW.source_id AND actor_id = NEW.actor_id);
    END IF;
    INSERT INTO activity_daily AS a (community_id, channel_id, member_id, day, kind, n)
    VALUES (NEW.community_id, NEW.channel_id, NEW.actor_id, microvoice_day(NEW.created_at), NEW.kind, 1)
    ON CONFLICT (community_id, channel_id, member_id, day, kind) DO UPDATE SET n = a.n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_feed_daily AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_feed_daily();
