-- Reason: reports (docs/reports.md) must stay fast at millions of events and survive the raw-event
-- retention purge. Two aggregates, kept up to date from the ingest writer's batch (Store.record and
-- Store.record_bulk call ReportQueries.feed_report_aggregates on the rows the batch inserted, so a
-- replay ignored by ON CONFLICT DO NOTHING never double counts):
--   report_hourly       counts per hour and kind (activation baselines); no member ids, kept for good.
--   report_channel_days counts per day, channel and kind (totals, topics); no member ids, kept for good.
--   report_member_days  which member was active in which channel on which day; member ids, so the
--                       retention purge deletes these rows together with the raw events, and an
--                       erasure replaces the id by the erasure's pseudonym.
-- report_digests records the weekly digests claimed, so one is posted once per week across restarts.
-- (PostgreSQL: seconds since the epoch with extract(epoch ...), truncated as SQLite's strftime('%s').)

CREATE TABLE report_hourly (
    community_id  BIGINT NOT NULL,
    hour          BIGINT NOT NULL,  -- hours since 1970-01-01 UTC
    kind          TEXT   NOT NULL,
    n             BIGINT NOT NULL,
    PRIMARY KEY (community_id, hour, kind)
);

CREATE TABLE report_channel_days (
    community_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,  -- days since 1970-01-01 UTC
    channel_id    BIGINT NOT NULL,  -- as recorded (threads are their own channels)
    kind          TEXT   NOT NULL,
    n             BIGINT NOT NULL,
    PRIMARY KEY (community_id, day, channel_id, kind)
);

CREATE TABLE report_member_days (
    community_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,  -- days since 1970-01-01 UTC
    channel_id    BIGINT NOT NULL,
    member_id     BIGINT NOT NULL,
    n             BIGINT NOT NULL,  -- activity events (not joins, not removed reactions)
    PRIMARY KEY (community_id, day, channel_id, member_id)
);

CREATE TABLE report_digests (
    community_id  BIGINT NOT NULL,
    week          BIGINT NOT NULL,  -- Monday-based weeks since 1970-01-01 UTC: (day + 3) / 7
    claimed_at    TEXT   NOT NULL,
    posted_at     TEXT,
    PRIMARY KEY (community_id, week)
);

-- What is already in the ledger.
INSERT INTO report_hourly (community_id, hour, kind, n)
SELECT community_id, CAST(floor(extract(epoch FROM CAST(created_at AS timestamptz))) AS BIGINT) / 3600,
       kind, count(*)
  FROM events
 GROUP BY 1, 2, 3;

INSERT INTO report_channel_days (community_id, day, channel_id, kind, n)
SELECT community_id, CAST(floor(extract(epoch FROM CAST(created_at AS timestamptz))) AS BIGINT) / 86400,
       channel_id, kind, count(*)
  FROM events
 GROUP BY 1, 2, 3, 4;

INSERT INTO report_member_days (community_id, day, channel_id, member_id, n)
SELECT community_id, CAST(floor(extract(epoch FROM CAST(created_at AS timestamptz))) AS BIGINT) / 86400,
       channel_id, actor_id, count(*)
  FROM events WHERE kind NOT IN ('join', 'unreaction')
 GROUP BY 1, 2, 3, 4;
