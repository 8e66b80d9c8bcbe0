"""How the adapter treats each of praw's and prawcore's errors: retry later, skip one subreddit for a
while, or stop the Reddit side (the bot's credentials were refused). An error from the database is
never a reason to stop: it is retried later like a failed request."""

from __future__ import annotations

import sqlite3
import sys
from typing import Literal

import praw.exceptions
import prawcore

from bot.store import store_unavailable
from bot.subreddits import RecordingDeferred

Verdict = Literal["transient", "subreddit", "credentials", "bug"]


def classify(error: BaseException) -> Verdict:
    """transient: 5xx, 429, timeouts, connection errors (prawcore already retried twice; back off and
    try again), and a database that could not take a query now (`RecordingDeferred`,
    `bot.store.store_unavailable`: the round's items, the inbox's links, the plan). subreddit: that
    subreddit cannot be read (private, banned, gone). credentials: Reddit refused the app or the
    account (no retry can fix it): the token endpoint refused them, or the token lacks a scope. A
    token an API call refuses is transient: prawcore has already signed in again once, and the
    credentials were taken then (were they not, the token endpoint would have said so).

    Any other error the database raised (`from_the_store`) is transient too: the Reddit side backs off
    and tries again, however long the database takes to come back, instead of stopping until the bot
    restarts."""
    if isinstance(error, RecordingDeferred) or store_unavailable(error) or from_the_store(error):
        return "transient"
    if isinstance(error, prawcore.OAuthException):
        return "credentials"
    if isinstance(error, prawcore.ResponseException):
        status = error.response.status_code
        url = str(getattr(error.response, "url", ""))
        if status == 401 and "access_token" in url:
            return "credentials"  # the token endpoint refused the app's id or secret
        if isinstance(error, prawcore.InsufficientScope):
            return "credentials"
        if isinstance(error, prawcore.InvalidToken):
            return "transient"
        if (
            isinstance(error, prawcore.ServerError | prawcore.TooManyRequests)
            or status >= 500
            or status in (408, 429)
        ):
            return "transient"
        if isinstance(
            error,
            prawcore.Forbidden | prawcore.NotFound | prawcore.Redirect | prawcore.UnavailableForLegalReasons,
        ):
            return "subreddit"
        return "transient" if isinstance(error, prawcore.BadJSON) else "subreddit"
    if isinstance(error, prawcore.RequestException):
        return "transient"
    if isinstance(error, praw.exceptions.RedditAPIException):
        return "subreddit"
    return "bug"


#: Why a subreddit cannot be read, as Reddit's refusal names it (`reason` in its JSON body), and as
#: `unreadable_reason` reports it otherwise: "gone" (404 or a redirect to the search: no such
#: subreddit), "forbidden" (a 403 that names no reason), "refused" (any other 4xx: the request itself
#: was refused, which says nothing about the subreddit or the bot's account).
SUBREDDIT_REASONS = frozenset({"private", "banned", "quarantined", "gated", "gone", "forbidden", "refused"})
#: The reasons that name the whole subreddit, whichever of its pages was asked for: a post's page
#: refused for one of them says nothing about that post.
SUBREDDIT_WIDE = frozenset({"private", "banned", "quarantined", "gated"})


def unreadable_reason(error: BaseException) -> str:
    """Why Reddit refused to show a subreddit: the `reason` its 403 or 404 names ("private",
    "banned", "quarantined", "gated"), else "gone" for a 404 or a redirect, "refused" for an answer
    that is no refusal of the subreddit (another 4xx: 400, 405, 409, 413, 414, 415, 422 …) and
    "forbidden" for any other refusal."""
    if isinstance(error, prawcore.ResponseException):
        try:
            named = error.response.json().get("reason")
        except Exception:  # a body that is not JSON names nothing
            named = None
        if isinstance(named, str) and named in SUBREDDIT_REASONS - {"refused"}:
            return named
        status = error.response.status_code
        if isinstance(error, prawcore.NotFound | prawcore.Redirect) or status == 404:
            return "gone"
        if status not in (401, 403, 451):
            return "refused"
    return "forbidden"


def from_the_store(error: BaseException) -> bool:
    """Whether the database driver raised `error` (SQLite's or asyncpg's, whatever the reason)."""
    if isinstance(error, sqlite3.Error):
        return True
    asyncpg = sys.modules.get("asyncpg")  # loaded only by a bot on PostgreSQL
    if asyncpg is None:
        return False
    e = asyncpg.exceptions
    return isinstance(error, e.PostgresError | e.InterfaceError | e.InternalClientError)


def api_errors(error: BaseException) -> frozenset[str]:
    """The error types Reddit's API named in a refusal ("RATELIMIT", "THREAD_LOCKED", ...); none for
    any other error."""
    if isinstance(error, praw.exceptions.RedditAPIException):
        return frozenset(item.error_type for item in error.items)
    return frozenset()


def describe(error: BaseException) -> str:
    """A short description for a log line: never a token, never message text."""
    if isinstance(error, prawcore.OAuthException):
        return f"OAuth error {error.error!r}"
    if isinstance(error, prawcore.ResponseException):
        return f"HTTP {error.response.status_code} ({type(error).__name__})"
    if isinstance(error, prawcore.RequestException):
        return f"request failed ({type(error.original_exception).__name__})"
    return type(error).__name__
