-- Reason: a subreddit followed for the first time is read back as far as Reddit's listings go (its
-- newest thousand comments and posts, the older posts with their comment trees), so the records of
-- its accounts begin before it was bound: at the earliest time an item read back was posted. The ranking counts an account
-- first seen in the records' first week as present before (docs/trust.md, step 7).
ALTER TABLE reddit_subreddits ADD COLUMN records_from TEXT;
