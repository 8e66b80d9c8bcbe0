"""A gateway flood through the sandbox into a bot process, measured from the outside.

The sandbox runs here; the bot runs as its own process (bench/bot_process.py: the product's bot, or a
bare discord.py client). Messages are offered at a given rate (or as fast as the sandbox sends), each
frame's write to the websocket is timed, the ledger is read from another connection while the flood
lasts, the bot's memory is read from /proc, and the bot can be SIGKILLed at a given moment. Used by
`make bench` (bench/ingest_throughput.py), docs/reliability.md and the e2e tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord

from bench.bot_process import rss_mb
from sandbox.discord_server import DiscordSandbox

ROOT = Path(__file__).resolve().parents[1]
MANAGE_GUILD = 1 << 5
AUTHOR_FIELDS = ("id", "username", "discriminator", "global_name", "avatar")
JOINED = "2024-01-01T00:00:00+00:00"
STALL = 10.0


@dataclass
class World:
    guild: int
    channels: list[int]
    members: list[int]
    owner: int


def build(sb: DiscordSandbox, members: int = 50, channels: int = 4) -> World:
    owner = sb.add_user("owner", created_at=datetime(2020, 1, 1, tzinfo=UTC))
    guild = sb.add_guild("Flood", owner_id=owner)
    chans = [sb.add_channel(guild, f"c{i}") for i in range(channels)]
    people = [sb.add_user(f"m{i}", created_at=datetime(2022, 1, 1, tzinfo=UTC)) for i in range(members)]
    for uid in [owner, *people]:
        sb.add_member(guild, uid, joined_at=datetime(2024, 1, 1, tzinfo=UTC))
    return World(guild, chans, people, owner)


@dataclass
class FloodResult:
    offered: int = 0
    sent: int = 0  # frames written to the bot's websocket
    seconds_sending: float = 0.0
    first_send: float = 0.0
    last_send: float = 0.0
    last_commit: float | None = None
    rows_during_flood: int = 0  # rows committed before the last frame was sent
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds since first send, rows)
    rss_idle_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_after_mb: float = 0.0
    lag: dict[str, float] = field(default_factory=dict)
    cpu_s: float = 0.0  # the bot process's CPU time (user + system) from the first send to the end
    slash_ms: float | None = None
    killed_at: float | None = None
    lost: int = 0  # sent before the kill, not in the ledger
    lost_window_s: float = 0.0  # kill time minus the send time of the oldest lost message
    committed: int = 0

    @property
    def offered_rate(self) -> float:
        return self.sent / max(self.seconds_sending, 1e-9)

    @property
    def rate(self) -> float:
        end = self.last_commit if self.last_commit is not None else self.last_send
        return self.committed / max(end - self.first_send, 1e-9)


class BotProcess:
    def __init__(self, sb: DiscordSandbox, world: World, workdir: Path, kind: str, **env: str) -> None:
        self.sb, self.world, self.workdir, self.kind = sb, world, workdir, kind
        self.db = workdir / "bench.sqlite3"
        self.stats = workdir / f"{kind}-stats.json"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": sb.token,
            "MICROVOICE_DB": str(self.db),
            "MICROVOICE_DISCORD_API_BASE": sb.api_base,
            "MICROVOICE_DISCORD_GATEWAY_URL": sb.gateway_url,
            "MICROVOICE_COMMAND_GUILD_IDS": str(world.guild),
            "BENCH_STATS": str(self.stats),
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.sampled = True  # runs bench/bot_process.py (lag sampler, SIGUSR1 marks a window)

    async def start(self, entry: tuple[str, ...] | None = None) -> None:
        args = entry or ("-m", "bench.bot_process", self.kind)
        self.sampled = entry is None
        # The log goes to a file: a pipe nobody reads during the flood would block the bot on write.
        self.log = self.workdir / f"{self.kind}.log"
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=self.workdir, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        await self.sb.wait_ready(timeout=60)
        if self.kind != "bare":
            await self.sb.wait_for_call(
                "PUT", "/applications/{application_id}/guilds/{guild_id}/commands", timeout=60
            )
        await asyncio.sleep(1.0)  # settle (guild caches, start-up jobs)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu(self) -> float:
        """CPU seconds (user + system, all threads) the process has used so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> float:
        try:
            return rss_mb(self.pid)
        except (FileNotFoundError, ProcessLookupError):
            return 0.0

    def lag(self) -> dict[str, float]:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return dict(json.loads(self.stats.read_text()))
        return {}

    def mark(self) -> None:
        """Start a new lag window in the bot (another entry point would die of SIGUSR1)."""
        if not self.sampled:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGUSR1)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    async def stop(self) -> str:
        """Stop the process (SIGTERM) and return its log."""
        assert self.proc is not None
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=60)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        return self.log.read_text(errors="replace")


def rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
            return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def committed_ids(db: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        return {int(r[0]) for r in con.execute("SELECT source_id FROM events WHERE kind = 'message'")}


def payloads(sb: DiscordSandbox, world: World, n: int, content: str = "") -> list[dict[str, Any]]:
    """Ordinary MESSAGE_CREATE payloads (the shape the sandbox sends), built before the clock starts."""
    base_id = discord.utils.time_snowflake(datetime.now(UTC))
    users = [sb.state.users[m] for m in world.members]
    out = []
    for i in range(n):
        author = users[i % len(users)]
        out.append(
            {
                "id": str(base_id + i),
                "channel_id": str(world.channels[i % len(world.channels)]),
                "guild_id": str(world.guild),
                "author": {k: author[k] for k in AUTHOR_FIELDS},
                "member": {"roles": [], "joined_at": JOINED, "deaf": False, "mute": False, "flags": 0},
                "content": content,
                "timestamp": datetime.now(UTC).isoformat(),
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
            }
        )  # fmt: skip
    return out


async def flood(
    sb: DiscordSandbox,
    world: World,
    bot: BotProcess,
    n: int,
    *,
    rate: float | None = None,
    kill_after: float | None = None,
    slash_at: float | None = None,
    sample_every: float = 0.1,
    drain_timeout: float = 120.0,
    progress: Callable[[BotProcess], int] | None = None,
) -> FloodResult:
    """Offer `n` messages (at `rate` per second, or as fast as the sandbox sends) and measure.
    `progress` counts what the bot has handled (default: rows in its ledger)."""
    done = progress or (lambda b: rows(b.db))
    result = FloodResult(offered=n, rss_idle_mb=bot.rss())
    batch = payloads(sb, world, n)
    # The sending side keeps every payload it sent (for the tests' assertions): without this its
    # garbage collector rescans them all the time, and the sandbox sends three times slower.
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 1_000)
    try:
        return await _flood(sb, world, bot, n, batch, result, done, rate, kill_after, slash_at,
                            sample_every, drain_timeout)  # fmt: skip
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def _flood(
    sb: DiscordSandbox,
    world: World,
    bot: BotProcess,
    n: int,
    batch: list[dict[str, Any]],
    result: FloodResult,
    done: Callable[[BotProcess], int],
    rate: float | None,
    kill_after: float | None,
    slash_at: float | None,
    sample_every: float,
    drain_timeout: float,
) -> FloodResult:
    sent_at: dict[int, float] = {}
    bot.mark()
    cpu_before = bot.cpu()
    start = time.monotonic()
    result.first_send = start
    pending: list[asyncio.Future[None]] = []

    def on_sent(message_id: int) -> Any:
        return lambda _: sent_at.__setitem__(message_id, time.monotonic())

    async def sample() -> None:
        while True:
            now = time.monotonic()
            result.timeline.append((now - start, done(bot)))
            result.rss_peak_mb = max(result.rss_peak_mb, bot.rss())
            await asyncio.sleep(sample_every)

    async def slash() -> None:
        assert slash_at is not None
        await asyncio.sleep(slash_at)
        interaction = await sb.slash(
            world.guild, world.channels[0], world.owner, "microvoice",
            subcommand="status", permissions=MANAGE_GUILD,
        )  # fmt: skip
        sent = time.monotonic()
        await interaction.response(timeout=30)
        result.slash_ms = (time.monotonic() - sent) * 1000

    async def killer() -> None:
        assert kill_after is not None
        await asyncio.sleep(kill_after)
        bot.kill()
        result.killed_at = time.monotonic()

    sampler = asyncio.create_task(sample())
    extras = []
    if slash_at is not None:
        extras.append(asyncio.create_task(slash()))
    if kill_after is not None:
        extras.append(asyncio.create_task(killer()))
    chunk = 200
    for i in range(0, n, chunk):
        if result.killed_at is not None:
            break
        if rate is not None:
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        for p in batch[i : i + chunk]:
            for future in sb.emit("MESSAGE_CREATE", p):
                future.add_done_callback(on_sent(int(p["id"])))
                pending.append(future)
        await asyncio.sleep(0)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*pending), timeout=drain_timeout)
    if result.killed_at is not None:  # frames "finished" by the closed socket after the kill were not sent
        sent_at = {mid: t for mid, t in sent_at.items() if t <= result.killed_at}
    result.sent = len(sent_at)
    result.last_send = max(sent_at.values(), default=start)
    result.seconds_sending = result.last_send - start
    sending = result.last_send - start
    result.rows_during_flood = max((r for t, r in result.timeline if t <= sending), default=0)
    for task in extras:
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=60)
    if result.killed_at is None:
        # Until everything is handled, or nothing more was for `STALL` s (a bare client that lost
        # events in a reconnect never reaches n): the time of the last progress ends the run.
        deadline = time.monotonic() + drain_timeout
        seen, seen_at = done(bot), time.monotonic()
        while seen < n and time.monotonic() < deadline and time.monotonic() - seen_at < STALL:
            await asyncio.sleep(0.02)
            now_done = done(bot)
            if now_done != seen:
                seen, seen_at = now_done, time.monotonic()
        result.last_commit = seen_at
    else:
        await asyncio.sleep(0.5)
    sampler.cancel()
    result.cpu_s = bot.cpu() - cpu_before
    result.committed = done(bot)
    result.rss_after_mb = bot.rss()
    result.lag = bot.lag()
    if result.killed_at is not None:
        have = committed_ids(bot.db)
        lost = [t for mid, t in sent_at.items() if mid not in have and t <= result.killed_at]
        result.lost = len(lost)
        result.lost_window_s = result.killed_at - min(lost) if lost else 0.0
    return result
