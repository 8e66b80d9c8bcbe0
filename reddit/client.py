"""Building praw's client from Microvoice's settings: credentials, user agent, endpoints, timeout."""

from __future__ import annotations

import praw

from bot.config import Settings


def build_reddit(settings: Settings) -> praw.Reddit:
    """A praw client for the bot's script app. Endpoints other than reddit.com come from settings
    (praw's own `oauth_url`, `reddit_url` and `short_url`); update checks are off (no stray network)."""
    options: dict[str, object] = {}
    if settings.reddit_oauth_url:
        options.update(oauth_url=settings.reddit_oauth_url, reddit_url=settings.reddit_url)
    if settings.reddit_short_url:
        options["short_url"] = settings.reddit_short_url
    return praw.Reddit(
        client_id=settings.reddit_client_id,
        client_secret=settings.reddit_client_secret,
        username=settings.reddit_username,
        password=settings.reddit_password,
        user_agent=settings.reddit_user_agent,
        check_for_updates=False,
        check_for_async=False,  # praw runs in threads of its own, never on the event loop
        timeout=settings.reddit_timeout,
        **options,
    )
