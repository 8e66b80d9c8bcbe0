"""A hard kill in the middle of a moderator's `/activation retry`: a Q&A, a giveaway and a takeover each
had a step of their start or end refused (a 403), so their platform work stopped; a moderator retries
all three in a `python -m bot run` subprocess, which is killed with SIGKILL (no shutdown code runs)
while each retried step is in flight: held unanswered and not carried out, or carried out by Discord
with its answer lost, at the same calls as the transition kill matrix (test_transition_kills.py). The
retry leaves the work pending, never failed again nor forgotten, and a new bot on the same database
finishes it once: every post made once and disclosed, a takeover's channel put back exactly, a giveaway
drawn once, nothing left for a moderator to retry, and nothing logged at ERROR.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.activation_helpers import intent_states
from tests.e2e.conftest import MANAGE_GUILD, Launcher
from tests.e2e.test_activation_faults import bot_env, kill_when, start_subprocess_bot
from tests.e2e.test_transition_faults import moment, settled
from tests.e2e.test_transition_kills import (
    KINDS,
    assert_ended_once,
    held_call,
    held_calls,
    restarted,
    started_kinds,
)

CASES = [
    pytest.param(phase, held, id=f"{phase}-{held}")
    for phase in ("start", "end")
    for held in ("middle", "lost")
]
DB = "retried.sqlite3"
REFUSED = dict(status=403, code=50013, message="Missing Permissions")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("phase", "held"), CASES)
async def test_a_hard_kill_during_a_moderators_retry_is_finished_once_by_the_next_start(
    launcher: Launcher, tmp_path: Path, caplog: pytest.LogCaptureFixture, phase: str, held: str
):
    caplog.set_level(logging.INFO, logger="bot")
    h, found, ids = await started_kinds(launcher, DB, phase)
    sb, w = h.sandbox, h.world
    action = "open" if phase == "start" else "close"
    # The call each kind is later killed in is refused first: the bot stops retrying, a moderator retries.
    calls = [held_call(kind, phase, held, found.channels[kind]) for kind in KINDS]
    for method, route in calls:
        sb.fail_next(method, route, **REFUSED)
    h.clock.now = await moment(h, ids[0], "starts_at" if phase == "start" else "ends_at")
    await h.app.activations.run_due()
    for activation_id in ids:
        await settled(h, activation_id)
        assert await intent_states(h, activation_id, action) == "failed"
    await launcher.stop(h)

    db, log = tmp_path / DB, tmp_path / "bot.log"
    seen = held_calls(sb, calls, held)
    killed = await start_subprocess_bot(sb, bot_env(sb, w, db), log)

    async def retried() -> None:
        for activation_id in ids:
            await sb.slash(
                w.guild, w.general, w.owner, "activation", {"id": activation_id}, subcommand="retry",
                permissions=MANAGE_GUILD,
            )  # fmt: skip

    def all_held() -> bool:
        return all(len(sb.rest.find(m, r)) > n for (m, r), n in zip(calls, seen, strict=True))

    await kill_when(killed, all_held, f"every retry to reach {calls}", log, retried())
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        states = {r[0] for r in con.execute("SELECT state FROM activations")}
        left = [
            r[0]
            for r in con.execute(
                "SELECT state FROM activation_intents WHERE action = ? ORDER BY id", (action,)
            )
        ]
    assert states == {"live" if phase == "start" else "ended"}, states
    assert left == ["pending"] * len(KINDS), left  # caught up at the next start, not failed again
    sb.state.faults.clear()  # the held answers never reached a client

    h = await restarted(launcher, DB, ids)
    for activation_id in ids:
        assert await intent_states(h, activation_id, action) == "done"
        assert await h.app.activations.problem(w.guild, activation_id) is None  # nothing left to retry
    await assert_ended_once(h, ids, phase, found)
    # Moderators read in their report channel that each retried step is done, once.
    reports = int(
        await h.scalar("SELECT report_channel_id FROM guild_settings WHERE community_id = ?", w.guild)
    )
    lines = [m["content"] or "" for m in sb.messages(reports)]
    for activation_id in ids:
        done = [line for line in lines if f"Activation #{activation_id}:" in line and "is done now" in line]
        assert len(done) == 1, lines
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
