"""Subreddits as communities: Reddit ids in the ledger (`ids`), streamed items as ledger rows
(`items`), and the service that binds subreddits and records their engagement (`service`).
Platform-free: the praw adapter lives in the top-level `reddit` package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import lazy_names
from bot.subreddits.ids import REDDIT_BIT, account_fullname, is_reddit_id, ledger_id, topic_id

if TYPE_CHECKING:
    from bot.subreddits.items import RedditItem, Stream, to_ledger
    from bot.subreddits.service import (
        RecordingDeferred,
        RedditDirectory,
        SubredditInfo,
        SubredditService,
        subreddit_name,
    )

#: Where the other names live: `items` and `service` load when one of their names is first used, so a
#: bot without Reddit credentials, which only ever needs `ids` (telling Reddit ids from Discord ones),
#: does not hold them.
_HOMES = {
    "items": ("RedditItem", "Stream", "to_ledger"),
    "service": (
        "RecordingDeferred",
        "RedditDirectory",
        "SubredditInfo",
        "SubredditService",
        "subreddit_name",
    ),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


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
