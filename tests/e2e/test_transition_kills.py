"""A hard kill in the middle of an activation's transition: a `python -m bot run` subprocess against the
sandbox is killed with SIGKILL (no shutdown code runs; SQLite's write-ahead log is left as it is) while
a Q&A, a giveaway and a takeover go live, or end, together. Each is killed in a REST call in the middle
of its step sequence, held unanswered and not carried out, or in its post, which Discord made but whose
answer never came (a lost answer). A new bot on the same database finishes the work: the right state,
every post made once and disclosed, a takeover's channel put back exactly, a giveaway drawn once, and
nothing logged at ERROR, by the killed bot or the new one.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.activations import disclosure
from bot.ledger import iso
from tests.e2e.activation_helpers import seed_brand, set_locale
from tests.e2e.conftest import Harness, Launcher
from tests.e2e.test_activation_faults import bot_env, kill_when, start_subprocess_bot
from tests.e2e.test_transition_faults import (
    EDIT,
    MESSAGES,
    OVERWRITE,
    THREAD,
    TOPIC,
    assert_finished_once,
    moment,
    overwrites,
    scheduled,
    settled,
)

KINDS = ("qa", "giveaway", "takeover")
#: Where each kind is killed: a call in the middle of its transition's steps (not carried out), or its
#: post (carried out, the answer lost).
MIDDLE = {
    ("qa", "start"): THREAD,
    ("qa", "end"): MESSAGES,
    ("giveaway", "start"): MESSAGES,
    ("giveaway", "end"): EDIT,
    ("takeover", "start"): OVERWRITE,
    ("takeover", "end"): TOPIC,
}
CASES = [
    pytest.param(phase, held, id=f"{phase}-{held}")
    for phase in ("start", "end")
    for held in ("middle", "lost")
]
DB = "killed.sqlite3"


class Prepared:
    """Three approved activations in their own channels, one of each kind, on one brand."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.channels: dict[str, int] = {}
        self.before: dict[str, list[dict[str, Any]]] = {}


async def prepared_kinds(h: Harness) -> Prepared:
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    w, sb = h.world, h.sandbox
    reports = sb.add_channel(w.guild, "mod-reports")
    giveaways = sb.add_channel(w.guild, "giveaways")
    await h.settle()
    await set_locale(h, "en", report_channel=reports)
    limits = {"max_sponsored_per_week": 50, "min_gap_hours": 0}
    await h.app.store.update_settings(w.guild, limits, by=w.owner, now=h.clock.now)
    brand = await seed_brand(h, "Acme Oats", contacts=[w.alice])
    found = Prepared()
    for n, kind in enumerate(KINDS):
        channel = giveaways if kind == "giveaway" else None
        found.ids[kind], found.channels[kind] = await scheduled(
            h, kind, reports, brand=brand, channel=channel, starts=timedelta(hours=1 + 2 * n)
        )
        found.before[kind] = overwrites(h, found.channels[kind])
    # Approved one after another (the saturation guard keeps sponsored windows apart), then run at the
    # same time: each is killed in its own transition.
    first = dict(s=iso(h.clock.now + timedelta(hours=1)), e=iso(h.clock.now + timedelta(hours=2)))
    await h.app.store.write("UPDATE activations SET starts_at = :s, ends_at = :e", first)
    return found


def held_call(kind: str, phase: str, held: str, channel: int) -> tuple[str, str]:
    method, route = MIDDLE[(kind, phase)] if held == "middle" else MESSAGES
    if route.count("{") == 1:  # this channel's own (the Q&A's and the giveaway's posts share the route)
        route = route.replace("{channel_id}", str(channel))
    return method, route


async def started_kinds(launcher: Launcher, db: str, phase: str) -> tuple[Harness, Prepared, list[int]]:
    """A bot with one activation of each kind scheduled, and with `phase` "end" already live."""
    h = await launcher.start(db=db)
    found = await prepared_kinds(h)
    ids = [found.ids[kind] for kind in KINDS]
    if phase == "end":
        h.clock.now = await moment(h, ids[0], "starts_at")
        await h.app.activations.run_due()
        for activation_id in ids:
            await settled(h, activation_id)
    return h, found, ids


def held_calls(sb: Any, calls: list[tuple[str, str]], held: str) -> list[int]:
    """Each call's next request held for a minute: unanswered and not carried out ("middle"), or
    carried out with its answer lost ("lost"). Returns how often each was called so far."""
    for method, route in calls:
        if held == "middle":
            sb.fail_next(method, route, status=503, delay=60)  # never answered, never carried out
        else:
            sb.hold_next(method, route, seconds=60)  # carried out, never answered
    return [len(sb.rest.find(method, route)) for method, route in calls]


async def restarted(launcher: Launcher, db: str, ids: list[int]) -> Harness:
    """A new bot on the killed bot's database, its clock at least the wall clock's, once the work it
    caught up on for each activation has settled."""
    launcher.clock.now = max(launcher.clock.now, datetime.now(UTC).replace(microsecond=0))
    h = await launcher.start(db=db)
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.01
    await h.app.activations.booted.wait()
    for activation_id in ids:
        await settled(h, activation_id)
    return h


async def assert_ended_once(h: Harness, ids: list[int], phase: str, found: Prepared) -> None:
    """Killed in their start, the activations run to their end first; then every intent is done and
    each kind's posts were made once and disclosed, its channel put back exactly."""
    if phase == "start":
        assert await h.scalar("SELECT group_concat(state) FROM activations") == "live,live,live"
        h.clock.now = await moment(h, ids[0], "ends_at")
        await h.app.activations.run_due()
        for activation_id in ids:
            await settled(h, activation_id)
    intents = await h.rows("SELECT activation_id, action, state FROM activation_intents ORDER BY id")
    assert {state for _, _, state in intents} == {"done"}, intents
    for kind in KINDS:
        tag = disclosure.tag("en", "Acme Oats", "gifted" if kind == "giveaway" else "paid")
        await assert_finished_once(h, kind, found.ids[kind], found.channels[kind], found.before[kind], tag)


def set_due(db: Path, activation_ids: list[int], phase: str) -> None:
    """Make the transition due by the real clock, which the subprocess bot reads."""
    now = datetime.now(UTC)
    with sqlite3.connect(db) as con:
        for activation_id in activation_ids:
            if phase == "start":
                con.execute(
                    "UPDATE activations SET starts_at = ? WHERE id = ?",
                    (iso(now - timedelta(minutes=1)), activation_id),
                )
            else:
                # (ending now: what members did until then, e.g. enter a giveaway, counts)
                con.execute(
                    "UPDATE activations SET starts_at = ?, ends_at = ? WHERE id = ?",
                    (iso(now - timedelta(minutes=30)), iso(now), activation_id),
                )


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("phase", "held"), CASES)
async def test_a_hard_kill_in_a_transition_is_finished_once_by_the_next_start(
    launcher: Launcher, tmp_path: Path, caplog: pytest.LogCaptureFixture, phase: str, held: str
):
    caplog.set_level(logging.INFO, logger="bot")
    h, found, ids = await started_kinds(launcher, DB, phase)
    sb, w = h.sandbox, h.world
    await launcher.stop(h)

    db, log = tmp_path / DB, tmp_path / "bot.log"
    set_due(db, ids, phase)
    calls = [held_call(kind, phase, held, found.channels[kind]) for kind in KINDS]
    seen = held_calls(sb, calls, held)
    killed = await start_subprocess_bot(sb, bot_env(sb, w, db), log)

    def all_held() -> bool:
        return all(len(sb.rest.find(m, r)) > n for (m, r), n in zip(calls, seen, strict=True))

    await kill_when(killed, all_held, f"every kind to reach {calls}", log)
    assert Path(f"{db}-wal").exists()  # no connection was closed: the log is left for the next start
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        states = {r[0] for r in con.execute("SELECT state FROM activations")}
        left = {r[0] for r in con.execute("SELECT state FROM activation_intents")}
    assert states == {"live" if phase == "start" else "ended"}, states
    assert "pending" in left, left
    sb.state.faults.clear()  # the held answers never reached a client

    h = await restarted(launcher, DB, ids)
    await assert_ended_once(h, ids, phase, found)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
