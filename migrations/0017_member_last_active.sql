-- Reason: `/microvoice status` counts the members active in the last seven days. Counted as distinct
-- members over a week of `activity_daily` rows it took 270 ms at 5M events / 50,000 members (290,000
-- rows read). Each member's last active day, kept per ledger batch like the other aggregates, answers
-- it as one index range count.

CREATE TABLE member_last_active (
    community_id  INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    day           INTEGER NOT NULL,  -- UTC days since 1970-01-01 of the member's newest event
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;

CREATE INDEX member_last_active_by_day ON member_last_active (community_id, day);

-- What is already in the ledger.
INSERT INTO member_last_active (community_id, member_id, day)
SELECT community_id, member_id, max(day) FROM activity_daily GROUP BY community_id, member_id;
