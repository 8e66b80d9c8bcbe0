-- Reason: reports (docs/reports.md) must stay fast at millions of events and survive the raw-event
-- retention purge. Two aggregates, kept up to date from the ingest writer's batch (Store.record and
-- Store.record_bulk call ReportQueries.feed_report_aggregates on the rows the batch inserted, so an
-- INSERT OR IGNORE replay never double counts):
--   report_hourly       counts per hour and kind (activation baselines); no member ids, kept for good.
--   report_channel_days counts per day, channel and kind (totals, topics); no member ids, kept for good.
--   report_member_days  which member was active in which channel on which day; member ids, so the
--                       retention purge deletes these rows together with the raw events, and an
--                       erasure replaces the id by the erasure's pseudonym.
-- report_digests records the weekly digests claimed, so one is posted once per week across restarts.

CREATE TABLE report_hourly (
    community_id  INTEGER NOT NULL,
    hour          INTEGER NOT NULL,  -- hours since 1970-01-01 UTC
    kind          TEXT    NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (community_id, hour, kind)
) WITHOUT ROWID;

CREATE TABLE report_channel_days (
    community_id  INTEGER NOT NULL,
    day           INTEGER NOT NULL,  -- days since 1970-01-01 UTC
    channel_id    INTEGER NOT NULL,  -- as recorded (threads are their own channels)
    kind          TEXT    NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (community_id, day, channel_id, kind)
) WITHOUT ROWID;

CREATE TABLE report_member_days (
    community_id  INTEGER NOT NULL,
    day           INTEGER NOT NULL,  -- days since 1970-01-01 UTC
    channel_id    INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    n             INTEGER NOT NULL,  -- activity events (not joins, not removed reactions)
    PRIMARY KEY (community_id, day, channel_id, member_id)
) WITHOUT ROWID;

CREATE TABLE report_digests (
    community_id  INTEGER NOT NULL,
    week          INTEGER NOT NULL,  -- Monday-based weeks since 1970-01-01 UTC: (day + 3) / 7
    claimed_at    TEXT    NOT NULL,
    posted_at     TEXT,
    PRIMARY KEY (community_id, week)
) WITHOUT ROWID;

-- What is already in the ledger.
INSERT INTO report_hourly (community_id, hour, kind, n)
SELECT community_id, CAST(strftime('%s', created_at) AS INTEGER) / 3600, kind, count(*)
  FROM events WHERE true
 GROUP BY 1, 2, 3;

INSERT INTO report_channel_days (community_id, day, channel_id, kind, n)
SELECT community_id, CAST(strftime('%s', created_at) AS INTEGER) / 86400, channel_id, kind, count(*)
  FROM events WHERE true
 GROUP BY 1, 2, 3, 4;

INSERT INTO report_member_days (community_id, day, channel_id, member_id, n)
SELECT community_id, CAST(strftime('%s', created_at) AS INTEGER) / 86400, channel_id, actor_id, count(*)
  FROM events WHERE kind NOT IN ('join', 'unreaction')
 GROUP BY 1, 2, 3, 4;
