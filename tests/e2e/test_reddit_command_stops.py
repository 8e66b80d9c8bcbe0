"""A moderator's command on a subreddit's activation under way while the bot stops: `/giveaway end` (a
live Reddit giveaway ended early, with its draw), and `/activation retry` of an AMA's or a giveaway's
end whose comment Reddit refused (the thread was locked). The bot is stopped gracefully, or killed with
SIGKILL as a `python -m bot run` subprocess (no shutdown code run), while a Reddit call of that work waits
in the sandbox unanswered: not carried out, or (the results comment) carried out, so the bot that made it
never learns it exists. The work is left pending, never recorded as failed nor
logged as an error, and a new bot on the same database finishes it once: ended, one post freed, every
text once and disclosed, a giveaway drawn once from every entrant.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.ledger import iso
from bot.subreddits.ids import ledger_id
from sandbox.reddit_server import RedditSandbox
from tests.e2e.activation_helpers import intent_states, move_to
from tests.e2e.conftest import DEFAULT_DB, MANAGE_GUILD, Harness, Launcher, eventually
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    fast_praw_fixture,
    reddit_sb_fixture,
    start_with_reddit,
)
from tests.e2e.test_activation_faults import bot_env, kill_when, start_subprocess_bot
from tests.e2e.test_reddit_transition_faults import (
    COMMENT,
    EDIT,
    READ,
    assert_reddit_finished,
    live_with_entrants,
    prepared,
)
from tests.e2e.test_reddit_transition_restarts import reddit_env
from tests.e2e.test_transition_faults import settled

STOPS = ("graceful", "kill")
#: Where `/giveaway end` is stopped: its last read of the entries (before the draw), its results comment
#: (not carried out, or made), or the edit closing the post's entries: (call, carried out).
END_CALLS = {
    "entries": (READ, False),
    "results": (COMMENT, False),
    "results made": (COMMENT, True),
    "close": (EDIT, False),
}


async def stopped_in_command(
    launcher: Launcher,
    h: Harness,
    sb: RedditSandbox,
    tmp_path: Path,
    stop: str,
    path: str,
    command: tuple[str, str],
    options: dict[str, Any],
    made: bool = False,
) -> None:
    """Run `/name sub` as the server's owner and stop the bot (gracefully, or SIGKILL in a subprocess)
    once it calls `path`, which the sandbox holds unanswered, and carries out only if `made`."""
    arrived: list[str] = []
    sb.before(path, lambda _query: arrived.append(path) is None)
    sb.hold(path, carried_out=made)
    name, sub = command
    w = launcher.world
    assert w is not None
    if stop == "graceful":
        await h.slash(name, w.owner, options, subcommand=sub, permissions=MANAGE_GUILD)
        await eventually(lambda: arrived, f"the bot to call {path}", timeout=10)
        await launcher.stop(h)
        return
    await launcher.stop(h)
    db = tmp_path / DEFAULT_DB
    with sqlite3.connect(db) as con:  # started by the real clock the subprocess reads, as it is live
        started = iso(datetime.now(UTC) - timedelta(minutes=30))
        con.execute("UPDATE activations SET starts_at = ? WHERE id = ?", (started, options["id"]))
    discord_sb, log = launcher.sandbox, tmp_path / "bot.log"
    env = {**bot_env(discord_sb, w, db), **reddit_env(sb)}
    killed = await start_subprocess_bot(discord_sb, env, log)
    command = discord_sb.slash(
        w.guild, w.general, w.owner, name, options, subcommand=sub, permissions=MANAGE_GUILD
    )
    await kill_when(killed, lambda: arrived, f"the killed bot to call {path}", log, command)


def left_behind(db: Path, activation_id: int) -> tuple[str, list[tuple[str, str | None]]]:
    """The activation's state and its closing intent (state, last error) as the stopped bot left them."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        state = con.execute("SELECT state FROM activations WHERE id = ?", (activation_id,)).fetchone()[0]
        close = con.execute(
            "SELECT state, last_error FROM activation_intents WHERE activation_id = ? AND action = 'close'",
            (activation_id,),
        ).fetchall()
    return str(state), [(str(s), e) for s, e in close]


def ended_at(db: Path, activation_id: int) -> datetime:
    """When the activation was ended, as the stopped bot stored it."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        (at,) = con.execute(
            "SELECT at FROM activation_transitions WHERE activation_id = ? AND to_state = 'ended'",
            (activation_id,),
        ).fetchone()
    return datetime.fromisoformat(at)


async def restarted(launcher: Launcher, sb: RedditSandbox, activation_id: int) -> Harness:
    sb.faults.clear()  # the held request never reached a client
    h = await start_with_reddit(launcher, sb)
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    await h.app.activations.booted.wait()
    await settled(h, activation_id)
    assert await intent_states(h, activation_id, "close") == "done"
    assert await h.app.activations.problem(h.world.guild, activation_id) is None
    return h


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("point", END_CALLS)
async def test_a_reddit_giveaway_ended_early_while_the_bot_stops_is_finished_once(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    stop: str,
    point: str,
):
    sb = reddit_sb
    caplog.set_level(logging.INFO, logger="bot")
    h, activation_id, _, tag = await prepared(launcher, sb, "giveaway")
    await live_with_entrants(h, sb, activation_id, h.clock.now + timedelta(minutes=11))

    (_, path), made = END_CALLS[point]
    command = ("giveaway", "end")
    await stopped_in_command(launcher, h, sb, tmp_path, stop, path, command, {"id": activation_id}, made)
    state, close = left_behind(tmp_path / DEFAULT_DB, activation_id)
    assert state == "ended"
    assert close == [("pending", None)], close  # not a failure: finished at the next start
    # While the bot is down, an account comments after the giveaway was ended, before its planned end:
    # too late to enter, although the draw is made only at the next start.
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    sb.add_account("late_r", age_days=400, karma=200)
    late = sb.comment(post, "late_r", "me too, am I in?")
    late.created_utc = (ended_at(tmp_path / DEFAULT_DB, activation_id) + timedelta(minutes=1)).timestamp()

    h = await restarted(launcher, sb, activation_id)
    await assert_reddit_finished(h, sb, "giveaway", activation_id, tag, entrants=2)
    entrants = await h.scalar("SELECT entrants FROM giveaway_draws WHERE activation_id = ?", activation_id)
    assert late.author_fullname is not None
    assert ledger_id(late.author_fullname) not in json.loads(entrants), entrants
    reason = "SELECT reason FROM activation_transitions WHERE activation_id = ? AND to_state = 'ended'"
    assert await h.scalar(reason, activation_id) == "ended early"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("made", [False, True], ids=["unmade", "made"])
@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("kind", ["qa", "giveaway"])
async def test_a_retry_of_a_refused_reddit_end_under_way_at_a_stop_is_finished_once(
    reddit_sb: RedditSandbox,
    launcher: Launcher,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    stop: str,
    kind: str,
    made: bool,
):
    sb = reddit_sb
    caplog.set_level(logging.INFO, logger="bot")
    h, activation_id, _, tag = await prepared(launcher, sb, kind)
    await live_with_entrants(h, sb, activation_id, h.clock.now + timedelta(minutes=11))
    _, path = COMMENT
    sb.refuse(path, "THREAD_LOCKED")  # the end's comment refused: it stops until a moderator retries
    await move_to(h, h.clock.now + timedelta(hours=3))
    await settled(h, activation_id)
    assert await intent_states(h, activation_id, "close") == "failed"

    command = ("activation", "retry")
    await stopped_in_command(launcher, h, sb, tmp_path, stop, path, command, {"id": activation_id}, made)
    state, close = left_behind(tmp_path / DEFAULT_DB, activation_id)
    assert state == "ended"
    assert [s for s, _ in close] == ["pending"], close  # caught up at the next start, not failed again

    h = await restarted(launcher, sb, activation_id)
    await assert_reddit_finished(h, sb, kind, activation_id, tag, entrants=2 if kind == "giveaway" else 0)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
