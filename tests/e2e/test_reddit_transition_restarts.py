"""A restart between the Reddit steps of an AMA's start and end and a giveaway's end: the bot is stopped
(gracefully, or killed with SIGKILL as a `python -m bot run` subprocess, no shutdown code run) while a
call waits in the Reddit sandbox unanswered: the call after the transition's first write, not carried
out, or the first write itself (the post or comment), carried out, so the bot that made it never
learns it exists. A new bot on the same database finishes the work once: ended (not stuck live), one
post, every comment once and disclosed, a giveaway drawn once from every entrant, and nothing logged
at ERROR.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from sandbox.reddit_server import RedditSandbox
from tests.e2e.conftest import DEFAULT_DB, Launcher, eventually
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    APP_PASSWORD,
    fast_praw_fixture,
    reddit_sb_fixture,
    start_with_reddit,
)
from tests.e2e.test_activation_faults import bot_env, kill_when, start_subprocess_bot
from tests.e2e.test_reddit_transition_faults import (
    COMMENT,
    DISTINGUISH,
    EDIT,
    SUBMIT,
    assert_reddit_finished,
    live_with_entrants,
    prepared,
)
from tests.e2e.test_transition_faults import settled
from tests.e2e.test_transition_kills import set_due

#: The call each transition is stopped in, never carried out: the one after its first write (the AMA's
#: post, its summary comment, the giveaway's results comment).
BETWEEN = {("qa", "start"): DISTINGUISH, ("qa", "end"): DISTINGUISH, ("giveaway", "end"): EDIT}
#: ... or carried out: that first write.
FIRST_WRITE = {("qa", "start"): SUBMIT, ("qa", "end"): COMMENT, ("giveaway", "end"): COMMENT}
CASES = [
    pytest.param(kind, phase, stop, made, id=f"{kind}-{phase}-{stop}-{'made' if made else 'unmade'}")
    for kind, phase in BETWEEN
    for stop in ("graceful", "kill")
    for made in (False, True)
]


def reddit_env(sb: RedditSandbox) -> dict[str, str]:
    """The subprocess's Reddit settings, as `reddit_settings` gives the in-process bot."""
    return {
        "MICROVOICE_REDDIT_CLIENT_ID": sb.client_id,
        "MICROVOICE_REDDIT_CLIENT_SECRET": sb.client_secret,
        "MICROVOICE_REDDIT_USERNAME": sb.app_account.name,
        "MICROVOICE_REDDIT_PASSWORD": APP_PASSWORD,
        "MICROVOICE_REDDIT_OWNER": "microvoice_dev",
        "MICROVOICE_REDDIT_OAUTH_URL": sb.url,
        "MICROVOICE_REDDIT_URL": sb.url,
        "MICROVOICE_REDDIT_SHORT_URL": sb.url,
        "MICROVOICE_REDDIT_REQUESTS_PER_MINUTE": "1000",
        "MICROVOICE_REDDIT_TIMEOUT_SECONDS": "30",
    }


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("kind", "phase", "stop", "made"), CASES)
async def test_a_restart_between_reddit_steps_finishes_the_transition_once(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    phase: str,
    stop: str,
    made: bool,
):
    sb = reddit_sb
    caplog.set_level(logging.INFO, logger="bot")
    h, activation_id, _, tag = await prepared(launcher, sb, kind)
    start = h.clock.now + timedelta(minutes=11)
    if phase == "end":
        await live_with_entrants(h, sb, activation_id, start)

    _, path = (FIRST_WRITE if made else BETWEEN)[(kind, phase)]
    arrived: list[str] = []
    sb.before(path, lambda _query: arrived.append(path) is None)
    sb.hold(path, carried_out=made)  # never answered
    made_before = len(sb.made_by_app())
    db = tmp_path / DEFAULT_DB
    if stop == "graceful":
        h.clock.now = start if phase == "start" else h.clock.now + timedelta(hours=3)
        transition = asyncio.create_task(h.app.activations.run_due())
        await eventually(lambda: arrived, f"the bot to call {path}", timeout=10)
        await launcher.stop(h)
        await asyncio.wait({transition}, timeout=10)
        assert transition.done()
    else:
        await launcher.stop(h)
        set_due(db, [activation_id], phase)
        log = tmp_path / "bot.log"
        discord_sb = launcher.sandbox
        env = {**bot_env(discord_sb, launcher.world, db), **reddit_env(sb)}
        killed = await start_subprocess_bot(discord_sb, env, log)
        await kill_when(killed, lambda: arrived, f"the killed bot to call {path}", log)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        state = con.execute("SELECT state FROM activations WHERE id = ?", (activation_id,)).fetchone()[0]
        intents = [r[0] for r in con.execute("SELECT state FROM activation_intents ORDER BY id")]
    assert state == ("live" if phase == "start" else "ended")
    assert intents[-1] == "pending", intents
    # One post or comment made before the stop: the first write, answered, or carried out and held.
    assert len(sb.made_by_app()) == made_before + 1
    sb.faults.clear()

    h = await start_with_reddit(launcher, sb)
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    await h.app.activations.booted.wait()
    await settled(h, activation_id)
    if phase == "start":
        h.clock.now = h.clock.now + timedelta(hours=3)
        await h.app.activations.run_due()
        await settled(h, activation_id)
    await assert_reddit_finished(h, sb, kind, activation_id, tag, entrants=2 if phase == "end" else 0)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
