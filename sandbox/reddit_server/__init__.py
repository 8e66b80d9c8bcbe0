"""A local Reddit: the API subset praw uses (OAuth password grant, `/api/v1/me`, subreddit comment and
submission listings with `before`/`after` paging, `/api/info`, submissions with their comments, submit,
comment, link flair, distinguish and sticky, moderator lists, private messages and the inbox), with
Reddit's rate-limit headers and injectable faults. Tests, the simulator and the demo point the real
praw at it through praw's own `oauth_url`, `reddit_url` and `short_url` settings."""

from sandbox.reddit_server.server import Call, Fault, RedditSandbox
from sandbox.reddit_server.state import Account, Message, RedditState, Subreddit, Thing

__all__ = ["Account", "Call", "Fault", "Message", "RedditSandbox", "RedditState", "Subreddit", "Thing"]
