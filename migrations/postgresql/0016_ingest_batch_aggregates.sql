-- Reason: ../0016_ingest_batch_aggregates.sql replaces SQLite's per-row aggregate triggers by
-- statements run once per ingest batch over the rows it inserted, found as the ids above the largest
-- one before the batch. That range is the batch's rows only when one writer holds the database, as
-- SQLite's lock guarantees; on PostgreSQL other processes may commit rows with ids inside it. So here
-- the aggregates of 0002 stay with their PL/pgSQL triggers (exact under concurrent writers), and so
-- does `events_by_target` (the index those triggers' reaction retraction and erasure can use); the
-- report aggregates of 0014 are fed per batch as before (ReportQueries.feed_report_aggregates). Of
-- SQLite's file only what PostgreSQL lacks is added: `activity_daily_by_day` for "distinct members"
-- in `/microvoice status`, and `channel_cursors` (where the gap fill after a downtime starts reading
-- each Discord channel), kept by a trigger as 0002's aggregates are and filled from the ledger
-- (message ids only: a source id that is not a snowflake is skipped, where SQLite's CAST reads 0).

CREATE INDEX activity_daily_by_day ON activity_daily (community_id, day, member_id);

CREATE TABLE channel_cursors (
    platform         TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id     BIGINT  NOT NULL,
    channel_id       BIGINT  NOT NULL,
    last_message_id  BIGINT  NOT NULL,
    PRIMARY KEY (platform, community_id, channel_id)
);

CREATE FUNCTION events_advance_cursor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO channel_cursors AS c (platform, community_id, channel_id, last_message_id)
    VALUES (NEW.platform, NEW.community_id, NEW.channel_id, CAST(NEW.source_id AS BIGINT))
    ON CONFLICT (platform, community_id, channel_id) DO UPDATE
        SET last_message_id = GREATEST(c.last_message_id, excluded.last_message_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_advance_cursor AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.platform = 'discord' AND NEW.kind IN ('message', 'reply')
                       AND NEW.source_id ~ '^[0-9]{1,18}$')
    EXECUTE FUNCTION events_advance_cursor();

-- What is already in the ledger.
INSERT INTO channel_cursors (platform, community_id, channel_id, last_message_id)
SELECT platform, community_id, channel_id, max(CAST(source_id AS BIGINT))
  FROM events WHERE platform = 'discord' AND kind IN ('message', 'reply') AND source_id ~ '^[0-9]{1,18}$'
 GROUP BY 1, 2, 3;
