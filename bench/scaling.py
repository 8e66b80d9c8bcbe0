"""Beyond one process: ledger throughput on SQLite and PostgreSQL (one and several writer processes),
and the resident memory of one process serving 20 communities with and without a trust memory budget.

    python -m bench.scaling            # both parts (PostgreSQL parts need its binaries: sandbox/postgres.py)
    python -m bench.scaling --memory   # the memory part only
    python -m bench.scaling --ingest   # the throughput part only

The figures in docs/scaling.md come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.trust_quality import channel_infos, event_rows, ledger, sightings
from bot.ledger import EngagementEvent
from bot.memory_budget import MB
from bot.store import PAGE_CACHE_KIB, Store
from bot.trust import Voices
from sandbox.postgres import PostgresServer, find_binaries
from sandbox.simulator import simulate

KINDS = ("message", "reply", "reaction")
EVENTS = 60_000
BATCH = 500
COMMUNITIES = 20
BUDGET_MB = 64


def rss_mb() -> float:
    """This process's resident set size, in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- ingest ----------------------------------------------------------------------------------------


def _events(n: int, community: int, seed: int) -> list[EngagementEvent]:
    rng = np.random.default_rng(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    actors = rng.zipf(1.6, n) % 5000 + 1
    targets = rng.zipf(1.6, n) % 5000 + 1
    kinds = rng.integers(0, 3, n)
    channels = rng.integers(1, 20, n)
    secs = np.sort(rng.integers(0, 30 * 86400, n))
    return [
        EngagementEvent(
            "discord",
            community,
            int(channels[i]),
            int(actors[i]),
            KINDS[kinds[i]],  # type: ignore[arg-type]
            f"{community}:{i}:x" if kinds[i] == 2 else f"{community}:{i}",
            t0 + timedelta(seconds=int(secs[i])),
            None if kinds[i] == 0 else int(targets[i]),
        )
        for i in range(n)
    ]


async def _write(target: str | Path, events: list[EngagementEvent]) -> tuple[float, float]:
    """(new events/s, replayed events/s) for one writer recording `events` in batches."""
    store = await Store.open(target, pool_size=2)
    try:
        start = time.perf_counter()
        for i in range(0, len(events), BATCH):
            await store.record(events[i : i + BATCH])
        fresh = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, len(events), BATCH):
            await store.record(events[i : i + BATCH])
        replay = time.perf_counter() - start
    finally:
        await store.close()
    return len(events) / fresh, len(events) / replay


def _writer_process(args: tuple[str, int, int, multiprocessing.Barrier]) -> tuple[float, float, float]:  # type: ignore[type-arg]
    url, community, n, barrier = args
    events = _events(n, community, community)
    barrier.wait()
    started = time.perf_counter()
    fresh, _ = asyncio.run(_write(url, events))
    return fresh, started, time.perf_counter()


def _parallel(url: str, processes: int, per_process: int) -> float:
    """Aggregate new events/s of `processes` OS processes, each writing its own community."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(processes)
        with context.Pool(processes) as pool:
            results = pool.map(
                _writer_process, [(url, 1000 + p, per_process, barrier) for p in range(processes)]
            )
    begin = min(r[1] for r in results)
    end = max(r[2] for r in results)
    return processes * per_process / (end - begin)


def ingest_table(server: PostgresServer | None) -> list[str]:
    lines = [
        f"  {'backend, writers':<40}{'new events/s':>14}{'replayed/s':>12}",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        fresh, replay = asyncio.run(_write(Path(tmp) / "bench.sqlite3", _events(EVENTS, 1, 1)))
    lines.append(f"  {'SQLite (WAL), 1 process':<40}{fresh:>14,.0f}{replay:>12,.0f}")
    if server is None:
        lines.append("  PostgreSQL: skipped (binaries not found; see sandbox/postgres.py)")
        return lines
    url = server.create_database("bench_ingest_1")
    fresh, replay = asyncio.run(_write(url, _events(EVENTS, 1, 1)))
    lines.append(f"  {'PostgreSQL (unix socket), 1 process':<40}{fresh:>14,.0f}{replay:>12,.0f}")
    for processes in (2, 4):
        url = server.create_database(f"bench_ingest_{processes}")
        asyncio.run(_migrate(url))
        rate = _parallel(url, processes, EVENTS // 2)
        lines.append(f"  {f'PostgreSQL, {processes} processes (own communities)':<40}{rate:>14,.0f}{'':>12}")
    return lines


async def _migrate(url: str) -> None:
    store = await Store.open(url, pool_size=1)
    await store.close()


# -- memory ----------------------------------------------------------------------------------------


async def _load_communities(path: Path, members: int, days: float) -> list[int]:
    store = await Store.open(path)
    ids = []
    try:
        now = datetime.now(UTC)
        for n in range(COMMUNITIES):
            com = simulate(100 + n, members=members, days=days, start=now - timedelta(days=days, minutes=n))
            led = ledger(com)
            await store.record_bulk(event_rows(com, led), sightings(com, led), channel_infos(com))
            ids.append(com.guild_id)
    finally:
        await store.close()
    return ids


async def _serve(path: Path, ids: Sequence[int], budget_mb: float, rounds: int) -> dict[str, float]:
    """Recompute every community `rounds` times (as the scheduler does), sampling RSS after each."""
    store = await Store.open(path)
    try:
        gc.collect()
        baseline = rss_mb()
        voices = Voices(store, memory_budget_mb=budget_mb)
        samples = []
        started = time.perf_counter()
        for _ in range(rounds):
            for community in ids:
                await voices.recompute(community)
                gc.collect()
                samples.append(rss_mb())
        seconds = time.perf_counter() - started
        return {
            "baseline": baseline,
            "peak": max(samples),
            "end": samples[-1],
            "kept": sum(1 for c in ids if voices.cached_graph(c) is not None),
            "state": voices.memory.used / MB,
            "evictions": voices.memory.evictions,
            "per_recompute": seconds / (rounds * len(ids)),
        }
    finally:
        await store.close()


def _serve_in_child(args: tuple[str, list[int], float, int]) -> dict[str, float]:
    path, ids, budget, rounds = args
    return asyncio.run(_serve(Path(path), ids, budget, rounds))


def memory_table(members: int, days: float) -> list[str]:
    lines = [
        f"  {COMMUNITIES} communities of {members:,} members over {days:g} days, recomputed twice each;"
        " RSS of a fresh process serving them",
        f"  {'budget':<16}{'RSS before':>11}{'RSS peak':>10}{'RSS end':>9}{'growth':>8}{'state kept':>12}"
        f"{'kept':>6}{'evicted':>9}{'s/recompute':>13}  ceiling: budget + SQLite page cache",
    ]
    cache_mb = PAGE_CACHE_KIB / 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.sqlite3"
        ids = asyncio.run(_load_communities(path, members, days))
        context = multiprocessing.get_context("spawn")
        for budget in (1_000_000, BUDGET_MB):
            with context.Pool(1) as pool:  # a fresh process each, so one run's heap does not colour the next
                r = pool.map(_serve_in_child, [(str(path), ids, budget, 2)])[0]
            name = "none" if budget >= 1_000_000 else f"{budget} MB"
            growth = r["peak"] - r["baseline"]
            ceiling = "" if budget >= 1_000_000 else f"{budget + cache_mb:.0f} MB"
            verdict = "" if not ceiling else ("  PASS" if growth <= budget + cache_mb else "  FAIL")
            lines.append(
                f"  {name:<16}{r['baseline']:>9.0f}MB{r['peak']:>8.0f}MB{r['end']:>7.0f}MB{growth:>6.0f}MB"
                f"{r['state']:>10.1f}MB{r['kept']:>6.0f}{r['evictions']:>9.0f}{r['per_recompute']:>13.2f}"
                f"  {ceiling}{verdict}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling")
    parser.add_argument("--memory", action="store_true", help="only the memory part")
    parser.add_argument("--ingest", action="store_true", help="only the throughput part")
    parser.add_argument("--members", type=int, default=3000, help="members per community (memory part)")
    parser.add_argument("--days", type=float, default=30, help="days of activity per community (memory part)")
    args = parser.parse_args(argv)
    both = not (args.memory or args.ingest)
    print(f"\nScaling (measured now, this machine: {os.cpu_count()} CPUs)")
    if both or args.ingest:
        binaries = find_binaries()
        server = PostgresServer(binaries) if binaries else None
        try:
            if server:
                server.start()
            print(f"\n  Ledger writes, {EVENTS:,} events in batches of {BATCH} (with the aggregate triggers)")
            for line in ingest_table(server):
                print(line)
        finally:
            if server:
                server.stop()
    if both or args.memory:
        print()
        for line in memory_table(args.members, args.days):
            print(line)


if __name__ == "__main__":
    main()
