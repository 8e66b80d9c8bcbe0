"""Command registration beside the bot, never in its way: failures logged once, retried with backoff."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.command_sync import CommandSync

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Refused(Exception):
    """Stands for the platform's error (discord.HTTPException's text is Discord's message)."""


def failing(times: int, error: Exception, calls: list[float]):
    async def sync() -> bool:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) <= times:
            raise error
        return True

    return sync


async def test_a_refused_sync_is_logged_once_with_the_error_and_retried_with_backoff(
    caplog: pytest.LogCaptureFixture,
):
    calls: list[float] = []
    error = Refused("400 Bad Request (error code: 50035): Invalid Form Body")
    sync = CommandSync(
        failing(3, error, calls), clock=lambda: NOW, first_retry=timedelta(milliseconds=20)
    )
    caplog.set_level(logging.DEBUG, logger="bot.command_sync")
    sync.start()
    state = await asyncio.wait_for(sync.wait(), 5)
    assert state.ok and state.attempts == 4 and state.error is None
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.015 and gaps[1] >= 0.035 and gaps[2] >= 0.075  # 20, 40, 80 ms
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Invalid Form Body" in warnings[0]
    assert any("succeeded after 4 attempts" in r.getMessage() for r in caplog.records)


async def test_the_state_names_the_error_and_the_next_attempt_while_failing():
    calls: list[float] = []
    sync = CommandSync(
        failing(100, Refused("503 Service Unavailable"), calls),
        clock=lambda: NOW,
        first_retry=timedelta(hours=1),
    )
    sync.start()
    await asyncio.sleep(0.05)
    assert len(calls) == 1
    assert sync.state.ok is False and sync.state.attempts == 1
    assert sync.state.error == "503 Service Unavailable"
    assert sync.state.next_attempt_at == NOW + timedelta(hours=1)
    await sync.close()


async def test_a_long_rate_limit_ends_the_attempt_instead_of_holding_it():
    async def rate_limited() -> None:
        await asyncio.sleep(3600)  # discord.py waiting out a 429 with a long retry_after

    sync = CommandSync(
        rate_limited, clock=lambda: NOW, attempt_timeout=0.05, first_retry=timedelta(hours=1)
    )
    sync.start()
    await asyncio.sleep(0.2)
    assert sync.state.attempts == 1 and sync.state.error == "no answer (rate limited)"
    await sync.close()


async def test_attempts_are_bounded(caplog: pytest.LogCaptureFixture):
    calls: list[float] = []
    sync = CommandSync(
        failing(100, Refused("400"), calls),
        clock=lambda: NOW,
        first_retry=timedelta(milliseconds=1),
        longest_retry=timedelta(milliseconds=2),
        max_attempts=5,
    )
    sync.start()
    state = await asyncio.wait_for(sync.wait(), 5)
    assert len(calls) == 5 and not state.ok and state.next_attempt_at is None
    assert any("giving up after 5 attempts" in r.getMessage() for r in caplog.records)
