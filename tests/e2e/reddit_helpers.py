"""The real bot with the real praw against the Reddit sandbox (and the Discord sandbox, as always).

praw's and prawcore's sleeps (rate-limit pacing, retry waits, the streams' backoff) are shortened,
as praw's own test suite does, and so are the adapter's back-off waits (and the rounds' pacing, set
by `reddit_requests_per_minute`); what they wait *for* is unchanged, so every retry and every
rate-limit header is still honoured.
"""

from __future__ import annotations

import re
import time
import types
from collections.abc import AsyncIterator
from typing import Any

import praw.models.util
import prawcore.auth
import prawcore.rate_limit
import prawcore.sessions
import pytest

import reddit.adapter
from sandbox.reddit_server import RedditSandbox
from tests.e2e.conftest import Harness, Launcher, eventually

APP_PASSWORD = "sandbox-password"
_real_sleep = time.sleep
CODE = re.compile(r"MV-[A-Z2-9]{10}")


def _short_sleep(seconds: float) -> None:
    _real_sleep(min(seconds, 0.01))


FAST_TIME = types.SimpleNamespace(
    sleep=_short_sleep, monotonic=time.monotonic, monotonic_ns=time.monotonic_ns, time=time.time
)


@pytest.fixture(name="fast_praw")
def fast_praw_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (prawcore.rate_limit, prawcore.sessions, prawcore.auth, praw.models.util):
        monkeypatch.setattr(module, "time", FAST_TIME)
    monkeypatch.setattr(reddit.adapter, "BACKOFF_SECONDS", (0.01, 0.02, 0.05))


@pytest.fixture(name="reddit_sb")
async def reddit_sb_fixture(fast_praw: None) -> AsyncIterator[RedditSandbox]:
    """A running Reddit sandbox (with praw's sleeps shortened); start the bot after requesting it, so
    the bot stops before the sandbox does."""
    sb = RedditSandbox(ratelimit_window=2)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


def reddit_settings(sb: RedditSandbox, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        reddit_client_id=sb.client_id,
        reddit_client_secret=sb.client_secret,
        reddit_username=sb.app_account.name,
        reddit_password=APP_PASSWORD,
        reddit_owner="microvoice_dev",
        reddit_oauth_url=sb.url,
        reddit_url=sb.url,
        reddit_short_url=sb.url,
        reddit_poll_seconds=0.02,
        reddit_requests_per_minute=1_000_000,  # a local sandbox: no budget to keep to
        # A local sandbox answers at once, but a loaded test machine may take seconds: a request given up
        # and sent again can land after what followed it. Tests of the timeout itself set a short one.
        reddit_timeout=10,
    )
    values.update(overrides)
    return values


async def start_with_reddit(
    launcher: Launcher, sb: RedditSandbox, db: str = "microvoice.sqlite3", **kw: Any
) -> Harness:
    return await launcher.start(db, **reddit_settings(sb, **kw))


async def rounds(h: Harness, n: int = 2, timeout: float = 10) -> None:  # noqa: ASYNC109
    """Wait until the adapter has completed `n` more polling rounds (everything posted before this
    call has been streamed, written and its cursor stored)."""
    adapter = h.app.reddit
    target = adapter.rounds + n
    adapter.poll_now()
    await eventually(
        lambda: adapter.rounds >= target or adapter.state != "running", f"{n} Reddit rounds", timeout
    )


def reply_text(call: Any) -> str:
    body = call.json
    data = body.get("data") or body
    text = data.get("content") or ""
    for embed in data.get("embeds") or []:
        text += "\n" + (embed.get("title") or "") + "\n" + (embed.get("description") or "")
    return text
