"""Trust recompute cost as the ledger grows, beside a strong naive reference measured in the same run.

One simulated community is written into a real database in time order (bench/ledger_db), stopping
when the ledger holds so many distinct engaging pairs: 25,000 members over 60 days and 0.25M, 0.5M and
1M pairs by default (what `make bench` runs, a few minutes on a fresh clone), 100,000 members and 0.5M,
1M, 2M and 4M pairs with `--full` (about ten minutes on a fresh clone, most of it building the
databases). Each stage is cached in bench/.cache; every run works on a copy of it. At each stage:

- (a) the reference: the pair counts by one SQL GROUP BY over the ledger through a covering index
  (community, actor, target), fetched as `group_concat` columns parsed by numpy (as the product reads
  its own columns), then a bare PageRank (scipy sparse, `bench.trust_quality.reference_pagerank`)
  stopping at the tolerance the product uses (`TrustParams.tol`);
- (b) the production recompute (`Voices.recompute`: every scope, both windows, stored), first reading
  the graph from the database, (b') again from the in-memory graph (as on a new day);
- (c) 3 × 10,000 of the ledger's next events written through `Ingest` (one batch each; its hook keeps
  the cached graph up to date, as in production), each followed by the incremental recompute (median).

The reference ranks one scope; the product ranks every topic in two windows, so the target compares
(b) per scope ranked with (a). Cost per pair is printed for each stage, and the slope of log(seconds)
over log(pairs) tells whether the cost grows no faster than linearly.

    .venv/bin/python -m bench.recompute [--full] [--profile] [--evidence ROUNDS]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import pstats
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from bench import ledger_db
from bench.ledger_db import progress
from bench.results import Row, print_table, write_section
from bench.trust_quality import (
    Ledger,
    event_rows,
    graph_matches_database,
    ledger,
    rankings_match,
    reference_pagerank,
    stored_ranking,
)
from bot import allocator
from bot.ingest import Ingest
from bot.ledger import EngagementEvent
from bot.store import Store
from bot.trust import TrustParams, Voices
from sandbox.simulator import SimCommunity, simulate

NEW_EVENTS = 10_000
ROUNDS = 3
SEED = 151


@dataclass(frozen=True)
class Plan:
    members: int
    days: int
    pairs: tuple[int, ...]


FULL = Plan(110_000, 60, (500_000, 1_000_000, 2_000_000, 4_000_000))
STANDARD = Plan(30_000, 60, (250_000, 500_000, 1_000_000))

# The reference's covering index: its GROUP BY walks (actor, target) in order, reading no table row.
REFERENCE_INDEX = """
    CREATE INDEX IF NOT EXISTS bench_reference_pairs ON events (community_id, actor_id, target_id)
     WHERE target_id IS NOT NULL
"""
REFERENCE_PAIRS = """
    SELECT count(*), group_concat(actor_id), group_concat(target_id), group_concat(n) FROM (
        SELECT actor_id, target_id, count(*) AS n FROM events INDEXED BY bench_reference_pairs
         WHERE community_id = :c AND target_id IS NOT NULL AND target_id <> actor_id
         GROUP BY actor_id, target_id)
"""


# ------------------------------------------------------------------------------------------- stages


def stage_stops(led: Ledger, targets: Sequence[int], keep: np.ndarray | None = None) -> list[int]:
    """For each target, the length of the shortest prefix of the ledger with that many distinct
    (actor, target) pairs among its stored events (self-engagement left out, as in the reference)."""
    if keep is None:
        keep = ledger_db.first_occurrences(led, len(led))
    engaging = np.flatnonzero(keep & (led.target != 0) & (led.target != led.actor))
    ids = np.unique(np.concatenate([led.actor[engaging], led.target[engaging]]))
    actor, target = (np.searchsorted(ids, c[engaging]) for c in (led.actor, led.target))
    _, first = np.unique(actor * len(ids) + target, return_index=True)
    first_rows = np.sort(engaging[first])
    if len(first_rows) < max(targets):
        raise ValueError(f"the simulated ledger has only {len(first_rows):,} pairs")
    return [int(first_rows[t - 1]) + 1 for t in targets]


def stage_name(plan: Plan, pairs: int) -> str:
    return f"recompute-{SEED}-{plan.members}-{plan.days}-pairs{pairs}"


def _fresh_rows(led: Ledger, start: int, stop: int) -> dict[str, list[int]]:
    return {name: getattr(led, name)[start:stop].tolist() for name in Ledger.__dataclass_fields__}


async def stages(plan: Plan) -> list[tuple[Path, dict[str, Any]]]:
    """Each stage's cached database (holding all but its last ROUNDS × NEW_EVENTS events) and its
    facts, built on first use: simulated once, then written in time order, stage after stage."""
    paths = [ledger_db.cache_path(stage_name(plan, p)) for p in plan.pairs]
    metas = [ledger_db.read_meta(p) for p in paths]
    if all(m is not None for m in metas):
        return [(p, cast(dict[str, Any], m)) for p, m in zip(paths, metas, strict=True)]
    t0 = time.perf_counter()
    com = simulate(SEED, members=plan.members, days=plan.days, manipulation=0.5)
    led = ledger(com)
    keep = ledger_db.first_occurrences(led, len(led))
    stops = stage_stops(led, plan.pairs, keep)
    progress(f"simulated {plan.members:,} members over {plan.days} days: {len(led):,} events")
    differ = await ledger_db.check_loader(com, led)
    if differ:
        progress(
            f"the fast loader no longer matches the store's writer ({', '.join(differ)} differ):"
            " loading through Store.record_bulk (slow)"
        )
    with tempfile.TemporaryDirectory(prefix="microvoice-bench-", dir=ledger_db.CACHE_DIR) as tmp:
        growing = Path(tmp) / "growing.sqlite3"
        await ledger_db.prepare(growing, com, led)
        start = 0
        out = []
        for path, pairs, stop in zip(paths, plan.pairs, stops, strict=True):
            held = stop - ROUNDS * NEW_EVENTS
            if differ:
                await ledger_db.load_through_store(growing, com, led, start, held)
            else:
                await ledger_db.load(growing, com, led, start, held, keep=keep)
            start = held
            ledger_db.copy_database(growing, path)
            meta = {
                "guild": com.guild_id,
                "pairs": pairs,
                "events": held,
                "stop": stop,
                "clock": datetime.fromtimestamp(int(led.ts_ms[stop - 1]) / 1000, UTC).isoformat(),
                "excluded": sorted(com.labels["brand_staff"]),
                "fresh": _fresh_rows(led, held, stop),
            }
            ledger_db.write_meta(path, meta)
            out.append((path, meta))
            took = time.perf_counter() - t0
            progress(f"stage {pairs:,} pairs: {held:,} events written ({took:.0f}s so far)")
    return out


# ------------------------------------------------------------------------------------------ measure


@dataclass(frozen=True)
class Stage:
    pairs: int  # distinct engaging pairs the reference ranked
    events: int
    engagement_rows: int
    index_seconds: float  # building the reference's covering index (not counted in the reference)
    query_seconds: float
    pagerank_seconds: float
    pagerank_iterations: int
    plan: str
    cold_seconds: float
    warm_seconds: float
    cold_stages: dict[str, float]
    scopes: int
    ranked: int
    insert_seconds: float
    incremental: tuple[float, ...]
    in_place: bool
    consistent: bool
    same_ranking: bool
    #: (b') with the evidence step (earned seeds, coordination) enabled and disabled, alternated in
    #: the same run: medians of wall seconds (on, off) and of process CPU seconds (on, off).
    evidence: tuple[float, float, float, float] | None = None

    @property
    def reference(self) -> float:
        return self.query_seconds + self.pagerank_seconds

    @property
    def per_scope(self) -> float:
        return self.cold_seconds / max(1, self.scopes)

    @property
    def incremental_median(self) -> float:
        return statistics.median(self.incremental) if self.incremental else math.nan


def reference_pairs(path: Path, community_id: int) -> tuple[np.ndarray, float, str]:
    """(actor, target, events) rows of the reference, its query seconds and the query plan."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        plan = "; ".join(
            str(r[-1]) for r in db.execute(f"EXPLAIN QUERY PLAN {REFERENCE_PAIRS}", dict(c=community_id))
        )
        t0 = time.perf_counter()
        count, *texts = db.execute(REFERENCE_PAIRS, dict(c=community_id)).fetchone()
        cols = [np.fromstring(t, dtype=np.int64, sep=",") for t in texts] if count else []
        pairs = np.stack(cols, axis=1) if cols else np.zeros((0, 3), np.int64)
        return pairs, time.perf_counter() - t0, plan
    finally:
        db.close()


class ThreadProfiles:
    """cProfile in the main thread and in every thread started meanwhile (the recompute works in
    `asyncio.to_thread` workers), merged into one report."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _start_in_thread(self, *_: Any) -> None:
        profile = cProfile.Profile()
        with self._lock:
            self.profiles.append(profile)
        sys.setprofile(None)  # this thread only: later threads must still be hooked
        profile.enable()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._start_in_thread)
        main = cProfile.Profile()
        self.profiles.append(main)
        main.enable()
        return self

    def __exit__(self, *_: object) -> None:
        threading.setprofile(None)
        for p in self.profiles:
            p.disable()

    def report(self, top: int = 25) -> str:
        out = io.StringIO()
        stats = pstats.Stats(self.profiles[0], stream=out)
        for p in self.profiles[1:]:
            try:
                stats.add(p)
            except TypeError:  # a thread that never ran profiled code
                continue
        stats.sort_stats("cumulative").print_stats(top)
        return out.getvalue()


async def measure(
    path: Path, meta: dict[str, Any], *, profile: bool = False, check: bool = False, evidence: int = 0
) -> tuple[Stage, str]:
    """One stage on a copy of its database; with `check`, also whether the graph kept up to date
    equals a fresh read and the incremental ranking a full recompute (True when not checked); with
    `evidence` rounds, (b') with the evidence step enabled and disabled, alternated."""
    guild = int(meta["guild"])
    clock = datetime.fromisoformat(meta["clock"])
    excluded = [int(m) for m in meta["excluded"]]

    async def brand_contacts(_: int) -> list[int]:
        return excluded

    report = ""
    with tempfile.TemporaryDirectory(prefix="microvoice-bench-", dir=ledger_db.CACHE_DIR) as tmp:
        db = Path(tmp) / "stage.sqlite3"
        ledger_db.copy_database(path, db)
        raw = sqlite3.connect(db)
        t0 = time.perf_counter()
        raw.execute(REFERENCE_INDEX)
        raw.commit()
        raw.close()
        index_seconds = time.perf_counter() - t0

        pairs, query, plan = reference_pairs(db, guild)
        t0 = time.perf_counter()
        _, iterations = reference_pagerank(pairs, tol=TrustParams().tol)
        pagerank = time.perf_counter() - t0

        store = await Store.open(db)
        try:
            rows = int(await store.scalar("SELECT count(*) FROM engagement_daily WHERE n > 0"))
            voices = Voices(store, clock=lambda: clock, excluded=brand_contacts)
            if profile:
                with ThreadProfiles() as profiles:
                    t0 = time.perf_counter()
                    full = await voices.recompute(guild)
                    cold = time.perf_counter() - t0
                report = profiles.report()
            else:
                t0 = time.perf_counter()
                full = await voices.recompute(guild)
                cold = time.perf_counter() - t0
            voices.forget_state(guild)
            t0 = time.perf_counter()
            await voices.recompute(guild)
            warm = time.perf_counter() - t0
            compared = await compare_evidence(store, voices, guild, clock, excluded, evidence)

            fresh = Ledger(**{k: np.array(v, dtype=np.int64) for k, v in meta["fresh"].items()})
            com = cast(SimCommunity, SimpleNamespace(guild_id=guild))
            # Each round's events are written as one batch (the graph update hook runs once per
            # write either way; smaller batches only make the writing part slower).
            ingest = Ingest(store, batch_size=NEW_EVENTS, on_written=voices.absorb)
            insert, times, in_place = 0.0, [], True
            for start in range(0, len(fresh), NEW_EVENTS):
                t0 = time.perf_counter()
                for r in event_rows(com, fresh, start, min(start + NEW_EVENTS, len(fresh))):
                    ingest.add(
                        EngagementEvent(
                            r[0], r[1], r[2], r[3], r[5], r[6], datetime.fromisoformat(r[8]), r[4]
                        )  # type: ignore[arg-type]
                    )
                await ingest.flush()
                insert += time.perf_counter() - t0
                t0 = time.perf_counter()
                after = await voices.recompute(guild)
                times.append(time.perf_counter() - t0)
                in_place = in_place and after.in_place
            consistent = same = True
            if check:
                consistent = await graph_matches_database(store, voices, guild)
                kept = await stored_ranking(store, guild)
                voices.forget_state(guild)
                await voices.recompute(guild)
                same = rankings_match(kept, await stored_ranking(store, guild))
            events = int(await store.scalar("SELECT count(*) FROM events"))
        finally:
            await store.close()
    stage = Stage(
        pairs=len(pairs),
        events=events,
        engagement_rows=rows,
        index_seconds=index_seconds,
        query_seconds=query,
        pagerank_seconds=pagerank,
        pagerank_iterations=iterations,
        plan=plan,
        cold_seconds=cold,
        warm_seconds=warm,
        cold_stages=dict(full.stages),
        scopes=full.scopes,
        ranked=full.ranked,
        insert_seconds=insert / max(1, len(times)),
        incremental=tuple(times),
        in_place=in_place and bool(times),
        consistent=consistent,
        same_ranking=same,
        evidence=compared,
    )
    return stage, report


async def compare_evidence(
    store: Store, voices: Voices, guild: int, clock: datetime, excluded: list[int], rounds: int
) -> tuple[float, float, float, float] | None:
    """(b') with the evidence step enabled (`voices`) and disabled (earned seeds and coordination
    off), `rounds` times each, alternating which goes first: medians of wall and process CPU
    seconds (CPU is the steadier measure on a shared machine)."""
    if rounds <= 0:
        return None

    async def brand_contacts(_: int) -> list[int]:
        return excluded

    plain = Voices(
        store,
        clock=lambda: clock,
        excluded=brand_contacts,
        params=TrustParams(earned_seeds=False, coordination=False),
    )
    await plain.recompute(guild)  # reads the graph once, like `voices` did
    wall: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for k in range(rounds):
        for on in (True, False) if k % 2 == 0 else (False, True):
            v = voices if on else plain
            v.forget_state(guild)
            t0, c0 = time.perf_counter(), time.process_time()
            await v.recompute(guild)
            wall[on].append(time.perf_counter() - t0)
            cpu[on].append(time.process_time() - c0)
    med = statistics.median
    return med(wall[True]), med(wall[False]), med(cpu[True]), med(cpu[False])


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(y) over log(x): 1 is linear, below 1 better than linear."""
    if len(xs) < 2:
        return math.nan
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def rows_of(results: Sequence[Stage]) -> list[Row]:
    rows = []
    for s in results:
        size = f"{s.pairs / 1e6:.2f}M pairs"
        stages = ", ".join(f"{k} {v:.2f}" for k, v in s.cold_stages.items())
        rows.append(
            Row(
                what=f"{size}: (b) full recompute, {s.scopes} scopes ({stages} s)",
                now=f"{s.cold_seconds:.2f} s = {s.per_scope:.3f} s/scope",
                beside=(
                    f"(a) reference {s.reference:.2f} s (GROUP BY {s.query_seconds:.2f} s"
                    f" + PageRank {s.pagerank_seconds:.2f} s, {s.pagerank_iterations} it.)"
                ),
                target="per scope ≤ (a)",
                verdict="PASS" if s.per_scope <= s.reference else "FAIL",
                key=f"full {s.pairs}",
            )
        )
        rows.append(
            Row(
                what=f"{size}: (b') full recompute from the in-memory graph",
                now=f"{s.warm_seconds:.2f} s = {s.warm_seconds / max(1, s.scopes):.3f} s/scope",
                beside=f"(a) {s.reference:.2f} s",
                target="per scope ≤ (a)",
                verdict="PASS" if s.warm_seconds / max(1, s.scopes) <= s.reference else "FAIL",
                key=f"warm {s.pairs}",
            )
        )
        share = s.incremental_median / s.cold_seconds
        rows.append(
            Row(
                what=(
                    f"{size}: (c) incremental recompute after {NEW_EVENTS:,} events, median of"
                    f" {len(s.incremental)}" + ("" if s.in_place else " (NOT in place)")
                ),
                now=f"{s.incremental_median:.2f} s ({share:.0%} of (b))",
                beside=f"writing them via Ingest {s.insert_seconds:.2f} s",
                target="< 10% of (b)",
                verdict="PASS" if share < 0.1 and s.in_place else "FAIL",
                key=f"incremental {s.pairs}",
            )
        )
    if len(results) > 1:
        pairs = [s.pairs for s in results]
        full = slope(pairs, [s.cold_seconds for s in results])
        rows.append(
            Row(
                what=f"growth of (b), {pairs[0] / 1e6:.2f}M → {pairs[-1] / 1e6:.2f}M pairs (log-log slope)",
                now=f"{full:.2f}",
                beside=f"(a) {slope(pairs, [s.reference for s in results]):.2f}",
                target="≤ 1.1 (no worse than linear)",
                verdict="PASS" if full <= 1.1 else "FAIL",
                key="slope full",
            )
        )
    return rows


def notes_of(results: Sequence[Stage]) -> list[str]:
    lines = [
        "| pairs | events | daily rows | (a) µs/pair | (b) µs/pair | (b') µs/pair | (c) s"
        " | covering index build s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in results:
        lines.append(
            f"| {s.pairs:,} | {s.events:,} | {s.engagement_rows:,} | {s.reference / s.pairs * 1e6:.2f}"
            f" | {s.cold_seconds / s.pairs * 1e6:.2f} | {s.warm_seconds / s.pairs * 1e6:.2f}"
            f" | {', '.join(f'{t:.2f}' for t in s.incremental)} | {s.index_seconds:.1f} |"
        )
    if results:
        lines += ["", f"Reference query plan: `{results[-1].plan}`."]
        checks = all(s.consistent and s.same_ranking for s in results)
        lines.append(
            "The graph kept up to date by the ingest hook equals a fresh read, and the incremental ranking"
            " equals a full recompute of the same data (checked at the first stage):"
            f" {'yes' if checks else 'NO'}."
        )
        for s in results:
            if s.evidence is not None:
                on, off, cpu_on, cpu_off = s.evidence
                lines.append(
                    f"(b') at {s.pairs:,} pairs with the evidence step enabled / disabled, alternated:"
                    f" {on:.2f} / {off:.2f} s wall, {cpu_on:.2f} / {cpu_off:.2f} s CPU"
                    f" ({cpu_on / cpu_off - 1:+.1%} CPU)."
                )
    return lines


def prepare() -> None:
    """Build the standard plan's stage databases into bench/.cache (what `make bench` reads)."""
    asyncio.run(stages(STANDARD))


def main(argv: Sequence[str] | None = None) -> list[Row]:
    allocator.tune()  # as the bot does at start (bot/allocator.py)
    ap = argparse.ArgumentParser(description="Trust recompute cost as the ledger grows.")
    ap.add_argument("--full", action="store_true", help="100,000 members, 0.5M to 4M pairs (minutes)")
    ap.add_argument("--profile", action="store_true", help="profile the largest stage's full recompute")
    ap.add_argument(
        "--evidence",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="at the largest stage, (b') with the evidence step on and off, alternated ROUNDS times",
    )
    args = ap.parse_args(argv)
    started = time.perf_counter()
    plan = FULL if args.full else STANDARD
    sizes = ", ".join(f"{p / 1e6:g}M" for p in plan.pairs)
    print(f"\nTrust recompute beside the reference ({plan.members:,} members; {sizes} pairs)")
    if not args.full:
        print(
            "  (the issue's 0.5M, 1M, 2M and 4M pairs: `python -m bench.recompute --full`, its section kept"
            " in bench/RESULTS.md)"
        )
    built = asyncio.run(stages(plan))
    results: list[Stage] = []
    report = ""
    for i, (path, meta) in enumerate(built):
        last = i == len(built) - 1
        stage, found = asyncio.run(
            measure(
                path,
                meta,
                profile=args.profile and last,
                check=i == 0,
                evidence=args.evidence if last else 0,
            )
        )
        report = found or report
        results.append(stage)
        progress(
            f"{stage.pairs:,} pairs: reference {stage.reference:.2f}s, full {stage.cold_seconds:.2f}s"
            f" ({stage.scopes} scopes), warm {stage.warm_seconds:.2f}s, incremental"
            f" {stage.incremental_median:.2f}s"
        )
    rows = rows_of(results)
    print_table(rows)
    notes = notes_of(results)
    for line in notes:
        print("  " + line)
    if report:
        print(report)
    write_section(
        "recompute" + ("-full" if args.full else ""),
        "Trust recompute beside the reference (bench/recompute.py" + (" --full)" if args.full else ")"),
        rows,
        notes,
    )
    print(f"  (recompute benchmark took {time.perf_counter() - started:.1f}s)")
    return rows


if __name__ == "__main__":
    main()
