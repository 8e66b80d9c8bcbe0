"""The Reddit adapter: the only package that imports praw. `RedditAdapter` streams bound subreddits
into the core's services from a thread of its own and answers the questions the core asks Reddit."""

from reddit.adapter import RedditAdapter, RedditUnavailable
from reddit.client import build_reddit
from reddit.platform import NotOnReddit, RedditPlatform

__all__ = ["NotOnReddit", "RedditAdapter", "RedditPlatform", "RedditUnavailable", "build_reddit"]
