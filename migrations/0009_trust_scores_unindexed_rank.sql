-- Reason: every recompute rewrites the stored ranking (tens of thousands of rows), and keeping a
-- second b-tree ordered by rank makes that write half again as slow. A page of `/voices top` reads
-- at most a few hundred rows of one scope through the primary key and sorts them, which costs
-- well under a millisecond.

DROP INDEX trust_scores_by_rank;
