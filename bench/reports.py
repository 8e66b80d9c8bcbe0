"""Report speed: the 30-day community report on a 5,000,000-event database (`make bench`).

The database is built once by bench/ledger_db (a set-based load that writes the events, the daily
aggregates and the report aggregates exactly as the ingest writer's batches would, checked against
`Store.record_bulk` on the first events) and kept in the git-ignored bench/.cache, keyed by the
schema; later runs reuse it. Then the report's figures (every query plus the
computations and k-anonymity) are timed over repeated runs, and the chart and the CSV apart.
Target: p95 < 250 ms for the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench import ledger_db
from bench.trust_quality import Ledger
from bot.ledger import ChannelInfo, MemberSighting
from bot.reports import charts
from bot.reports.csv_export import to_csv
from bot.reports.metrics import day_of
from bot.reports.privacy import publish
from bot.reports.service import ReportService
from bot.store import Store
from sandbox.simulator import KIND_JOIN, KIND_NAMES, KIND_REACTION, KIND_REPLY, KIND_UNREACTION

CACHE_VERSION = 3  # bump when the way the database is built changes
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


def _ledger(cols: dict[str, np.ndarray]) -> Ledger:
    """The events as the loader's ledger: one message id per event (so no two events share a natural
    key and no unreaction retracts a reaction), a target only for replies and reactions, joins in
    channel 0 as the bot records them."""
    code = np.array([KIND_NAMES.index(str(name)) for name in KINDS])[cols["kind"]]
    has_target = np.isin(code, (KIND_REPLY, KIND_REACTION, KIND_UNREACTION))
    return Ledger(
        ts_ms=cols["ts"].astype(np.int64),
        kind=code,
        actor=cols["actor"].astype(np.int64),
        channel=np.where(code == KIND_JOIN, 0, cols["channel"]).astype(np.int64),
        target=np.where(has_target, cols["target"], 0).astype(np.int64),
        message_id=np.arange(EVENTS, dtype=np.int64),
        emoji=np.zeros(EVENTS, np.int64),
    )


async def database() -> tuple[Path, float | None]:
    """The cached 5M-event database (built now if missing): (path, build seconds or None)."""
    path = ledger_db.cache_path(f"reports-v{CACHE_VERSION}-events{EVENTS}-members{MEMBERS}")
    if path.exists():
        return path, None
    _progress(f"building a {EVENTS:,}-event database once (cached in {ledger_db.CACHE_DIR})")
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
    roster = ledger_db.Roster(GUILD, sightings, channels)
    timings = await ledger_db.build(path, roster, _ledger(cols))
    _progress(f"loaded in {timings['load']:.0f}s (loader checked against the store: {timings['check']:.0f}s)")
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


def prepare() -> None:
    """Build the 5M-event database into bench/.cache (what `make bench` reads)."""
    asyncio.run(database())


def main() -> None:
    path, built = asyncio.run(database())
    r = asyncio.run(measure(path))
    verdict = "ok" if r["p95"] < TARGET_P95_MS else "OVER"
    print(f"\nReports: 30-day community report, {EVENTS:,} events, {MEMBERS:,} members, {DAYS} days")
    if built is not None:
        print(f"  database built in {built:,.0f} s (bench/ledger_db, checked; cached in bench/.cache)")
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
