-- Reason: a takeover whose restore was refused for good leaves the taker's overwrite and the disclosed
-- topic in place; a later takeover of the same taker and channel starts from the earlier one's stored
-- copy of the channel (the true original) and takes over putting it back. `handed_to` names that later
-- takeover, so the earlier one never restores (or discloses for) the channel again meanwhile.
ALTER TABLE takeover_snapshots ADD COLUMN handed_to INTEGER;
