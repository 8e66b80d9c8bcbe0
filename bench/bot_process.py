"""A bot process for the ingest benchmarks: the product's bot (`build_bot`, settings from the
environment, exactly as `python -m bot run`), or a bare discord.py client with the same intents, plus a
sampler of its own event-loop lag and memory written to `BENCH_STATS` (JSON, rewritten every 0.25 s,
so the figures survive a SIGKILL). SIGUSR1 starts a new measurement window (the flood).

    python -m bench.bot_process microvoice|bare
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl

from bench.bare_client import intents as bare_intents

TICK = 0.005


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Sampler:
    """Event-loop lag: how late a `TICK`-second sleep wakes up."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lags: list[float] = []
        self.messages = 0
        self.bot: Any = None  # the product's bot, for its ingest figures
        self.pending_max = 0

    def reset(self) -> None:
        self.lags = []
        self.pending_max = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_write = 0.0
        while True:
            start = loop.time()
            await asyncio.sleep(TICK)
            now = loop.time()
            self.lags.append(max(0.0, now - start - TICK))
            app = getattr(self.bot, "app", None)
            if app is not None:
                self.pending_max = max(self.pending_max, app.ingest.pending)
            if now - last_write >= 0.25:
                last_write = now
                self.write()

    def write(self) -> None:
        app = getattr(self.bot, "app", None)
        stats = {
            "lag_p50_ms": percentile(self.lags, 0.5) * 1000,
            "lag_p99_ms": percentile(self.lags, 0.99) * 1000,
            "lag_max_ms": max(self.lags, default=0.0) * 1000,
            "rss_mb": rss_mb(),
            "messages": self.messages,
            # Events handed to the writer and not yet committed: the most seen, and now.
            "pending_max": self.pending_max,
            "pending": app.ingest.pending if app is not None else 0,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(self.path)


async def main(kind: str) -> int:
    sampler = Sampler(Path(os.environ["BENCH_STATS"]))
    client: discord.Client
    if kind == "bare":
        # Nothing of the product imported: its memory is discord.py's own.
        discord.http.Route.BASE = os.environ["MICROVOICE_DISCORD_API_BASE"].rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
            os.environ["MICROVOICE_DISCORD_GATEWAY_URL"]
        )
        members = os.environ.get("MICROVOICE_MEMBERS_INTENT", "").lower() in ("1", "true", "yes", "on")
        client = discord.Client(intents=bare_intents(members))
        token = os.environ["DISCORD_TOKEN"]

        async def on_message(_: discord.Message) -> None:
            sampler.messages += 1

        client.event(on_message)
    else:
        from bot.app import build_bot, point_discord_at
        from bot.config import Settings

        settings = Settings.from_env(dotenv=None)
        point_discord_at(settings.discord_api_base, settings.discord_gateway_url, settings.discord_cdn_base)
        client = build_bot(settings)
        sampler.bot = client
        token = settings.require_token()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, sampler.reset)
    sampling = asyncio.create_task(sampler.run())
    async with client:
        runner = asyncio.create_task(client.start(token))
        await asyncio.wait({runner, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        sampler.write()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
    sampling.cancel()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "microvoice")))
