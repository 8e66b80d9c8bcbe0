-- Reason: tools moderators expect: an optional trusted-voice role per ranking scope (given after each
-- recompute, taken back with hysteresis, so the bot records whom it gave it to), an optional audit-log
-- channel that receives one line per privileged event, and community giveaways: a giveaway with no
-- brand behind it (brand_id NULL), with the moderator's statement that no brand provided the prize.
-- (PostgreSQL: the NOT NULL is dropped with ALTER TABLE; the triggers are PL/pgSQL functions.)

-- A community activation must be a giveaway, and an activation never gains or loses its brand afterwards.
ALTER TABLE activations ALTER COLUMN brand_id DROP NOT NULL;

CREATE FUNCTION microvoice_community_is_a_giveaway() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'only a giveaway can run without a brand' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER activations_community_is_a_giveaway BEFORE INSERT ON activations
    FOR EACH ROW WHEN (NEW.brand_id IS NULL AND NEW.kind <> 'giveaway')
    EXECUTE FUNCTION microvoice_community_is_a_giveaway();

CREATE FUNCTION microvoice_brand_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an activation cannot be attached to another brand, or a community giveaway to one'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER activations_brand_is_fixed BEFORE UPDATE OF brand_id ON activations
    FOR EACH ROW WHEN (OLD.brand_id IS DISTINCT FROM NEW.brand_id)
    EXECUTE FUNCTION microvoice_brand_is_fixed();

-- The moderator's statement that no brand provided a community giveaway's prize (shown on its post).
CREATE TABLE community_giveaways (
    activation_id  BIGINT PRIMARY KEY REFERENCES activations (id) ON DELETE CASCADE,
    community_id   BIGINT NOT NULL,
    stated_by      BIGINT NOT NULL,
    stated_at      TEXT   NOT NULL
);

ALTER TABLE guild_settings ADD COLUMN audit_channel_id BIGINT;

-- One rule per scope ('all', 'channel:<id>', 'category:<id>'): the role goes to the top `top_n` of the
-- stored ranking, or to everyone at or above `min_percent` of the top score; never both.
CREATE TABLE voice_roles (
    community_id  BIGINT NOT NULL,
    scope         TEXT   NOT NULL,
    role_id       BIGINT NOT NULL,
    top_n         BIGINT CHECK (top_n BETWEEN 1 AND 100),
    min_percent   BIGINT CHECK (min_percent BETWEEN 1 AND 100),
    set_by        BIGINT NOT NULL,
    set_at        TEXT   NOT NULL,
    PRIMARY KEY (community_id, scope),
    CHECK ((top_n IS NULL) <> (min_percent IS NULL))
);

-- Who holds a trusted-voice role because the bot gave it (the bot only ever takes back what it gave).
CREATE TABLE voice_role_holders (
    community_id  BIGINT NOT NULL,
    scope         TEXT   NOT NULL,
    member_id     BIGINT NOT NULL,
    role_id       BIGINT NOT NULL,
    granted_at    TEXT   NOT NULL,
    PRIMARY KEY (community_id, scope, member_id)
);
