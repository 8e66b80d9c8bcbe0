-- Reason: brand names are the same name when they differ only in case (the Unicode way: "Straße" and
-- "STRASSE", "Émile" and "émile"), in compatibility forms (full-width letters), in invisible characters
-- or direction marks, or in Greek and Cyrillic letters that look like Latin ones. SQLite's lower() folds
-- ASCII only, so the key is computed by the bot (bot.partners.brands.name_key) and stored with the name;
-- brands stored before this migration get theirs the first time the bot looks brands up by name.
ALTER TABLE brands ADD COLUMN name_key TEXT;
DROP INDEX brands_live_name;
CREATE UNIQUE INDEX brands_live_name_key ON brands (community_id, name_key) WHERE status <> 'removed';
