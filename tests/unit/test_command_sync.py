"""Command registration beside the bot, never in its way: failures logged once, retried with backoff
until they succeed; a refusal for good stops at once and says why."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.command_sync import (
    CommandSync,
    PermanentSyncError,
    SyncElsewhere,
    legacy_scope,
    parse_record,
    record_key,
    scope_label,
)

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
    sync = CommandSync(failing(3, error, calls), clock=lambda: NOW, first_retry=timedelta(milliseconds=20))
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

    sync = CommandSync(rate_limited, clock=lambda: NOW, attempt_timeout=0.05, first_retry=timedelta(hours=1))
    sync.start()
    await asyncio.sleep(0.2)
    assert sync.state.attempts == 1 and sync.state.error == "no answer (rate limited)"
    await sync.close()


async def test_a_failure_worth_retrying_is_retried_at_the_longest_interval_instead_of_given_up():
    calls: list[float] = []
    sync = CommandSync(
        failing(30, Refused("503 Service Unavailable"), calls),
        clock=lambda: NOW,
        first_retry=timedelta(milliseconds=1),
        longest_retry=timedelta(milliseconds=4),
    )
    sync.start()
    state = await asyncio.wait_for(sync.wait(), 5)
    assert len(calls) == 31 and state.ok and state.attempts == 31
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert min(gaps[3:]) >= 0.003  # 1, 2, 4 ms, then every 4 ms


async def test_while_retrying_the_state_always_names_the_next_attempt():
    calls: list[float] = []
    sync = CommandSync(
        failing(1000, Refused("503 Service Unavailable"), calls),
        clock=lambda: NOW,
        first_retry=timedelta(milliseconds=1),
        longest_retry=timedelta(milliseconds=1),
    )
    sync.start()
    await asyncio.sleep(0.2)  # many more attempts than a day of backoff would make
    assert len(calls) > 30
    assert sync.state.next_attempt_at == NOW + timedelta(milliseconds=1) and not sync.state.permanent
    await sync.close()


async def test_a_refusal_for_good_stops_at_once_and_the_state_says_why(caplog: pytest.LogCaptureFixture):
    calls: list[float] = []
    reason = "the global scope: HTTP 400, code 50035: Invalid Form Body"
    sync = CommandSync(failing(100, PermanentSyncError(reason), calls), clock=lambda: NOW)
    sync.start()
    state = await asyncio.wait_for(sync.wait(), 5)
    assert len(calls) == 1 and not state.ok and state.permanent
    assert state.error is not None and state.error.startswith(reason) and "not retried" in state.error
    assert state.next_attempt_at is None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and reason in errors[0]


async def test_a_refusal_after_failures_worth_retrying_stops_the_retries():
    calls: list[int] = []

    async def sync_once() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise Refused("503 Service Unavailable")
        raise PermanentSyncError("guild 1 in MICROVOICE_COMMAND_GUILD_IDS: HTTP 404, code 10004")

    sync = CommandSync(sync_once, clock=lambda: NOW, first_retry=timedelta(milliseconds=1))
    sync.start()
    state = await asyncio.wait_for(sync.wait(), 5)
    assert len(calls) == 3 and state.permanent and "10004" in (state.error or "")


async def test_a_sync_left_to_another_process_is_not_reported_done_and_is_looked_at_again(
    caplog: pytest.LogCaptureFixture,
):
    """Another process of the bot held the sync lock: the state says so (not registered, not failed),
    and the next look finds the commands registered."""
    calls: list[int] = []
    looked = asyncio.Event()

    async def sync_once() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise SyncElsewhere
        await looked.wait()
        return False  # the other process registered them: nothing left to do

    caplog.set_level(logging.INFO, logger="bot.command_sync")
    sync = CommandSync(sync_once, clock=lambda: NOW, first_retry=timedelta(milliseconds=20))
    sync.start()
    await asyncio.sleep(0.005)
    state = sync.state
    assert not state.ok and state.elsewhere and state.error is None and not state.permanent
    assert state.next_attempt_at == NOW + timedelta(milliseconds=20)
    assert state.concerning(1) is None  # nothing failed
    assert any("another process of this bot is registering" in r.getMessage() for r in caplog.records)
    looked.set()
    state = await asyncio.wait_for(sync.wait(), 5)
    assert state.ok and not state.elsewhere and len(calls) == 2


def test_the_record_is_per_application_and_reads_back_what_was_written():
    assert record_key(1) != record_key(2) and record_key(7).startswith("command_tree:")
    assert parse_record('{"global": "abc", "42": "def"}') == {"global": "abc", "42": "def"}
    assert parse_record(None) == parse_record("") == parse_record("not json") == parse_record("[1]") == {}


def test_records_from_before_they_named_the_application_are_recognised():
    assert legacy_scope("command_tree:global") == "global"
    assert legacy_scope("command_tree:123456789012345678") == "123456789012345678"
    assert legacy_scope(record_key(5)) is None and legacy_scope("something_else") is None


def test_a_scope_is_named_with_the_setting_that_lists_it():
    assert scope_label("global") == "the global scope"
    assert scope_label("42") == "guild 42 in MICROVOICE_COMMAND_GUILD_IDS"
    assert scope_label("42", configured=False) == "guild 42 no longer in MICROVOICE_COMMAND_GUILD_IDS"


def test_a_servers_moderators_hear_of_the_global_scope_and_their_own_server_only():
    from bot.command_sync import GLOBAL, SyncState

    failed = SyncState(
        ok=False,
        attempts=2,
        error="guild 1 …: HTTP 503; guild 2 …: HTTP 404",
        reasons={"1": "guild 1 …: HTTP 503", "2": "guild 2 …: HTTP 404"},
    )
    assert failed.concerning(1) == "guild 1 …: HTTP 503"
    assert failed.concerning(3) is None  # another server's failure is not shown, nor its id
    everywhere = SyncState(ok=False, attempts=1, error="x", reasons={GLOBAL: "the global scope: HTTP 400"})
    assert everywhere.concerning(3) == "the global scope: HTTP 400"
    timed_out = SyncState(ok=False, attempts=1, error="no answer (rate limited)")  # no scope known
    assert timed_out.concerning(3) == "no answer (rate limited)"
    assert SyncState(ok=True, attempts=1).concerning(3) is None
