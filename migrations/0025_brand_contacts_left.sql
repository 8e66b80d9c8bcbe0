-- Reason: a brand contact who leaves the server stops being the brand's contact (and manager) for good:
-- their brand_contacts row is deleted, so rejoining restores nothing, and this table keeps when they
-- left so moderators see why the brand has fewer contacts (a moderator adds them again, or not).
CREATE TABLE brand_contacts_left (
    brand_id      INTEGER NOT NULL REFERENCES brands (id),
    community_id  INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    left_at       TEXT    NOT NULL,
    PRIMARY KEY (brand_id, member_id)
);
CREATE INDEX brand_contacts_left_by_member ON brand_contacts_left (community_id, member_id);
