-- Reason: the ingest writer must keep up with a busy gateway, and `/microvoice status` must answer at
-- once on years of history. Measured with 2M events already stored, 500-event batches: the per-row
-- aggregate triggers of 0002 and three secondary indexes wrote 25.7k events/s; the same aggregates
-- computed once per batch (a GROUP BY over the rows the batch inserted, found by rowid) and without
-- `events_by_target` write 54k/s. So:
--   * the triggers of 0002 go: every ledger batch (Store.record, record_bulk, the ingest writer's own
--     connection) maintains `engagement_daily` and `activity_daily`, the report aggregates of 0014
--     (already fed per batch) and `channel_cursors` in its own transaction, from the rows it inserted
--     (INSERT OR IGNORE: a replay inserts nothing and counts nothing); bot/store/ledger.py AFTER_INSERT.
--   * `events_by_target` goes: only erasure and export ask for a member's received events, both rare
--     and member-initiated; they scan the community's rows instead. Kept, each for its query:
--       events_by_community_time  the retention purge (community_id = ? AND created_at < ?)
--       events_by_actor           giveaway eligibility (events by a member), erasure and export
--       the natural key           INSERT OR IGNORE, reply-target resolution, reaction retraction
--   * `/microvoice status` reads "events by kind" and "busiest channels" of the last days from 0014's
--     `report_channel_days` (no member ids, a few hundred rows); `activity_daily_by_day` answers
--     "distinct members" over days.
--   * `channel_cursors` holds the newest Discord message recorded per channel: where the gap fill after
--     a downtime starts reading each channel's history (Reddit streams keep their own cursors, 0010).

DROP TRIGGER events_feed_engagement;
DROP TRIGGER events_retract_reaction;
DROP TRIGGER events_feed_activity;
DROP INDEX events_by_target;

CREATE INDEX activity_daily_by_day ON activity_daily (community_id, day, member_id);

CREATE TABLE channel_cursors (
    platform         TEXT    NOT NULL CHECK (platform IN ('discord', 'reddit')),
    community_id     INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    last_message_id  INTEGER NOT NULL,
    PRIMARY KEY (platform, community_id, channel_id)
) WITHOUT ROWID;

-- What is already in the ledger.
INSERT INTO channel_cursors (platform, community_id, channel_id, last_message_id)
SELECT platform, community_id, channel_id, max(CAST(source_id AS INTEGER))
  FROM events WHERE platform = 'discord' AND kind IN ('message', 'reply')
 GROUP BY 1, 2, 3;
