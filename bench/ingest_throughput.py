"""Ingest, end to end, beside its ceilings measured in the same run.

- **End to end**: a flood of ordinary messages through the sandbox's gateway into the product's bot
  (its own process), from the first frame sent to the last row committed; rows committed while the
  flood lasts; the bot's event-loop lag and a `/microvoice status` answer in the middle of the flood;
  its memory idle and after. Beside it, the same flood into a bare discord.py client (same intents).
- **Ceilings**: discord.py parsing the same payloads (JSON decode and `parse_message_create`, no
  network), and SQLite writing the same rows with the product's schema through the ingest writer's
  own code (`write_batch`), in batches of 500 (the default batch) and 5,000.
- **Loss on SIGKILL** at 1,000 and 5,000 offered events/s and as fast as the sandbox sends: how old
  the oldest lost event was when the bot was killed (the flush window is 1 s).
`/microvoice status` at 5M events is measured by bench/queries.py (`--full`) on a simulated community.

`python -m bench.ingest_throughput [--events N]`; `make bench` runs it with the
defaults and writes its section of bench/RESULTS.md (the previous run's figures beside the new ones).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import discord

from bench.flood import BotProcess, FloodResult, build, flood, payloads
from bot.ledger import ChannelInfo, EngagementEvent, MemberSighting
from bot.store import Store
from bot.store.ledger import LedgerWriter
from sandbox.discord_server import DiscordSandbox

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
CACHE = Path(__file__).resolve().parent / ".cache"
BEGIN, END = "<!-- ingest:begin -->", "<!-- ingest:end -->"
FIGURES = re.compile(r"<!-- ingest:figures (\{.*?\}) -->", re.S)


def _progress(text: str) -> None:
    print(f"  … {text}", flush=True)


# -- end to end ------------------------------------------------------------------------------------


async def end_to_end(n: int) -> tuple[FloodResult, FloodResult, dict[str, Any], list[dict[str, Any]]]:
    """The product's bot and a bare client flooded alike; the guild the bot saw and a copy of the
    flood's payloads, for the ceilings."""
    sb = DiscordSandbox()
    await sb.start()
    try:
        world = build(sb)
        with tempfile.TemporaryDirectory() as tmp:
            bot = BotProcess(sb, world, Path(tmp), "microvoice")
            await bot.start()
            _progress(f"flooding the bot with {n:,} messages")
            product = await flood(sb, world, bot, n, slash_at=2.0, drain_timeout=600)
            await bot.stop()
        guild_payload = next(d for e, d in sb.dispatched if e == "GUILD_CREATE")
        same = payloads(sb, world, n)
        with tempfile.TemporaryDirectory() as tmp:
            bare = BotProcess(sb, world, Path(tmp), "bare")
            await bare.start()
            _progress(f"flooding a bare discord.py client with {n:,} messages")
            bare_result = await flood(sb, world, bare, n, drain_timeout=600, progress=received)
            await bare.stop()
    finally:
        await sb.stop()
    return product, bare_result, guild_payload, same


def received(bot: BotProcess) -> int:
    """Messages a bare client has seen (it counts them; its stats file is rewritten every 0.25 s)."""
    return int(bot.lag().get("messages", 0))


# -- ceilings ---------------------------------------------------------------------------------------


async def parse_ceiling(guild: dict[str, Any], frames: Sequence[str]) -> float:
    """discord.py: decode each frame's JSON (orjson when installed) and parse its MESSAGE_CREATE."""
    client = discord.Client(intents=discord.Intents(guilds=True, guild_messages=True))
    state = client._connection
    state.parse_guild_create(guild)
    start = time.perf_counter()
    for text in frames:
        state.parse_message_create(discord.utils._from_json(text)["d"])
    return len(frames) / (time.perf_counter() - start)


def ledger_rows(batch: Sequence[dict[str, Any]]) -> list[tuple[EngagementEvent, MemberSighting, ChannelInfo]]:
    rows = []
    for p in batch:
        at = datetime.fromisoformat(p["timestamp"])
        guild, channel, author = int(p["guild_id"]), int(p["channel_id"]), int(p["author"]["id"])
        rows.append(
            (
                EngagementEvent("discord", guild, channel, author, "message", p["id"], at),
                MemberSighting("discord", guild, author, at, joined_at=datetime(2024, 1, 1, tzinfo=UTC)),
                ChannelInfo("discord", guild, channel, None, 0, f"c{channel % 10}"),
            )
        )
    return rows


def sqlite_ceiling(rows: Sequence[tuple[EngagementEvent, MemberSighting, ChannelInfo]], batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ceiling.sqlite3"

        async def create() -> None:
            await (await Store.open(path)).close()

        asyncio.run(create())
        writer = LedgerWriter(path)
        try:
            start = time.perf_counter()
            for i in range(0, len(rows), batch):
                chunk = rows[i : i + batch]
                members = {(m.community_id, m.member_id): m for _, m, _ in chunk}
                channels = {c.channel_id: c for _, _, c in chunk}
                writer.write([e for e, _, _ in chunk], members.values(), channels.values())
            return len(rows) / (time.perf_counter() - start)
        finally:
            writer.close()


# -- loss on SIGKILL -------------------------------------------------------------------------------


async def loss_windows(
    rates: Sequence[float | None], n: int = 40_000, kill_after: float = 3.0
) -> list[FloodResult]:
    out = []
    for rate in rates:
        sb = DiscordSandbox()
        await sb.start()
        try:
            world = build(sb)
            with tempfile.TemporaryDirectory() as tmp:
                bot = BotProcess(sb, world, Path(tmp), "microvoice")
                await bot.start()
                _progress(f"SIGKILL after {kill_after:g}s at {rate or 'the highest'} offered events/s")
                out.append(await flood(sb, world, bot, n, rate=rate, kill_after=kill_after))
                await bot.stop()
        finally:
            await sb.stop()
    return out


# -- report -----------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for dist in ("discord.py", "aiosqlite", "aiohttp", "orjson", "zstandard"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def figures_of(product: FloodResult, bare: FloodResult, parse: float, sqlite_500: float, sqlite_5000: float,
               losses: Sequence[FloodResult]) -> dict[str, Any]:  # fmt: skip
    return {
        "events": product.offered,
        "e2e_rate": product.rate,
        "bare_rate": bare.rate,
        "parse_rate": parse,
        "sqlite_500": sqlite_500,
        "sqlite_5000": sqlite_5000,
        "rows_during_flood": product.rows_during_flood,
        "sending_s": product.seconds_sending,
        "send_rate": product.offered_rate,
        "cpu_rate": product.committed / product.cpu_s if product.cpu_s else 0.0,
        "bare_cpu_rate": bare.committed / bare.cpu_s if bare.cpu_s else 0.0,
        "bare_lag_p99_ms": bare.lag.get("lag_p99_ms", 0.0),
        "lag_p50_ms": product.lag.get("lag_p50_ms", 0.0),
        "lag_p99_ms": product.lag.get("lag_p99_ms", 0.0),
        "slash_ms": product.slash_ms,
        "rss_idle": product.rss_idle_mb,
        "rss_after": product.rss_after_mb,
        "bare_rss_idle": bare.rss_idle_mb,
        "bare_rss_after": bare.rss_after_mb,
        "pending_max": product.lag.get("pending_max", 0),
        "loss": [
            {
                "offered": round(r.offered_rate),
                "lost": r.lost,
                "window_s": r.lost_window_s,
                "in_memory": int(r.lag.get("pending") or 0),
                "in_memory_max": int(r.lag.get("pending_max") or 0),
            }
            for r in losses
        ],
    }


def table(now: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    def prev(key: str, fmt: str) -> str:
        if before is None or before.get(key) is None:
            return "—"
        return fmt.format(before[key])

    ceiling = min(now["parse_rate"], max(now["sqlite_500"], now["sqlite_5000"]))
    share = now["e2e_rate"] / ceiling
    rows = [
        ("gateway → `events` row, end to end", f"{now['e2e_rate']:,.0f}/s", prev("e2e_rate", "{:,.0f}/s"),
         f"bare discord.py client {now['bare_rate']:,.0f}/s; {share:.0%} of min(parse, SQLite)",
         "≥ 50% of min(parse, SQLite)"),
        ("events per second of the bot's CPU time (all its threads, writes included)",
         f"{now['cpu_rate']:,.0f}/s", prev("cpu_rate", "{:,.0f}/s"),
         f"bare discord.py client {now['bare_cpu_rate']:,.0f}/s; sandbox offered {now['send_rate']:,.0f}/s",
         ""),
        ("discord.py parse ceiling (same payloads)", f"{now['parse_rate']:,.0f}/s",
         prev("parse_rate", "{:,.0f}/s"), "", ""),
        ("SQLite write ceiling, product schema, batch 500 / 5,000",
         f"{now['sqlite_500']:,.0f}/s / {now['sqlite_5000']:,.0f}/s",
         prev("sqlite_500", "{:,.0f}/s"), "", ""),
        ("rows committed while the flood lasted", f"{now['rows_during_flood']:,} of {now['events']:,}",
         prev("rows_during_flood", "{:,}"), f"sandbox sent for {now['sending_s']:.1f}s",
         "written continuously"),
        ("event-loop lag during the flood p50 / p99",
         f"{now['lag_p50_ms']:.1f} / {now['lag_p99_ms']:.0f} ms", prev("lag_p99_ms", "p99 {:.0f} ms"),
         f"bare client p99 {now['bare_lag_p99_ms']:.0f} ms; most events buffered for the writer:"
         f" {now['pending_max']:,}", ""),
        ("`/microvoice status` answer mid-flood", f"{now['slash_ms']:.0f} ms" if now["slash_ms"] else "—",
         prev("slash_ms", "{:.0f} ms"), "", "< 3 s (Discord's deadline)"),
        ("RSS idle after connect", f"{now['rss_idle']:.0f} MB", prev("rss_idle", "{:.0f} MB"),
         f"bare client {now['bare_rss_idle']:.0f} MB", "≤ 1.2× bare"),
        (f"RSS after {now['events']:,} events in a flood", f"{now['rss_after']:.0f} MB",
         prev("rss_after", "{:.0f} MB"), f"bare client {now['bare_rss_after']:.0f} MB",
         "≤ 1.2× bare, flat in events"),
    ]  # fmt: skip
    for loss, old in zip(now["loss"], (before or {}).get("loss") or [None] * len(now["loss"]), strict=False):
        rows.append(
            (f"SIGKILL at ~{loss['offered']:,} offered/s: lost, age of the oldest lost",
             f"{loss['lost']:,} events, {loss['window_s'] * 1000:.0f} ms",
             f"{old['window_s'] * 1000:.0f} ms" if old else "—",
             f"in the bot's buffer at the kill: {loss['in_memory']:,} (most {loss['in_memory_max']:,});"
             " the rest still in the socket", "≤ the flush window")
        )  # fmt: skip
    out = [
        "| what | now | previous run | beside it | target |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(r)} |" for r in rows),
    ]
    return out


def write_results(lines: list[str], figures: dict[str, Any]) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by `make bench`.\n"
    meta = versions()
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            BEGIN,
            "## Ingest (bench/ingest_throughput.py)",
            "",
            f"Run {datetime.now(UTC).isoformat(timespec='seconds')} on {os.cpu_count()} CPUs"
            f" (load average {load:.1f} at the end), "
            + ", ".join(f"{k} {v}" for k, v in meta.items())
            + ".",
            "",
            *lines,
            "",
            f"<!-- ingest:figures {json.dumps(figures)} -->",
            END,
        ]
    )
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def previous() -> dict[str, Any] | None:
    if not RESULTS.exists():
        return None
    found = FIGURES.search(RESULTS.read_text())
    return json.loads(found.group(1)) if found else None


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Ingest throughput, end to end and beside its ceilings.")
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args(argv)
    print(f"\nIngest, end to end through the sandbox's gateway ({args.events:,} messages)")
    product, bare, guild, sb_payloads = asyncio.run(end_to_end(args.events))
    frames = [json.dumps({"t": "MESSAGE_CREATE", "s": i, "op": 0, "d": p}) for i, p in enumerate(sb_payloads)]
    _progress("discord.py parse ceiling")
    parse = asyncio.run(parse_ceiling(guild, frames))
    rows = ledger_rows(sb_payloads)
    _progress("SQLite write ceiling")
    sqlite_500, sqlite_5000 = sqlite_ceiling(rows, 500), sqlite_ceiling(rows, 5_000)
    losses = asyncio.run(loss_windows([1_000, 5_000, None]))
    figures = figures_of(product, bare, parse, sqlite_500, sqlite_5000, losses)
    lines = table(figures, previous())
    for line in lines:
        print("  " + line)
    write_results(lines, figures)
    print(f"  (written to {RESULTS})")


if __name__ == "__main__":
    main()
