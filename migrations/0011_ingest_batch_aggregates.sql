-- Reason: the ingest writer must keep up with a busy gateway, and `/microvoice status` must answer at
-- once on years of history. Measured with 2M events already stored, 500-event batches: the per-row
-- aggregate triggers of 0002 and three secondary indexes wrote 25.7k events/s; the same aggregates
-- computed once per batch (a GROUP BY over the rows the batch inserted, found by rowid) and without
-- `events_by_target` write 54k/s. So:
--   * the triggers go; Store.record / record_bulk / the ingest writer maintain `engagement_daily`,
--     `activity_daily`, `channel_daily` and `channel_cursors` in the batch's own transaction, from the
--     rows that batch inserted (INSERT OR IGNORE: a replay inserts nothing and counts nothing);
--   * `events_by_target` goes: only erasure and export ask for a member's received events, both rare
--     and member-initiated; they scan the community's rows instead. Kept, each for its query:
--       events_by_community_time  the retention purge (community_id = ? AND created_at < ?)
--       events_by_actor           giveaway eligibility (events by a member), erasure and export
--       the natural key           INSERT OR IGNORE, reply-target resolution, reaction retraction
--   * `channel_daily` (no member ids) answers "events by kind" and "busiest channels" of the last
--     days from a few hundred rows; `activity_daily_by_day` answers "distinct members" over days.
--   * `channel_cursors` holds the newest message recorded per channel: where the gap fill after a
--     downtime starts reading each channel's history.

DROP TRIGGER events_feed_engagement;
DROP TRIGGER events_retract_reaction;
DROP TRIGGER events_feed_activity;
DROP INDEX events_by_target;

CREATE TABLE channel_daily (
    community_id  INTEGER NOT NULL,
    day           INTEGER NOT NULL,  -- days since 1970-01-01 UTC
    channel_id    INTEGER NOT NULL,  -- as recorded (threads are their own channels; 0 for joins)
    kind          TEXT    NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (community_id, day, channel_id, kind)
) WITHOUT ROWID;

CREATE INDEX activity_daily_by_day ON activity_daily (community_id, day, member_id);

CREATE TABLE channel_cursors (
    platform         TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id     INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    last_message_id  INTEGER NOT NULL,
    PRIMARY KEY (platform, community_id, channel_id)
) WITHOUT ROWID;

-- What is already in the ledger.
INSERT INTO channel_daily (community_id, day, channel_id, kind, n)
SELECT community_id, CAST(julianday(created_at) - 2440587.5 AS INTEGER), channel_id, kind, count(*)
  FROM events WHERE true
 GROUP BY 1, 2, 3, 4;

INSERT INTO channel_cursors (platform, community_id, channel_id, last_message_id)
SELECT platform, community_id, channel_id, max(CAST(source_id AS INTEGER))
  FROM events WHERE platform = 'discord' AND kind IN ('message', 'reply')
 GROUP BY 1, 2, 3;
