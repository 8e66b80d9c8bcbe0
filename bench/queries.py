"""How fast moderators' commands answer on a server with a long history.

A simulated community of 12,500 members over 60 days (about 1M events once bot accounts are left out;
what `make bench` runs) or with `--full` of 50,000 members over 180 days (about 5M events) is loaded
into a real database (bench/ledger_db, checked against the store's own writer; cached in the
git-ignored bench/.cache), its trust rankings computed by `Voices.recompute`, and a brand program
added on top: 20 brands with topics and contacts, 10% of the members opted in as partners (1% of them
with a linked Reddit account), 1,000 activations with their transitions over three years.

Each command is timed through the service call its cog makes, on the store's connection, at least 50
times after a warm-up (p50 and p95, target p95 < 50 ms): `/voices top` (server, topic and 30-day
scopes), `/voices member` (a different ranked member each time), `/microvoice status` (the last 7
days), `/brand partners` (a brand's topics, first pages) and `/activation list` (a moderator's and a
brand manager's). Every SQL statement a command runs is captured and printed with its query plan.

    .venv/bin/python -m bench.queries [--full] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bench import ledger_db
from bench.ledger_db import progress
from bench.results import Row, print_table, write_section
from bench.trust_quality import ledger
from bot.activations.service import ActivationService, Actor
from bot.community import STATUS_CHANNELS, CommunityService
from bot.ingest import Ingest
from bot.ledger import iso
from bot.partners import BrandService
from bot.platform import Platform
from bot.scheduler import Scheduler
from bot.store import Store
from bot.trust import Voices
from sandbox.simulator import SimCommunity, SimConfig, simulate

TARGET_MS = 50.0
PER_PAGE = 5  # cogs/voices.py and cogs/brands.py show five entries a page
TOPIC_TYPES = (0, 5, 15, 16)


@dataclass(frozen=True)
class Dataset:
    name: str
    seed: int
    members: int
    days: int
    rate: float  # scales the simulator's posting, reply and reaction rates
    chatty: float = SimConfig.chatty_fraction  # members who chat all day


FULL = Dataset("5M events", 131, 50_000, 180, 0.083, 0.006)
STANDARD = Dataset("1M events", 132, 12_500, 60, 1.0)


def community(ds: Dataset) -> SimCommunity:
    base = SimConfig()
    config = dataclasses.replace(
        base,
        post_rate=base.post_rate * ds.rate,
        reply_rate=base.reply_rate * ds.rate,
        react_rate=base.react_rate * ds.rate,
        chatty_fraction=ds.chatty,
    )
    return simulate(ds.seed, members=ds.members, days=ds.days, manipulation=0.5, config=config)


# --------------------------------------------------------------------------------------- the database


async def add_brand_program(store: Store, com: SimCommunity, rng: random.Random) -> dict[str, Any]:
    """Brands, partners, linked Reddit accounts and activations, as years of use would leave them."""
    guild, now = com.guild_id, com.end
    mod = com.members[0].id
    topics = [c.id for c in com.channels if c.type in TOPIC_TYPES]
    staff = sorted(com.labels["brand_staff"]) or [m.id for m in com.members[1:41]]
    brand_ids = []
    for i in range(20):
        chosen = rng.sample(topics, k=min(len(topics), 1 + i % 3))
        contacts = [staff[(2 * i + j) % len(staff)] for j in range(2)]
        brand = await store.create_brand(guild, f"Brand {i:02d}", contacts, chosen, by=mod, now=now)
        brand_ids.append(brand.id)
    await store.write(
        "UPDATE brands SET status = 'approved', approved_by = ? WHERE community_id = ? AND id % 10 <> 0",
        (mod, guild),
    )
    humans = [m.id for m in com.members if not m.is_bot]
    partners = rng.sample(humans, k=len(humans) // 10)
    start = com.start
    span = (com.end - com.start).total_seconds()

    def when() -> str:
        return iso(start + timedelta(seconds=rng.random() * span))

    joined = [(guild, m, 1, when()) for m in partners]
    await store.write_many(
        "INSERT INTO partners (community_id, member_id, terms_version, opted_in_at) VALUES (?, ?, ?, ?)",
        joined,
    )
    await store.write_many(
        "INSERT INTO consent_log (community_id, member_id, action, terms_version, at)"
        " VALUES (?, ?, 'accepted', ?, ?)",
        joined,
    )
    left = partners[: len(partners) // 20]  # some left the program again
    await store.write_many(
        "UPDATE partners SET opted_out_at = ? WHERE community_id = ? AND member_id = ?",
        [(iso(now), guild, m) for m in left],
    )
    linked = partners[len(left) : len(left) + len(partners) // 100]
    await store.write_many(
        "INSERT INTO reddit_links (community_id, member_id, reddit_id, reddit_name, linked_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(guild, m, 9_000_000 + i, f"redditor{i}", iso(now)) for i, m in enumerate(linked)],
    )
    activations = []
    history = timedelta(days=3 * 365)
    for i in range(1000):
        starts = now - history + timedelta(seconds=rng.random() * history.total_seconds())
        ended = starts < now - timedelta(days=7)
        state = "ended" if ended else rng.choice(("pending", "scheduled", "live"))
        kind = ("qa", "giveaway", "takeover")[i % 3]
        # A giveaway's settings as `/activation create giveaway` stores them: a bot started on this
        # database runs its scheduled and live giveaways.
        config = {}
        if kind == "giveaway":
            config = {"prize": f"Prize {i}", "rules": "One entry per member.", "winners": 1}
        activations.append(
            (
                guild,
                rng.choice(brand_ids),
                kind,
                state,
                f"Activation {i}",
                rng.choice(topics),
                iso(starts),
                iso(starts + timedelta(days=2)),
                json.dumps(config),
                mod,
                iso(starts - timedelta(days=3)),
            )
        )
    await store.write_many(
        "INSERT INTO activations (community_id, brand_id, kind, state, title, channel_id, starts_at,"
        " ends_at, config, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*a, a[-1]) for a in activations],
    )
    await store.write(
        """INSERT INTO activation_transitions
               (activation_id, community_id, from_state, to_state, actor_id, at)
           SELECT id, community_id, NULL, 'pending', created_by, created_at FROM activations
           UNION ALL SELECT id, community_id, 'pending', 'scheduled', created_by, created_at
             FROM activations WHERE state <> 'pending'
           UNION ALL SELECT id, community_id, 'scheduled', 'live', NULL, starts_at
             FROM activations WHERE state IN ('live', 'ended')
           UNION ALL SELECT id, community_id, 'live', 'ended', NULL, ends_at
             FROM activations WHERE state = 'ended'"""
    )
    return {"brands": len(brand_ids), "partners": len(partners), "activations": len(activations)}


async def database(ds: Dataset) -> tuple[Path, dict[str, Any]]:
    """The dataset's database (built once, then taken from bench/.cache) and what it holds."""
    # v2: giveaways carry their settings.
    name = f"queries-v2-{ds.seed}-{ds.members}-{ds.days}-{ds.rate:g}-{ds.chatty:g}"
    path = ledger_db.cache_path(name)
    meta = ledger_db.read_meta(path)
    if meta is not None:
        return path, meta
    t0 = time.perf_counter()
    com = community(ds)
    led = ledger(com)
    progress(f"simulated {ds.members:,} members over {ds.days} days: {len(led):,} events")
    timings = await ledger_db.build(path, com, led)
    progress(f"loaded in {timings['load']:.0f}s (loader checked against the store: {timings['check']:.0f}s)")
    store = await Store.open(path)
    try:
        staff = sorted(com.labels["brand_staff"])

        async def brand_contacts(_: int) -> list[int]:
            return staff

        voices = Voices(store, clock=lambda: com.end, excluded=brand_contacts)
        t1 = time.perf_counter()
        ranked = await voices.recompute(com.guild_id)
        took = time.perf_counter() - t1
        progress(f"trust recompute: {ranked.scopes} scopes, {ranked.ranked:,} entries, {took:.0f}s")
        extra = await add_brand_program(store, com, random.Random(ds.seed))
        await store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        events = int(await store.scalar("SELECT count(*) FROM events"))
    finally:
        await store.close()
    meta = {
        "guild": com.guild_id,
        "now": com.end.isoformat(),
        "events": events,
        "members": ds.members,
        "days": ds.days,
        "build_seconds": time.perf_counter() - t0,
        **extra,
    }
    ledger_db.write_meta(path, meta)
    return path, meta


# ------------------------------------------------------------------------------------------ timing


class TextPlatform:
    """What `/activation list` asks of a platform: how a time and a channel are written."""

    def timestamp(self, when: datetime) -> str:
        return f"<t:{int(when.timestamp())}:f>"

    def channel_link(self, channel_id: int) -> str:
        return f"<#{channel_id}>"


@dataclass(frozen=True)
class Timed:
    command: str
    runs: int
    p50_ms: float
    p95_ms: float
    statements: tuple[str, ...]  # every distinct statement the command ran, as executed


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(store: Store, command: str, call: Callable[[int], Awaitable[object]], runs: int) -> Timed:
    """Run `call(i)` a few times to warm up, once with statement capture, then `runs` timed times."""
    for i in range(3):
        await call(i)
    seen: list[str] = []
    await store.db.set_trace_callback(seen.append)
    await call(0)
    await store.db.set_trace_callback(None)
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        await call(i)
        times.append((time.perf_counter() - t0) * 1000)
    reads = (s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT")))
    statements = tuple(dict.fromkeys(reads))
    return Timed(command, runs, statistics.median(times), percentile(times, 0.95), statements)


def query_plan(path: Path, statement: str) -> str:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
    except sqlite3.Error as exc:
        return f"(no plan: {exc})"
    finally:
        db.close()
    return "; ".join(str(r[-1]) for r in rows)


async def measure(path: Path, meta: dict[str, Any], runs: int) -> list[Timed]:
    guild = int(meta["guild"])
    now = datetime.fromisoformat(meta["now"])
    store = await Store.open(path)
    try:
        ingest = Ingest(store)
        communities = CommunityService(store, ingest, clock=lambda: now)
        voices = Voices(store, clock=lambda: now)
        brands = BrandService(store, communities, clock=lambda: now)
        activations = ActivationService(store, cast(Platform, TextPlatform()), Scheduler(), clock=lambda: now)
        scopes = [
            str(r[0])
            for r in await store.fetch_all(
                "SELECT scope FROM trust_runs WHERE community_id = ? ORDER BY ranked DESC", (guild,)
            )
        ]
        main = [s for s in scopes if "@" not in s]
        tops = [*main[:5], "all@30d"]
        ranked = [
            int(r[0])
            for r in await store.fetch_all(
                "SELECT member_id FROM trust_scores WHERE community_id = ? AND scope = 'all'", (guild,)
            )
        ]
        rng = random.Random(7)
        members = [rng.choice(ranked) for _ in range(runs + 10)]
        brand_rows = await store.fetch_all(
            "SELECT b.id, b.topics, c.member_id FROM brands AS b"
            " JOIN brand_contacts AS c ON c.brand_id = b.id"
            " WHERE b.community_id = ? AND b.status = 'approved' ORDER BY b.id",
            (guild,),
        )
        kinds = dict(
            (int(c), int(t))
            for c, t in await store.fetch_all(
                "SELECT channel_id, type FROM channels WHERE community_id = ?", (guild,)
            )
        )

        def brand_scopes(topics: str) -> list[str]:
            ids = json.loads(topics)
            return [f"{'category' if kinds.get(t) == 4 else 'channel'}:{t}" for t in ids] or ["all"]

        moderator = Actor(guild, 0, is_moderator=True)
        manager = Actor(guild, int(brand_rows[0][2]))

        async def top(i: int) -> object:
            return await voices.top(guild, tops[i % len(tops)], page=0, per_page=PER_PAGE)

        async def standing(i: int) -> object:
            return await voices.standing(guild, members[i % len(members)])

        async def status(_: int) -> object:
            return await communities.activity(guild, 7, channels=STATUS_CHANNELS)

        async def partners(i: int) -> object:
            _, topics, _ = brand_rows[i % len(brand_rows)]
            return await brands.partners_page(guild, brand_scopes(str(topics)), i % 3, per_page=PER_PAGE)

        async def listing(i: int) -> object:
            return await activations.listing(moderator if i % 2 == 0 else manager, "en")

        commands: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
            ("/voices top", top),
            ("/voices member", standing),
            ("/microvoice status", status),
            ("/brand partners", partners),
            ("/activation list", listing),
        ]
        out = []
        for name, call in commands:
            out.append(await timed(store, name, call, runs))
            progress(f"{name}: p50 {out[-1].p50_ms:.1f} ms, p95 {out[-1].p95_ms:.1f} ms")
    finally:
        await store.close()
    return out


# ----------------------------------------------------------------------------------------------- main


def rows_of(results: Sequence[Timed], meta: dict[str, Any]) -> list[Row]:
    scale = f"{meta['events']:,} events / {meta['members']:,} members / {meta['days']} days"
    rows = []
    for t in results:
        rows.append(
            Row(
                what=f"`{t.command}` p50 / p95 at {scale}",
                now=f"{t.p50_ms:.1f} / {t.p95_ms:.1f} ms",
                beside=f"{t.runs} runs",
                target=f"p95 < {TARGET_MS:.0f} ms",
                verdict="PASS" if t.p95_ms < TARGET_MS else "FAIL",
                key=f"{t.command} {meta['events']}",
            )
        )
    return rows


def plans(path: Path, results: Sequence[Timed]) -> list[str]:
    lines = []
    for t in results:
        lines.append(f"Query plans of `{t.command}`:")
        for s in t.statements:
            lines.append(f"- `{' '.join(s.split())[:160]}` → {query_plan(path, s)}")
    return lines


def prepare() -> None:
    """Build the standard dataset's database into bench/.cache (what `make bench` reads)."""
    asyncio.run(database(STANDARD))


def main(argv: Sequence[str] | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(description="Command latencies on a large database.")
    ap.add_argument("--full", action="store_true", help="about 5M events instead of 1M (minutes)")
    ap.add_argument("--runs", type=int, default=50, help="timed runs per command (at least 50)")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    ds = FULL if args.full else STANDARD
    print(f"\nCommand latencies ({ds.members:,} members, {ds.days} days; target p95 < {TARGET_MS:.0f} ms)")
    if not args.full:
        print("  (the issue's 5M events: `python -m bench.queries --full`, kept in bench/RESULTS.md)")
    path, meta = asyncio.run(database(ds))
    results = asyncio.run(measure(path, meta, max(50, args.runs)))
    rows = rows_of(results, meta)
    print_table(rows)
    notes = plans(path, results)
    for line in notes:
        print("  " + line)
    write_section(
        "queries" + ("-full" if args.full else ""),
        "Command latencies (bench/queries.py" + (" --full)" if args.full else ")"),
        rows,
        [
            f"{meta['events']:,} events, {meta['members']:,} members, {meta['days']} days, {meta['brands']}"
            f" brands, {meta['partners']:,} partners, {meta['activations']:,} activations; the database"
            " is built once and cached in bench/.cache.",
            "",
            *notes,
        ],
    )
    print(f"  (query benchmark took {time.perf_counter() - started:.1f}s)")
    return rows


if __name__ == "__main__":
    main()
