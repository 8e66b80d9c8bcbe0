"""Report speed: the 30-day community report on a 5,000,000-event database (`make bench`).

The database is built once through `Store.record_bulk` (so the ledger triggers and the report
aggregates are written exactly as the ingest writer's batches write them) and kept in the
git-ignored bench/.cache; later runs reuse it. Then the report's figures (every query plus the
computations and k-anonymity) are timed over repeated runs, and the chart and the CSV apart.
Target: p95 < 250 ms for the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.ledger import ChannelInfo, MemberSighting
from bot.reports import charts
from bot.reports.csv_export import to_csv
from bot.reports.metrics import day_of
from bot.reports.privacy import publish
from bot.reports.service import ReportService
from bot.store import Store

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
CACHE_VERSION = 2  # bump when the way the database is built changes
EVENTS = 5_000_000
MEMBERS = 20_000
CHANNELS = 60
DAYS = 180
GUILD = 424242
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RUNS = 40
TARGET_P95_MS = 250.0
KINDS = np.array(["message", "reply", "reaction", "thread", "unreaction", "join"])
KIND_SHARE = np.array([0.25, 0.30, 0.40, 0.02, 0.02, 0.01])


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def _columns(seed: int = 5) -> dict[str, np.ndarray]:
    """5M events over 180 days: heavy-tailed member activity, popular and quiet channels."""
    rng = np.random.default_rng(seed)
    start_ms = int((NOW - timedelta(days=DAYS)).timestamp() * 1000)
    ts = np.sort(rng.integers(start_ms, int(NOW.timestamp() * 1000), EVENTS))
    actor = (rng.zipf(1.3, EVENTS) % MEMBERS) + 1
    target = (rng.zipf(1.3, EVENTS) % MEMBERS) + 1
    kind = rng.choice(len(KINDS), EVENTS, p=KIND_SHARE)
    channel = (rng.zipf(1.5, EVENTS) % CHANNELS) + 1
    return {"ts": ts, "actor": actor, "target": target, "kind": kind, "channel": channel}


def _rows(cols: dict[str, np.ndarray], chunk: int = 200_000) -> Iterator[tuple[object, ...]]:
    for lo in range(0, EVENTS, chunk):
        hi = min(lo + chunk, EVENTS)
        stamps = np.datetime_as_string(cols["ts"][lo:hi].astype("datetime64[ms]"), unit="ms").tolist()
        for i, (stamp, actor, target, kind, channel) in enumerate(
            zip(
                stamps,
                cols["actor"][lo:hi].tolist(),
                cols["target"][lo:hi].tolist(),
                cols["kind"][lo:hi].tolist(),
                cols["channel"][lo:hi].tolist(),
                strict=True,
            ),
            start=lo,
        ):
            name = str(KINDS[kind])
            has_target = name in ("reply", "reaction", "unreaction")
            source = f"{i}:x" if name in ("reaction", "unreaction") else str(i)
            yield (
                "discord",
                GUILD,
                0 if name == "join" else channel,
                actor,
                target if has_target else None,
                name,
                source,
                int(has_target and target == actor),
                stamp + "+00:00",
            )


async def database() -> tuple[Path, float | None]:
    """The cached 5M-event database (built now if missing): (path, build seconds or None)."""
    CACHE_DIR.mkdir(exist_ok=True)
    path = CACHE_DIR / f"reports-v{CACHE_VERSION}-events{EVENTS}-members{MEMBERS}.sqlite3"
    if path.exists():
        return path, None
    partial = path.with_suffix(".partial")
    for leftover in CACHE_DIR.glob(f"{partial.name}*"):
        leftover.unlink()
    _progress(f"building a {EVENTS:,}-event database once (cached in {CACHE_DIR})")
    t0 = time.perf_counter()
    cols = _columns()
    first = np.full(MEMBERS + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, cols["actor"], cols["ts"])
    sightings = [
        MemberSighting("discord", GUILD, m, datetime.fromtimestamp(first[m] / 1000, UTC))
        for m in range(1, MEMBERS + 1)
        if first[m] != np.iinfo(np.int64).max
    ]
    channels = [ChannelInfo("discord", GUILD, c, None, 0, f"topic-{c}") for c in range(1, CHANNELS + 1)]
    store = await Store.open(partial)
    try:
        await store.record_bulk(_rows(cols), sightings, channels, defer_indexes=True)
        await store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await store.close()
    partial.replace(path)
    return path, time.perf_counter() - t0


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def measure(path: Path, runs: int = RUNS) -> dict[str, float]:
    store = await Store.open(path)
    try:
        reports = ReportService(store, clock=lambda: NOW)
        end = day_of(NOW) + 1
        t0 = time.perf_counter()
        figures = await reports.community_figures(GUILD, end - 30, end)
        cold = (time.perf_counter() - t0) * 1000
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            figures = await reports.community_figures(GUILD, end - 30, end)
            published = publish(figures, 5)
            times.append((time.perf_counter() - t0) * 1000)
        chart, table = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            charts.render(published, "en")
            chart.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            to_csv(published)
            table.append((time.perf_counter() - t0) * 1000)
        active = published.get("headline", "active_members")
        return {
            "first": cold,
            "p50": _percentile(times, 50),
            "p95": _percentile(times, 95),
            "chart": statistics.median(chart),
            "csv": statistics.median(table),
            "active": float(active.value or 0) if active else 0.0,
            "member_days": float(await store.scalar("SELECT count(*) FROM report_member_days")),
        }
    finally:
        await store.close()


def main() -> None:
    path, built = asyncio.run(database())
    r = asyncio.run(measure(path))
    verdict = "ok" if r["p95"] < TARGET_P95_MS else "OVER"
    print(f"\nReports: 30-day community report, {EVENTS:,} events, {MEMBERS:,} members, {DAYS} days")
    if built is not None:
        print(f"  database built through the ingest path in {built:,.0f} s (cached in bench/.cache)")
    print(f"  {int(r['member_days']):,} member-days kept; {int(r['active']):,} members active in the 30 days")
    print(f"  {'step':<40}{'measured':>12}{'target':>12}")
    print(f"  {'figures, first run (cold cache)':<40}{r['first']:>10.0f}ms")
    print(f"  {f'figures p50 ({RUNS} runs)':<40}{r['p50']:>10.0f}ms")
    target = f"< {TARGET_P95_MS:.0f} ms"
    print(f"  {f'figures p95 ({RUNS} runs)':<40}{r['p95']:>10.0f}ms{target:>12}  {verdict}")
    print(f"  {'chart (PNG), apart, median':<40}{r['chart']:>10.0f}ms")
    print(f"  {'CSV, apart, median':<40}{r['csv']:>10.1f}ms")


if __name__ == "__main__":
    main()
