-- Reason: a member who is not listed is told what it takes to be listed. The confidence bar is
-- relative to the community's established voices, so the fewest distinct engagers it asked of a
-- listed member is kept with each stored run (NULL for runs stored before: the message then names
-- the fixed minimum).
ALTER TABLE trust_runs ADD COLUMN min_peers INTEGER;
