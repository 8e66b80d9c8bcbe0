-- Reason: reading a subreddit back reads its older posts' comment trees a few a round, which takes a
-- quarter of an hour within Reddit's request budget for a thousand posts: the posts still to read
-- (their fullnames, a JSON array; NULL when none) are kept, so a restart meanwhile goes on where the
-- reading stopped instead of leaving them unread.
ALTER TABLE reddit_subreddits ADD COLUMN read_back_pending TEXT;
