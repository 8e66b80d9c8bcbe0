"""Ledger write throughput: batched INSERT OR IGNORE (with the aggregate triggers) into SQLite/WAL."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.ledger import EngagementEvent
from bot.store import Store

KINDS = ("message", "reply", "reaction")


def _events(n: int, seed: int) -> list[EngagementEvent]:
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
            1,
            int(channels[i]),
            int(actors[i]),
            KINDS[kinds[i]],  # type: ignore[arg-type]
            f"{i}:x" if kinds[i] == 2 else str(i),
            t0 + timedelta(seconds=int(secs[i])),
            None if kinds[i] == 0 else int(targets[i]),
        )
        for i in range(n)
    ]


async def _measure(n: int, batch: int) -> tuple[float, float]:
    events = _events(n, 1)
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.sqlite3")
        start = time.perf_counter()
        for i in range(0, n, batch):
            await store.record(events[i : i + batch])
        fresh = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, n, batch):
            await store.record(events[i : i + batch])  # a full replay: everything is a duplicate
        replay = time.perf_counter() - start
        assert await store.scalar("SELECT count(*) FROM events") == n
        await store.close()
    return n / fresh, n / replay


def run() -> list[tuple[str, str, str]]:
    rows = []
    for n, batch in ((50_000, 500), (50_000, 50)):
        fresh, replay = asyncio.run(_measure(n, batch))
        rows.append((f"{n:,} events, batch {batch}", f"{fresh:,.0f}/s", f"{replay:,.0f}/s"))
    return rows


def main() -> None:
    print("\nIngest throughput (measured now, this machine)")
    print(f"  {'workload':<28}{'new events':>14}{'replayed (ignored)':>20}")
    for name, fresh, replay in run():
        print(f"  {name:<28}{fresh:>14}{replay:>20}")


if __name__ == "__main__":
    main()
