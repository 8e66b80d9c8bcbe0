-- Reason: ../0017_member_last_active.sql. The same table without SQLite's WITHOUT ROWID; it is fed per
-- batch like the report aggregates (ReportQueries.feed_report_aggregates).

CREATE TABLE member_last_active (
    community_id  BIGINT  NOT NULL,
    member_id     BIGINT  NOT NULL,
    day           BIGINT  NOT NULL,
    PRIMARY KEY (community_id, member_id)
);

CREATE INDEX member_last_active_by_day ON member_last_active (community_id, day);

INSERT INTO member_last_active (community_id, member_id, day)
SELECT community_id, member_id, max(day) FROM activity_daily GROUP BY community_id, member_id;
