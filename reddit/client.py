"""Building praw's client from Microvoice's settings: credentials, user agent, endpoints, timeout."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import praw
from prawcore.sessions import RetryStrategy

from bot.config import Settings

log = logging.getLogger(__name__)


#: Requests that make something new each time they are sent: a post, a comment, a private message.
#: (Edits, moderation and marking messages read come out the same when sent twice.)
MAKES_NEW = ("/api/submit", "/api/comment", "/api/compose")


class _Once(RetryStrategy):
    """A request made once: prawcore retries a request on a 5xx or a timeout, but a post, a comment or
    a message that Reddit made before the answer was lost would be made twice. The step that asked
    for it is retried instead, and first looks for what an interrupted attempt made."""

    def _sleep_seconds(self) -> float | None:
        return None

    def consume_available_retry(self) -> RetryStrategy:
        return self

    def should_retry_on_failure(self) -> bool:
        return False


def _prepare_session(session: Any, timeout: float) -> None:
    """Send the requests of a prawcore session that make something new (`MAKES_NEW`) once (`_Once`),
    and every request with `timeout`: praw reads its `timeout` option but hands it to nobody, and
    prawcore's session sends its own default (16 s) with each request."""
    request = getattr(session, "_request_with_retries", None)
    if request is None:  # another prawcore: its retries are left as they are
        log.warning("prawcore without _request_with_retries: posts to Reddit may be retried")
        return

    def once(*, method: str, url: str, retry_strategy_state: Any = None, **kwargs: Any) -> Any:
        path = urlsplit(url).path.rstrip("/")
        if method.upper() == "POST" and path.endswith(MAKES_NEW) and retry_strategy_state is None:
            retry_strategy_state = _Once()
        kwargs["timeout"] = timeout
        return request(method=method, url=url, retry_strategy_state=retry_strategy_state, **kwargs)

    session._request_with_retries = once


def build_reddit(settings: Settings) -> praw.Reddit:
    """A praw client for the bot's script app. Endpoints other than reddit.com come from settings
    (praw's own `oauth_url`, `reddit_url` and `short_url`); update checks are off (no stray network).
    Posts, comments and messages are sent once (`_Once`); everything else keeps prawcore's retries.
    Every request, the sign-in's too, waits at most `reddit_timeout` seconds for Reddit's answer."""
    options: dict[str, object] = {}
    if settings.reddit_oauth_url:
        options.update(oauth_url=settings.reddit_oauth_url, reddit_url=settings.reddit_url)
    if settings.reddit_short_url:
        options["short_url"] = settings.reddit_short_url
    reddit = praw.Reddit(
        client_id=settings.reddit_client_id,
        client_secret=settings.reddit_client_secret,
        username=settings.reddit_username,
        password=settings.reddit_password,
        user_agent=settings.reddit_user_agent,
        check_for_updates=False,
        check_for_async=False,  # praw runs in threads of its own, never on the event loop
        timeout=settings.reddit_timeout,
        # The sign-in (the token request) goes through the requestor alone, with the requestor's timeout.
        requestor_kwargs={"timeout": settings.reddit_timeout},
        **options,
    )
    for name in ("_authorized_core", "_read_only_core"):
        session = getattr(reddit, name, None)
        if session is not None:
            _prepare_session(session, settings.reddit_timeout)
    return reddit
