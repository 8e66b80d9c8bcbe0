"""A moderator's `/giveaway end` (a live giveaway ended early, with its draw) under way while the bot
stops: gracefully (the in-process bot closed, as test_transition_restarts.py does for `/activation
retry` and `cancel`), or killed with SIGKILL as a `python -m bot run` subprocess (no shutdown code runs).
The bot is stopped in the end's results post (not carried out, or carried out with its answer lost) or in
the edit that closes the opening post (carried out, its answer lost). The end is stored, its closing work
left pending, never recorded as a failure nor logged as an error; a new bot on the same database finishes
it once: the winners drawn once from every entrant, the results posted once and disclosed, the opening
post closed, and the activation's report posted once to the moderators.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.activation_helpers import intent_states
from tests.e2e.conftest import MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.test_activation_faults import bot_env, kill_when, quick_discord_sleeps, start_subprocess_bot  # noqa: F401
from tests.e2e.test_giveaway import ENTER, add_members, click
from tests.e2e.test_transition_faults import EDIT, MESSAGES, assert_finished_once, moment, prepared, settled

DB = "ended.sqlite3"
#: Where the end is stopped: its results post (not carried out, or carried out and its answer lost), or
#: the edit closing the opening post (carried out, its answer lost).
POINTS = {
    "results-unsent": (MESSAGES, False),
    "results-lost": (MESSAGES, True),
    "close-lost": (EDIT, True),
}
CASES = [pytest.param(stop, point, id=f"{stop}-{point}") for stop in ("graceful", "kill") for point in POINTS]


def stored(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of the database as the stopped bot left it."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return list(con.execute(sql, params))


def report_cards(h: Harness, reports: int, activation_id: int) -> list[dict[str, object]]:
    """The activation's report in the report channel (a card naming its files after the activation)."""
    name = f"activation-{activation_id}."
    return [
        m
        for m in h.sandbox.messages(reports)
        if any(str(a.get("filename", "")).startswith(name) for a in m.get("attachments") or [])
    ]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("stop", "point"), CASES)
@pytest.mark.usefixtures("quick_discord_sleeps")
async def test_a_giveaway_ended_early_while_the_bot_stops_is_finished_once_at_the_next_start(
    launcher: Launcher, tmp_path: Path, caplog: pytest.LogCaptureFixture, stop: str, point: str
):
    caplog.set_level(logging.INFO, logger="bot")
    h = await launcher.start(db=DB)
    sb, w = h.sandbox, h.world
    activation_id, channel, reports, before, tag = await prepared(h, "giveaway")
    h.app.giveaways.counter.interval = 0  # the entry count's edits are made at once, not coalesced
    h.clock.now = await moment(h, activation_id, "starts_at")
    await h.app.activations.run_due()
    await settled(h, activation_id)
    opening = sb.message(
        int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id))
    )
    fans = sorted(add_members(h, 3))
    for fan in fans:
        await click(h, opening, ENTER.format(activation_id), fan)
    await h.app.giveaways.counter.drain()  # no edit of the entry count is in flight at the end

    (method, route), carried_out = POINTS[point]
    if route.count("{") == 1:  # this channel's posts, not the report channel's
        route = route.replace("{channel_id}", str(channel))
    db = tmp_path / DB
    if carried_out:
        sb.hold_next(method, route, seconds=60)  # carried out, never answered
    else:
        sb.fail_next(method, route, status=503, delay=60)  # never answered, never carried out
    seen = len(sb.rest.find(method, route))
    options = {"id": activation_id}
    if stop == "graceful":
        await h.slash("giveaway", w.owner, options, subcommand="end", permissions=MANAGE_GUILD)
        await eventually(lambda: len(sb.rest.find(method, route)) > seen, f"{method} {route}", timeout=10)
        await launcher.stop(h)
    else:
        await launcher.stop(h)
        log = tmp_path / "bot.log"
        killed = await start_subprocess_bot(sb, bot_env(sb, w, db), log)
        ended = sb.slash(
            w.guild, w.general, w.owner, "giveaway", options, subcommand="end", permissions=MANAGE_GUILD
        )
        await kill_when(
            killed, lambda: len(sb.rest.find(method, route)) > seen, f"{method} {route}", log, ended
        )
    # Ended, its closing work left for the next start: not failed, no error recorded, drawn at most once.
    [(state,)] = stored(db, "SELECT state FROM activations WHERE id = ?", activation_id)
    assert state == "ended"
    intent = stored(db, "SELECT state, last_error FROM activation_intents WHERE action = 'close'")
    assert intent == [("pending", None)], intent
    [(draws,)] = stored(db, "SELECT count(*) FROM giveaway_draws WHERE activation_id = ?", activation_id)
    assert draws <= 1
    sb.state.faults.clear()  # the held answer never reached a client

    launcher.clock.now = max(launcher.clock.now, datetime.now(UTC).replace(microsecond=0))
    h = await launcher.start(db=DB)
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    await h.app.activations.booted.wait()
    await settled(h, activation_id)
    assert await intent_states(h, activation_id, "close") == "done"
    assert await h.app.activations.problem(w.guild, activation_id) is None
    await assert_finished_once(h, "giveaway", activation_id, channel, before, tag)
    entrants = await h.scalar("SELECT entrants FROM giveaway_draws WHERE activation_id = ?", activation_id)
    assert sorted(json.loads(entrants)) == fans, entrants  # every entrant, drawn from once
    ended = await h.scalar(
        "SELECT reason FROM activation_transitions WHERE activation_id = ? AND to_state = 'ended'",
        activation_id,
    )
    assert ended == "ended early"
    await eventually(lambda: report_cards(h, reports, activation_id), "the activation's report", timeout=10)
    assert len(report_cards(h, reports, activation_id)) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.getMessage(), r.exc_text) for r in errors]
