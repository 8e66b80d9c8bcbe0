-- Reason: `/voices member` tells a moderator what the ranking saw in the engagement a member who is
-- not listed received, where it names a pattern (accounts that became active together, accounts
-- devoted to the member, a group engaging each other, ...), as it does for a listed member. Kept per
-- community with the ranking, replaced with it at each recompute; one row per member with a pattern
-- the explanation would name, for the whole community's listing.
CREATE TABLE trust_patterns (
    community_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    share REAL NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (community_id, member_id)
) WITHOUT ROWID;
