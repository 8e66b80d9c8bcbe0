"""A restart between an activation's transition and its platform work: the bot is stopped right after a
Q&A, a giveaway or a takeover went live or ended, while the first REST call of that transition waits
unanswered and not yet carried out (nothing done on the platform), or while its last call waits
unanswered after Discord carried it out (everything done, the bot never heard). A new bot on the same
database finishes the work: the right state, every post made once and disclosed, a takeover's channel
put back exactly, a giveaway drawn once, and no ERROR log.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from tests.e2e.activation_helpers import activation_messages, assert_disclosed, intent_states
from tests.e2e.conftest import DEFAULT_DB, MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.test_activation_faults import quick_discord_sleeps  # noqa: F401 (fixture)
from tests.e2e.test_transition_faults import (
    CALLS,
    OVERWRITE,
    assert_finished_once,
    assert_posted_once,
    moment,
    overwrites,
    prepared,
    settled,
)

#: Where the bot stops: the transition's first call not yet carried out, or its last carried out.
STOPS = ("before", "after")
CASES = [
    pytest.param(kind, phase, stop, id=f"{kind}-{phase}-{stop}") for kind, phase in CALLS for stop in STOPS
]


async def restarted_in_transition(
    launcher: Launcher, h: Harness, activation_id: int, channel: int, kind: str, phase: str, stop: str
) -> Harness:
    """Make the transition due, stop the bot while one of its calls waits for an answer, start again."""
    sb = h.sandbox
    calls = CALLS[(kind, phase)]
    # (a takeover looks its taker up before it goes live: the first call after its transition is next)
    first = 1 if (kind, phase) == ("takeover", "start") else 0
    method, route = calls[first] if stop == "before" else calls[-1]
    if route.count("{") == 1:  # this channel's, not the audit log's or the report channel's
        route = route.replace("{channel_id}", str(channel))
    if stop == "before":
        sb.fail_next(method, route, status=503, delay=60)  # never answered, never carried out
    else:
        sb.hold_next(method, route, seconds=60)  # carried out, never answered
    seen = len(sb.rest.find(method, route))
    h.clock.now = await moment(h, activation_id, "starts_at" if phase == "start" else "ends_at")
    transition = asyncio.create_task(h.app.activations.run_due())
    await eventually(lambda: len(sb.rest.find(method, route)) > seen, f"{method} {route}", timeout=10)
    await launcher.stop(h)
    await asyncio.wait({transition}, timeout=10)
    assert transition.done()
    assert stored_state(launcher, activation_id) == ("live" if phase == "start" else "ended")
    sb.state.faults.clear()  # the held answer never reached a client
    again = await launcher.start()
    again.app.activations.intents.base_delay = again.app.activations.intents.max_asked_wait = 0.01
    await again.app.activations.booted.wait()
    await settled(again, activation_id)
    return again


def stored_state(launcher: Launcher, activation_id: int) -> str:
    """The activation's state as the stopped bot left it in its database."""
    with sqlite3.connect(launcher.tmp_path / DEFAULT_DB) as con:
        return str(con.execute("SELECT state FROM activations WHERE id = ?", (activation_id,)).fetchone()[0])


@pytest.mark.parametrize(("kind", "phase", "stop"), CASES)
@pytest.mark.usefixtures("quick_discord_sleeps")
async def test_a_restart_between_a_transition_and_its_platform_work_finishes_it_once(
    launcher: Launcher, caplog: pytest.LogCaptureFixture, kind: str, phase: str, stop: str
):
    caplog.set_level(logging.INFO, logger="bot")
    h = await launcher.start()
    activation_id, channel, _, before, tag = await prepared(h, kind)
    if phase == "end":
        h.clock.now = await moment(h, activation_id, "starts_at")
        await h.app.activations.run_due()
        await settled(h, activation_id)

    h = await restarted_in_transition(launcher, h, activation_id, channel, kind, phase, stop)
    action = "open" if phase == "start" else "close"
    intents = await intent_states(h, activation_id, action)
    assert intents == "done", intents
    if phase == "start":
        assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
        h.clock.now = await moment(h, activation_id, "ends_at")
        await h.app.activations.run_due()
        await settled(h, activation_id)
    await assert_finished_once(h, kind, activation_id, channel, before, tag)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("command", ["retry", "cancel"])
@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.usefixtures("quick_discord_sleeps")
async def test_a_moderators_command_under_way_at_shutdown_is_finished_once_at_the_next_start(
    launcher: Launcher, caplog: pytest.LogCaptureFixture, stop: str, command: str
):
    """A moderator's `/activation retry` (of a takeover's restore that was refused) or `/activation
    cancel` (of a live takeover) runs while the bot stops, the restore's first call unanswered (not
    carried out, or carried out). The stop leaves the work pending, never recorded as failed for a
    reason the platform never gave nor logged as an error, and the next start finishes it once."""
    caplog.set_level(logging.INFO, logger="bot")
    h = await launcher.start()
    sb, w = h.sandbox, h.world
    activation_id, channel, _, before, tag = await prepared(h, "takeover")
    h.clock.now = await moment(h, activation_id, "starts_at")
    await h.app.activations.run_due()
    await settled(h, activation_id)
    method, route = OVERWRITE
    close = "SELECT state FROM activation_intents WHERE activation_id = ? AND action = 'close'"
    if command == "retry":
        sb.fail_next(method, route, status=403, code=50013, message="Missing Permissions")
        h.clock.now = await moment(h, activation_id, "ends_at")
        await h.app.activations.run_due()
        await settled(h, activation_id)
        assert await h.scalar(close, activation_id) == "failed"

    if stop == "before":
        sb.fail_next(method, route, status=503, delay=60)  # never answered, never carried out
    else:
        sb.hold_next(method, route, seconds=60)  # carried out, never answered
    seen = len(sb.rest.find(method, route))
    await h.slash("activation", w.owner, {"id": activation_id}, subcommand=command, permissions=MANAGE_GUILD)
    await eventually(lambda: len(sb.rest.find(method, route)) > seen, "the restore", timeout=10)
    await launcher.stop(h)
    with sqlite3.connect(launcher.tmp_path / DEFAULT_DB) as con:
        left = con.execute(close.replace("?", str(activation_id))).fetchone()[0]
    assert left == "pending"  # caught up at the next start, not waiting for another retry
    sb.state.faults.clear()

    h = await launcher.start()
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    await h.app.activations.booted.wait()
    await settled(h, activation_id)
    assert await h.scalar(close, activation_id) == "done"
    state = await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id)
    assert state == ("ended" if command == "retry" else "cancelled")
    assert overwrites(h, channel) == before
    assert sb.channel(channel)["topic"] == "Weekly recipes"
    assert_posted_once(h, channel)
    for call in activation_messages(h, [channel]):
        assert_disclosed(call, tag)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.getMessage(), r.exc_text) for r in errors]
