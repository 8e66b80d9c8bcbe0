"""Activation side effects under platform faults, through the sandbox (issue: every side effect finished
or retried): 5xx and 429s on the exact routes at go-live and while a takeover is given back, and a
SIGKILL of a `python -m bot run` subprocess while a request is in flight. Each ends with the platform
exactly as it should be, every post made once, and a moderator told the truth on the way.

discord.py retries a 500 itself after sleeping 1, 3, 5, 7 and 9 s; `quick_discord_sleeps` divides
those waits by 100 so the five-500s case runs in a second (the bot's own retry delay is shortened the
same way, through `IntentRunner.base_delay`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
import types
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.activations import disclosure
from tests.e2e.activation_helpers import (
    activation_messages,
    approve,
    assert_disclosed,
    create,
    reply,
    seed_brand,
    seed_partner,
    set_locale,
    wait_state,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.test_takeover import sponsored_channel, start_takeover

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = "/channels/{channel_id}/messages"
OVERWRITE = "/channels/{channel_id}/permissions/{overwrite_id}"
ENTER = "microvoice:giveaway:enter:{}"


@pytest.fixture
def quick_discord_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        return await real_sleep(delay / 100, result)

    shim = types.SimpleNamespace(**{**vars(asyncio), "sleep": sleep})
    monkeypatch.setattr(discord.http, "asyncio", shim)
    yield


def opening_posts(h: Harness, channel: int, activation_id: int) -> list[dict[str, Any]]:
    """The giveaway's opening posts the sandbox holds (its Enter button names the activation)."""
    wanted = ENTER.format(activation_id)
    return [
        m
        for m in h.sandbox.messages(channel)
        if any(c.get("custom_id") == wanted for row in m.get("components") or [] for c in row["components"])
    ]


async def intent_state(h: Harness, activation_id: int, action: str) -> str | None:
    return await h.scalar(
        "SELECT state FROM activation_intents WHERE activation_id = ? AND action = ?", activation_id, action
    )


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(dict(status=503, times=1), id="one 503"),
        pytest.param(dict(status=429, times=5, retry_after=0.05), id="five 429s"),
        pytest.param(dict(status=500, times=5), id="five 500s"),
    ],
)
@pytest.mark.usefixtures("quick_discord_sleeps")
async def test_a_failed_opening_post_is_retried_until_the_activation_is_live_with_its_post(
    harness: Harness, fault: dict[str, Any]
):
    h, w, sb = harness, harness.world, harness.sandbox
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.05
    await set_locale(h, "en")
    brand = await seed_brand(h, "Acme Oats", contacts=[w.alice])
    options = {
        "brand": brand,
        "channel": w.cooking,
        "prize": "A year of oat milk",
        "rules": "One entry per member.",
        "winners": 1,
        "starts": "now",
        "ends": when(h, timedelta(hours=2)),
    }
    created, activation_id = await create(h, "giveaway", w.alice, options, permissions=BASIC)
    assert activation_id is not None, created

    sb.fail_next("POST", MESSAGES, **fault)
    started = time.monotonic()
    interaction = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="approve", permissions=1 << 5
    )
    assert "approved" in (await reply(interaction))["content"]
    # No false success: a follow-up says the opening post failed and is being retried.
    followup = (await interaction.wait_followup(timeout=10)).json
    assert followup["flags"] & (1 << 6)
    assert f"Activation #{activation_id}: the opening post failed" in followup["content"]
    assert "retries for up to three days" in followup["content"]

    async def opened() -> bool:
        return bool(await h.scalar("SELECT opened_at FROM activations WHERE id = ?", activation_id))

    await eventually(opened, "the opening post after retries", timeout=10)
    recovered = time.monotonic() - started
    await wait_state(h, activation_id, "live")
    (post,) = opening_posts(h, w.cooking, activation_id)
    shown_id = await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id)
    assert int(shown_id) == int(post["id"])
    assert post["embeds"][0]["title"].startswith(disclosure.tag("en", "Acme Oats", "gifted"))
    assert await intent_state(h, activation_id, "open") == "done"
    statuses = [c.status for c in h.rest.find("POST", MESSAGES) if c.path.split("/")[2] == str(w.cooking)]
    assert statuses == [fault["status"]] * fault["times"] + [200]
    assert recovered < 5, recovered

    # /activation show agrees: live, nothing pending.
    shown = await h.slash("activation", w.owner, {"id": activation_id}, subcommand="show", permissions=1 << 5)
    description = (await reply(shown))["embeds"][0]["description"]
    assert "State: live" in description and "failed" not in description


async def test_a_scheduled_start_that_fails_is_reported_in_the_report_channel(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.05
    reports = sb.add_channel(w.guild, "mod-reports")
    await h.settle()
    await set_locale(h, "en", report_channel=reports)
    brand = await seed_brand(h, "Acme Oats", contacts=[w.alice])
    options = {
        "brand": brand,
        "channel": w.cooking,
        "prize": "Oats",
        "rules": "One entry per member.",
        "winners": 1,
        "starts": when(h, timedelta(hours=1)),
        "ends": when(h, timedelta(hours=3)),
    }
    _, activation_id = await create(h, "giveaway", w.alice, options, permissions=BASIC)
    assert activation_id is not None
    await approve(h, activation_id)
    sb.fail_next("POST", f"/channels/{w.cooking}/messages", status=503)
    start = await h.scalar("SELECT starts_at FROM activations WHERE id = ?", activation_id)
    h.clock.now = datetime.fromisoformat(start)
    await h.app.activations.run_due()

    def report_lines() -> list[str]:
        return [m["content"] for m in sb.messages(reports)]

    await eventually(lambda: len(report_lines()) == 2, "a failure line and a recovery line", timeout=10)
    failed, done = report_lines()
    assert f"Activation #{activation_id}: the opening post failed (\u2068503 Service Unavailable" in failed
    assert f"Activation #{activation_id}: the opening post is done now, after 2 attempts." in done
    tag = disclosure.tag("en", "Acme Oats", "gifted")
    assert all(disclosure.starts_disclosed(line, tag) for line in report_lines())
    assert len(opening_posts(h, w.cooking, activation_id)) == 1


async def test_a_503_while_cancelling_a_live_takeover_is_retried_until_restored_exactly(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=True)
    before = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
    activation_id, tag = await start_takeover(h, "en", channel)
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) != before

    sb.fail_next("PUT", OVERWRITE, status=503)
    started = time.monotonic()
    cancel = await h.slash(
        "activation", w.alice, {"id": activation_id}, subcommand="cancel", permissions=BASIC
    )
    text = (await reply(cancel))["content"]
    assert f"Activation #{activation_id} is cancelled." in text
    # ... and, instead of a false "back to normal", that the channel is not given back yet.
    assert "putting the channel back" in text and "503 Service Unavailable" in text and "retries" in text

    def restored() -> bool:
        now = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
        return now == before and sb.channel(channel)["topic"] == "Weekly recipes"

    await eventually(restored, "the channel exactly as before the takeover", timeout=10)
    recovered = time.monotonic() - started

    async def closed() -> bool:
        return await intent_state(h, activation_id, "close") == "done"

    await eventually(closed, "the closing intent to finish", timeout=10)
    await h.settle()
    assert [c.status for c in h.rest.find("PUT", OVERWRITE)][-2:] == [503, 204]
    closing = [m for m in sb.messages(channel) if "was cancelled" in (m.get("content") or "")]
    assert len(closing) == 1 and disclosure.starts_disclosed(closing[0]["content"], tag)
    for call in activation_messages(h, [channel]):
        assert_disclosed(call, tag)
    assert 1.5 < recovered < 6, recovered  # the first retry comes after 2 s


async def test_a_refused_restore_is_retried_by_a_moderator_once_the_permission_is_back(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    channel = await sponsored_channel(h, taker_overwrite=True)
    before = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
    activation_id, tag = await start_takeover(h, "en", channel)

    sb.fail_next("PUT", OVERWRITE, status=403, code=50013, message="Missing Permissions")
    cancel = await h.slash(
        "activation", w.alice, {"id": activation_id}, subcommand="cancel", permissions=BASIC
    )
    text = (await reply(cancel))["content"]
    assert "cannot be done" in text and f"`/activation retry {activation_id}`" in text
    assert await intent_state(h, activation_id, "close") == "failed"
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) != before

    # The brand's manager, who could cancel it, cannot re-run the bot's work; a moderator can.
    refused = await h.slash(
        "activation", w.alice, {"id": activation_id}, subcommand="retry", permissions=BASIC
    )
    assert "Only moderators" in (await reply(refused))["content"]
    retry = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="retry", permissions=MANAGE_GUILD
    )
    answer = await reply(retry)
    assert answer["content"] == f"Activation #{activation_id}: all of its platform work is done now."
    assert answer["flags"] & 64  # ephemeral
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
    assert await intent_state(h, activation_id, "close") == "done"
    closing = [m for m in sb.messages(channel) if "was cancelled" in (m.get("content") or "")]
    assert len(closing) == 1 and disclosure.starts_disclosed(closing[0]["content"], tag)

    again = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="retry", permissions=MANAGE_GUILD
    )
    assert "nothing to retry" in (await reply(again))["content"]


# -- a SIGKILL while a request is in flight ------------------------------------------------------------


def bot_env(sb: Any, world: Any, db: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": sb.token,
        "MICROVOICE_DB": str(db),
        "MICROVOICE_DISCORD_API_BASE": sb.api_base,
        "MICROVOICE_DISCORD_GATEWAY_URL": sb.gateway_url,
        "MICROVOICE_COMMAND_GUILD_IDS": str(world.guild),
    }


async def start_subprocess_bot(sb: Any, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    readies = sb.ready_count
    out = log.open("ab")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=log.parent, env=env, stdout=out, stderr=out
    )
    out.close()
    await sb.wait_until(lambda: sb.ready_count > readies, 30, "the bot subprocess to connect")
    return proc


async def kill_when(
    killed: asyncio.subprocess.Process,
    reached: Callable[[], bool],
    what: str,
    log: Path,
    first: Awaitable[object] | None = None,
) -> None:
    """Kill the subprocess bot with SIGKILL (no shutdown code runs) as soon as `reached()` holds, after
    awaiting `first` (the command that sets the work off), and check that its log holds no error."""
    try:
        if first is not None:
            await first
        await eventually(reached, what, timeout=20)
        killed.send_signal(signal.SIGKILL)
        assert await killed.wait() == -signal.SIGKILL
    finally:
        if killed.returncode is None:
            killed.kill()
    text = log.read_text()
    assert " ERROR " not in text and "Traceback" not in text, text


def row(db: Path, sql: str, *params: Any) -> Any:
    with sqlite3.connect(db) as con:
        found = con.execute(sql, params).fetchone()
    return found[0] if found else None


def close_state(db: Path, activation_id: int) -> str | None:
    sql = "SELECT state FROM activation_intents WHERE activation_id = ? AND action = 'close'"
    return row(db, sql, activation_id)  # type: ignore[no-any-return]


@pytest.mark.timeout(120)
async def test_sigkill_mid_request_is_caught_up_after_restart_exactly_once(
    launcher: Launcher, tmp_path: Path
):
    """A takeover is cancelled in a `python -m bot run` subprocess. It is killed (SIGKILL) while its
    restore request is in flight, and the next one while its closing post is in flight (Discord made
    it; the answer never came). After the last restart the channel is exactly as before and the
    closing post exists once."""
    h = await launcher.start(db="killed.sqlite3")
    w, sb = h.world, h.sandbox
    db = tmp_path / "killed.sqlite3"
    channel = await sponsored_channel(h, taker_overwrite=True)
    before = sorted(sb.channel_overwrites(channel), key=lambda o: o["id"])
    await set_locale(h, "en")
    brand = await seed_brand(h, "Acme Oats", contacts=[w.alice])
    await seed_partner(h, w.bob)
    options = {"brand": brand, "channel": channel, "taker": w.bob, "title": "Bob cooks",
               "starts": "now", "ends": when(h, timedelta(hours=1))}  # fmt: skip
    _, activation_id = await create(h, "takeover", w.alice, options, permissions=BASIC)
    assert activation_id is not None
    await approve(h, activation_id)
    await wait_state(h, activation_id, "live")
    assert row(db, "SELECT opened_at FROM activations WHERE id = ?", activation_id)
    await launcher.stop(h)

    env, log = bot_env(sb, w, db), tmp_path / "bot.log"
    # 1. Killed while the restore (PUT overwrite) is in flight: Discord has not done it.
    sb.fail_next("PUT", OVERWRITE, status=503, delay=60)
    puts = len(sb.rest.find("PUT", OVERWRITE))
    first = await start_subprocess_bot(sb, env, log)
    try:
        cancel = await sb.slash(
            w.guild, w.general, w.alice, "activation", {"id": activation_id}, subcommand="cancel",
            permissions=BASIC,
        )  # fmt: skip
        await cancel.response(timeout=15)
        await eventually(
            lambda: len(sb.rest.find("PUT", OVERWRITE)) > puts, "the restore request", timeout=15
        )
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    assert row(db, "SELECT state FROM activations WHERE id = ?", activation_id) == "cancelled"
    assert close_state(db, activation_id) == "pending"
    sb.state.faults.clear()  # the held 503 never reached a client

    # 2. Killed while the closing post is in flight: Discord made it, the bot never heard.
    sb.hold_next("POST", MESSAGES, seconds=60)
    second = await start_subprocess_bot(sb, env, log)
    try:

        def closing() -> list[dict[str, Any]]:
            return [m for m in sb.messages(channel) if "was cancelled" in (m.get("content") or "")]

        await eventually(closing, "the closing post to be made", timeout=20)
        second.send_signal(signal.SIGKILL)
        await second.wait()
    finally:
        if second.returncode is None:
            second.kill()
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
    sb.state.faults.clear()

    # 3. The last restart finds the post and finishes without making it again.
    third = await start_subprocess_bot(sb, env, log)
    try:

        def finished() -> bool:
            return close_state(db, activation_id) == "done"

        await eventually(finished, "the closing intent to finish after the restart", timeout=20)
        third.terminate()
        assert await asyncio.wait_for(third.wait(), timeout=20) == 0
    finally:
        if third.returncode is None:
            third.kill()
    assert len(closing()) == 1
    posts = [
        c for c in sb.rest.find("POST", MESSAGES) if "was cancelled" in str((c.json or {}).get("content"))
    ]
    assert len(posts) == 1  # the sandbox's record: one request made it, no second one was sent
    assert sorted(sb.channel_overwrites(channel), key=lambda o: o["id"]) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
