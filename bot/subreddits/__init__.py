"""Subreddits as communities: Reddit ids in the ledger (`ids`), streamed items as ledger rows
(`items`), and the service that binds subreddits and records their engagement (`service`).
Platform-free: the praw adapter lives in the top-level `reddit` package."""

from bot.subreddits.ids import REDDIT_BIT, account_fullname, is_reddit_id, ledger_id, topic_id
from bot.subreddits.items import RedditItem, Stream, to_ledger
from bot.subreddits.service import (
    RecordingDeferred,
    RedditDirectory,
    SubredditInfo,
    SubredditService,
    subreddit_name,
)

__all__ = [
    "REDDIT_BIT",
    "RecordingDeferred",
    "RedditDirectory",
    "RedditItem",
    "Stream",
    "SubredditInfo",
    "SubredditService",
    "account_fullname",
    "is_reddit_id",
    "ledger_id",
    "subreddit_name",
    "to_ledger",
    "topic_id",
]
