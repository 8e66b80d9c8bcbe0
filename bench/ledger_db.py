"""Large product databases for the benchmarks, built fast and checked against the store's own writer.

Writing millions of events through `Store.record_bulk` fires the ledger's triggers row by row (about
40,000 events/s here), so a 5M-event database would take minutes. `load` writes the same rows in one
set-based pass instead: the simulated ledger goes into a staging table as integers and from there into
`events` with one INSERT … SELECT (the triggers and secondary indexes of `events` dropped meanwhile,
the indexes rebuilt once at the end), and the daily aggregates the triggers would have kept
(`engagement_daily`, `activity_daily`) are computed in numpy with the triggers' exact rules (natural-key
duplicates ignored, an unreaction taking back the reaction it retracts on that reaction's day) and
upserted in key order. It can be called again with the next slice of the same ledger, as a growing
ledger would.

`check_loader` builds the same small ledger both ways (the store's bulk writer, and `load` in two
slices) and compares every table: when the schema has moved on (a new aggregate, a new trigger) it
reports the difference, and the benchmarks then load through `Store.record_bulk` instead.

Databases are cached in the git-ignored bench/.cache, keyed by what they hold and by the migrations'
contents, so a schema change rebuilds them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from bench.trust_quality import Ledger, _group, channel_infos, event_rows, sightings
from bot.ledger import ChannelInfo, MemberSighting
from bot.store import MIGRATIONS_DIR, Store
from bot.store.reports import REPORT_RETRACTS
from sandbox.simulator import (
    EMOJIS,
    KIND_JOIN,
    KIND_MESSAGE,
    KIND_NAMES,
    KIND_REACTION,
    KIND_REPLY,
    KIND_UNREACTION,
    SimCommunity,
)

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DAY_MS = 86_400_000
LOADER_VERSION = 1  # bump when what `load` writes changes
ENGAGING = {KIND_REPLY: "reply", KIND_REACTION: "reaction", KIND_MESSAGE: "thread_reply"}


@dataclass(frozen=True)
class Roster:
    """The community of a ledger that does not come from the simulator: its id, its members as the
    store first learns them and its channels (what `prepare` writes before the events)."""

    guild_id: int
    members: Sequence[MemberSighting]
    channels: Sequence[ChannelInfo]


#: Whose ledger is loaded: a simulated community, or a roster given as it is.
Community = SimCommunity | Roster


def progress(message: str) -> None:
    print(f"  … {message}", flush=True)


def schema_fingerprint() -> str:
    """A short hash of every migration file: a cached database is reused only under the same schema."""
    digest = hashlib.sha256(f"loader{LOADER_VERSION}".encode())
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cache_path(name: str) -> Path:
    CACHE_DIR.mkdir(exist_ok=True)
    return CACHE_DIR / f"{name}-schema{schema_fingerprint()}.sqlite3"


def sliced(led: Ledger, start: int, stop: int) -> Ledger:
    return Ledger(**{f.name: getattr(led, f.name)[start:stop] for f in fields(Ledger)})


# ------------------------------------------------------------------------------------- the aggregates


def first_occurrences(led: Ledger, stop: int) -> np.ndarray:
    """Mask over led[:stop]: the rows INSERT OR IGNORE keeps (the first of each natural key
    (platform, kind, source_id, actor_id); a reaction's source is message and emoji, a join's is
    the member and the second)."""
    kind = led.kind[:stop]
    reacts = np.isin(kind, (KIND_REACTION, KIND_UNREACTION))
    joins = kind == KIND_JOIN
    a = np.where(joins, led.actor[:stop], led.message_id[:stop])
    b = np.where(reacts, led.emoji[:stop].astype(np.int64), np.where(joins, led.ts_ms[:stop] // 1000, -1))
    heads, _ = _group(kind.astype(np.int64), a, b, led.actor[:stop])
    keep = np.zeros(stop, np.bool_)
    keep[heads] = True
    return keep


@dataclass(frozen=True)
class Deltas:
    """What inserting a slice of the ledger adds to one aggregate: key columns and the change of n."""

    columns: tuple[np.ndarray, ...]  # int64 key columns; the last one is a kind index
    n: np.ndarray


def _summed(columns: Sequence[np.ndarray], delta: np.ndarray) -> Deltas:
    if not len(delta):
        return Deltas(tuple(np.zeros(0, np.int64) for _ in columns), np.zeros(0, np.int64))
    heads, group = _group(*columns)
    n = np.bincount(group, weights=delta, minlength=len(heads)).astype(np.int64)
    keys = tuple(c[heads] for c in columns)
    order = np.lexsort(keys[::-1])  # key order: the upserts walk each b-tree from left to right
    return Deltas(tuple(k[order] for k in keys), n[order])


def aggregate_deltas(led: Ledger, start: int, stop: int, keep: np.ndarray) -> tuple[Deltas, Deltas]:
    """What the ledger's insert triggers add to `engagement_daily` and `activity_daily` for the kept
    rows of led[start:stop] (keep: `first_occurrences(led, stop)`)."""
    rows = np.flatnonzero(keep[start:stop]) + start
    kind, actor, target = led.kind[rows], led.actor[rows], led.target[rows]
    day = led.ts_ms[rows] // DAY_MS
    channel = led.channel[rows]

    # activity_daily: every inserted event on its day, by kind name.
    activity = _summed((channel, actor, day, kind.astype(np.int64)), np.ones(len(rows), np.int64))

    # engagement_daily: replies, reactions and plain messages with a target other than the actor.
    engages = (target != 0) & (target != actor)
    code = np.full(len(rows), -1, np.int64)
    for k, name in ENGAGING.items():
        code[kind == k] = list(ENGAGING.values()).index(name)
    add = np.flatnonzero(engages & (code >= 0))
    cols = [channel[add], actor[add], target[add], day[add], code[add]]
    delta = [np.ones(len(add), np.int64)]

    # An unreaction takes one back from the stored reaction with its source and actor, on the day
    # that reaction was counted, if that reaction was stored before it.
    unreact = rows[engages & (kind == KIND_UNREACTION)]
    if len(unreact):
        stored = np.flatnonzero(keep & (led.kind[: len(keep)] == KIND_REACTION))
        both = np.concatenate([stored, unreact])
        _, group = _group(led.actor[both], led.message_id[both], led.emoji[both].astype(np.int64))
        reaction_of = np.full(int(group.max()) + 1, -1, np.int64)
        reaction_of[group[: len(stored)]] = stored  # one stored reaction per key
        matched = reaction_of[group[len(stored) :]]
        ok = (matched >= 0) & (matched < unreact)
        unreact, matched = unreact[ok], matched[ok]
        reaction_code = list(ENGAGING.values()).index("reaction")
        cols = [
            np.concatenate([c, extra])
            for c, extra in zip(
                cols,
                (
                    led.channel[unreact],
                    led.actor[unreact],
                    led.target[unreact],
                    led.ts_ms[matched] // DAY_MS,
                    np.full(len(unreact), reaction_code, np.int64),
                ),
                strict=True,
            )
        ]
        delta.append(-np.ones(len(unreact), np.int64))
    engagement = _summed(cols, np.concatenate(delta))
    return engagement, activity


# ------------------------------------------------------------------------------------------ loading


def _case(column: str, names: Sequence[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(names))
    return f"(CASE {column} {whens} END)"


def _stage(db: sqlite3.Connection, table: str, columns: Sequence[np.ndarray]) -> None:
    names = [f"c{i}" for i in range(len(columns))]
    db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    db.execute(f"CREATE TEMP TABLE {table} ({', '.join(n + ' INTEGER' for n in names)})")
    rows = zip(*(c.tolist() for c in columns), strict=True)
    db.executemany(f"INSERT INTO temp.{table} VALUES ({', '.join('?' * len(names))})", rows)


def _load_slice(
    path: Path, community_id: int, led: Ledger, start: int, stop: int, keep: np.ndarray | None
) -> int:
    if keep is None:
        keep = first_occurrences(led, stop)
    engagement, activity = aggregate_deltas(led, start, stop, keep)
    rows = np.flatnonzero(keep[start:stop]) + start
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a partial file is thrown away on failure
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -1048576")
        db.execute("PRAGMA temp_store = MEMORY")
        found = db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'events'"
            " AND type IN ('trigger', 'index') AND sql IS NOT NULL"
        ).fetchall()
        db.execute("BEGIN")
        for kind, name, _ in found:
            db.execute(f'DROP {kind.upper()} "{name}"')
        _stage(
            db,
            "staged_events",
            (
                led.kind[rows].astype(np.int64),
                led.channel[rows],
                led.actor[rows],
                led.target[rows],
                led.message_id[rows],
                led.emoji[rows].astype(np.int64),
                led.ts_ms[rows],
            ),
        )
        kind = _case("c0", KIND_NAMES)
        emoji = _case("c5", EMOJIS)
        before = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        db.execute(
            f"""INSERT INTO events (platform, community_id, channel_id, actor_id, target_id, kind,
                                    source_id, is_self, created_at)
                SELECT 'discord', {int(community_id)}, c1, c2, nullif(c3, 0), {kind},
                       CASE WHEN c0 IN ({KIND_REACTION}, {KIND_UNREACTION}) THEN c4 || ':' || {emoji}
                            WHEN c0 = {KIND_JOIN} THEN c2 || ':' || (c6 / 1000)
                            ELSE CAST(c4 AS TEXT) END,
                       c3 = c2, strftime('%Y-%m-%dT%H:%M:%f', c6 / 1000.0, 'unixepoch') || '+00:00'
                  FROM temp.staged_events ORDER BY rowid"""
        )
        _stage(db, "staged_engagement", (*engagement.columns, engagement.n))
        db.execute(
            f"""INSERT INTO engagement_daily (community_id, channel_id, actor_id, target_id, day, kind, n)
                SELECT {int(community_id)}, c0, c1, c2, c3, {_case("c4", list(ENGAGING.values()))}, c5
                  FROM temp.staged_engagement WHERE true
                ON CONFLICT DO UPDATE SET n = n + excluded.n"""
        )
        _stage(db, "staged_activity", (*activity.columns, activity.n))
        db.execute(
            f"""INSERT INTO activity_daily (community_id, channel_id, member_id, day, kind, n)
                SELECT {int(community_id)}, c0, c1, c2, {_case("c3", KIND_NAMES)}, c4
                  FROM temp.staged_activity WHERE true
                ON CONFLICT DO UPDATE SET n = n + excluded.n"""
        )
        for sql in REPORT_FEEDS:  # report aggregates and cursors, from this slice's new events
            db.execute(sql.replace("{kind}", kind), {"community": int(community_id)})
        for sql in REPORT_RETRACTS:  # removed reactions, taken back where they were added
            db.execute(str(sql), {"after": before})
        for _, _, sql in found:
            db.execute(sql)
        db.execute("COMMIT")
        for table in ("staged_events", "staged_engagement", "staged_activity"):
            db.execute(f"DROP TABLE temp.{table}")
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
    return len(rows)


async def prepare(path: Path, com: Community, led: Ledger) -> None:
    """A new database at `path` with the product's schema, the community's members and channels."""
    if isinstance(com, Roster):
        members, channels = list(com.members), list(com.channels)
    else:
        members, channels = sightings(com, led), channel_infos(com)
    store = await Store.open(path)
    try:
        await store.record([], members, channels)
    finally:
        await store.close()


#: What the store feeds from each written batch besides the daily engagement and activity (the report
#: aggregates, bot/store/reports.py, and the gap-fill cursors, bot/store/ledger.py), as upserts over the
#: slice's staged rows (every one of them a new event): c0 kind code, c1 channel, c2 actor, c4 message,
#: c6 milliseconds, i.e. over the integers the events' text columns were written from (hour and day of
#: `created_at`, the message id of `source_id`), which reads far faster than parsing them back.
REPORT_FEEDS = (
    f"""INSERT INTO report_hourly (community_id, hour, kind, n)
       SELECT :community, c6 / 3600000, {{kind}}, count(*)
         FROM temp.staged_events WHERE c0 <> {KIND_UNREACTION} GROUP BY 2, 3
       ON CONFLICT DO UPDATE SET n = n + excluded.n""",
    f"""INSERT INTO report_channel_days (community_id, day, channel_id, kind, n)
       SELECT :community, c6 / 86400000, c1, {{kind}}, count(*)
         FROM temp.staged_events WHERE c0 <> {KIND_UNREACTION} GROUP BY 2, 3, 4
       ON CONFLICT DO UPDATE SET n = n + excluded.n""",
    f"""INSERT INTO report_member_days (community_id, day, channel_id, member_id, n)
       SELECT :community, c6 / 86400000, c1, c2, count(*)
         FROM temp.staged_events WHERE c0 NOT IN ({KIND_JOIN}, {KIND_UNREACTION}) GROUP BY 2, 3, 4
       ON CONFLICT DO UPDATE SET n = n + excluded.n""",
    """INSERT INTO member_last_active (community_id, member_id, day)
       SELECT :community, c2, max(c6 / 86400000)
         FROM temp.staged_events GROUP BY 2
       ON CONFLICT DO UPDATE SET day = max(day, excluded.day)""",
    f"""INSERT INTO channel_cursors (platform, community_id, channel_id, last_message_id)
       SELECT 'discord', :community, c1, max(c4)
         FROM temp.staged_events WHERE c0 IN ({KIND_MESSAGE}, {KIND_REPLY}) GROUP BY 3
       ON CONFLICT DO UPDATE SET last_message_id = max(last_message_id, excluded.last_message_id)""",
)


async def load(
    path: Path, com: Community, led: Ledger, start: int, stop: int, *, keep: np.ndarray | None = None
) -> int:
    """Write led[start:stop] into the database at `path` (whose store holds led[:start]) as the
    ledger's triggers would have; returns how many events were new. `keep` is
    `first_occurrences(led, n)` for any n >= stop, when the caller already has it."""
    return await asyncio.to_thread(_load_slice, path, com.guild_id, led, start, stop, keep)


async def load_through_store(path: Path, com: Community, led: Ledger, start: int, stop: int) -> int:
    """The same through `Store.record_bulk` (the reference `load` is checked against)."""
    store = await Store.open(path)
    try:
        return await store.record_bulk(event_rows(com, led, start, stop), defer_indexes=True)
    finally:
        await store.close()


def table_contents(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        out: dict[str, Any] = {
            "schema": sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
        }
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall():
            out[name] = sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        return out
    finally:
        db.close()


async def check_loader(com: Community, led: Ledger, events: int = 40_000) -> list[str]:
    """Build the first `events` of the ledger through `Store.record_bulk` and through `load` (in two
    slices); the tables that differ (empty: the fast path writes exactly what the store writes)."""
    events = min(events, len(led))
    with tempfile.TemporaryDirectory(prefix="microvoice-bench-") as tmp:
        a, b = Path(tmp) / "store.sqlite3", Path(tmp) / "fast.sqlite3"
        part = sliced(led, 0, events)
        await prepare(a, com, part)
        await load_through_store(a, com, part, 0, events)
        await prepare(b, com, part)
        await load(b, com, part, 0, events // 2)
        await load(b, com, part, events // 2, events)
        want, got = table_contents(a), table_contents(b)
    return sorted(name for name in want.keys() | got.keys() if want.get(name) != got.get(name))


async def build(path: Path, com: Community, led: Ledger, stops: Sequence[int] = ()) -> dict[str, float]:
    """A database at `path` holding led[:stops[-1]] (all of it by default), checked loader first.

    Returns seconds per step. Written to a partial file renamed at the end, so an interrupted build
    is never taken for a cached one."""
    timings: dict[str, float] = {}
    stops = list(stops) or [len(led)]
    t0 = time.perf_counter()
    differ = await check_loader(com, led)
    timings["check"] = time.perf_counter() - t0
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    t0 = time.perf_counter()
    await prepare(partial, com, led)
    if differ:
        progress(
            f"the fast loader no longer matches the store's writer ({', '.join(differ)} differ):"
            " loading through Store.record_bulk (slow)"
        )
        await load_through_store(partial, com, led, 0, stops[-1])
    else:
        start = 0
        for stop in stops:
            await load(partial, com, led, start, stop)
            start = stop
    timings["load"] = time.perf_counter() - t0
    partial.replace(path)
    return timings


def copy_database(source: Path, target: Path) -> None:
    """A copy of a database no one is writing to, including what is still in its write-ahead log."""
    if source.with_name(source.name + "-wal").exists():
        db = sqlite3.connect(source)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    shutil.copyfile(source, target)


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    path.with_suffix(".json").write_text(json.dumps(meta))


def read_meta(path: Path) -> dict[str, Any] | None:
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        return None
    return dict(json.loads(meta.read_text()))
