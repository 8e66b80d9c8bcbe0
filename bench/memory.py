"""Resident memory of the bot beside a bare discord.py client with the same gateway settings.

Both run as their own processes (`python -m bot run`, and `python -m bench.bare_client`) against the
local Discord sandbox started here, one after the other, in the same worlds:

- idle after connect: one small server, an empty database;
- with 1M events: the same small server under the id of a community whose database holds ~1M events
  (the one bench/queries.py builds by default, copied), then after `/voices recompute` over them
  (the trust graph and ranking state stay in memory, as they do after the first scheduled recompute);
- 10 servers of 10,000 members each (1,000 with `--quick`), with the member cache off (no Server
  Members intent: the default) and on (the intent on, so both clients request every member at
  start-up and keep them).

RSS is read from /proc once it has stopped moving (a reading every 0.2 s, stable within 0.5 MB for
3 s) after the client is connected and, with the intent, every member chunk was delivered. Target
from issue 13: the bot's RSS at most 1.2× the bare client's.

    .venv/bin/python -m bench.memory [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import ledger_db, queries
from bench.ledger_db import progress
from bench.results import Row, print_table, write_section
from sandbox.discord_server import DiscordSandbox

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.2
STABLE_MB = 0.5
STABLE_SECONDS = 3.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class World:
    guild_ids: tuple[int, ...]
    channel: int  # where a moderator runs a slash command
    owner: int
    members: int  # per guild


def build_world(sb: DiscordSandbox, *, guilds: int, members: int, guild_id: int | None = None) -> World:
    """`guilds` servers of `members` members each (plus owner and bot), a few channels in each."""
    owner = sb.add_user("owner", created_at=datetime(2020, 1, 1, tzinfo=UTC))
    ids, first_channel = [], 0
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    for g in range(guilds):
        gid = sb.add_guild(f"Community {g}", owner_id=owner, guild_id=guild_id if g == 0 else None)
        category = sb.add_channel(gid, "Topics", type=4)
        channels = [sb.add_channel(gid, f"topic-{c}", parent_id=category) for c in range(8)]
        first_channel = first_channel or channels[0]
        for m in range(members):
            # Distinct creation times: the sandbox probes past ids already taken from the same instant.
            created = datetime(2022, 1, 1, tzinfo=UTC) + timedelta(seconds=g * members + m)
            uid = sb.add_user(f"member{g}x{m}", created_at=created)
            sb.add_member(gid, uid, joined_at=joined, dispatch=False)
        ids.append(gid)
    return World(tuple(ids), first_channel, owner, members)


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])


@contextlib.asynccontextmanager
async def launched(
    name: str, module: str, sb: DiscordSandbox, world: World, env: dict[str, str], workdir: Path
) -> AsyncIterator[Process]:
    """Start `python -m module` against the sandbox and wait until it is connected (and has every
    member, when it asked for them); stop it (SIGTERM, then SIGKILL) on the way out."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MICROVOICE_", "DISCORD_"))},
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": sb.token,
        "MICROVOICE_DISCORD_API_BASE": sb.api_base,
        "MICROVOICE_DISCORD_GATEWAY_URL": sb.gateway_url,
        "MICROVOICE_COMMAND_GUILD_IDS": str(world.guild_ids[0]),
        **env,
    }
    log = workdir / f"{name}.log"
    ready_before = sb.ready_count
    requests_before = sum(1 for p in sb.gateway_received if p.get("op") == 8)
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait for it
            [sys.executable, "-m", module, *(["run"] if module == "bot" else [])],
            cwd=workdir,  # no .env of a developer's is read
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Process(name, proc, log)
    try:
        deadline = time.monotonic() + 120
        while sb.ready_count <= ready_before:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not connect:\n{running.tail()}")
            await asyncio.sleep(0.05)
        if environ.get("MICROVOICE_MEMBERS_INTENT") == "true":
            wanted = len(world.guild_ids)
            while sum(1 for p in sb.gateway_received if p.get("op") == 8) - requests_before < wanted:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not request every guild's members:\n{running.tail()}")
                await asyncio.sleep(0.05)
        await sb.flush()
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 15)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)


async def settled_rss(p: Process, timeout: float = 60) -> float:  # noqa: ASYNC109
    """The process's RSS once it stopped moving."""
    samples: list[float] = []
    window = int(STABLE_SECONDS / 0.2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.proc.poll() is not None:
            raise RuntimeError(f"{p.name} exited:\n{p.tail()}")
        samples.append(rss_mb(p.proc.pid))
        recent = samples[-window:]
        if len(recent) == window and max(recent) - min(recent) < STABLE_MB:
            return recent[-1]
        await asyncio.sleep(0.2)
    return samples[-1]


@dataclass(frozen=True)
class Pair:
    scenario: str
    bot: float
    bare: float


async def scenario(
    name: str,
    *,
    guilds: int,
    members: int,
    members_intent: bool,
    database: Path | None = None,
    guild_id: int | None = None,
    recompute: bool = False,
) -> list[Pair]:
    sb = DiscordSandbox()
    await sb.start()
    try:
        t0 = time.perf_counter()
        world = build_world(sb, guilds=guilds, members=members, guild_id=guild_id)
        env = {"MICROVOICE_MEMBERS_INTENT": "true" if members_intent else "false"}
        out = []
        with tempfile.TemporaryDirectory(prefix="microvoice-bench-") as tmp:
            workdir = Path(tmp)
            db = workdir / "microvoice.sqlite3"
            if database is not None:
                ledger_db.copy_database(database, db)
            bot_env = {**env, "MICROVOICE_DB": str(db), "MICROVOICE_LOG_LEVEL": "WARNING"}
            async with launched("bot", "bot", sb, world, bot_env, workdir) as bot:
                bot_idle = await settled_rss(bot)
                after = None
                if recompute:
                    asked = await sb.slash(
                        world.guild_ids[0], world.channel, world.owner, "voices", subcommand="recompute"
                    )
                    await asked.response(timeout=30)
                    await asked.wait_followup(timeout=300)
                    after = await settled_rss(bot)
            async with launched("bare", "bench.bare_client", sb, world, env, workdir) as bare:
                bare_idle = await settled_rss(bare)
            out.append(Pair(name, bot_idle, bare_idle))
            if after is not None:
                out.append(Pair(f"{name}, after `/voices recompute`", after, bare_idle))
        progress(
            f"{name}: " + ", ".join(f"bot {p.bot:.0f} MB / bare {p.bare:.0f} MB" for p in out)
            + f" ({time.perf_counter() - t0:.0f}s)"
        )
        return out
    finally:
        await sb.stop()


async def measure(quick: bool) -> tuple[list[Pair], dict[str, Any]]:
    path, meta = await queries.database(queries.STANDARD)
    per_guild = 1_000 if quick else 10_000
    pairs: list[Pair] = []
    pairs += await scenario("idle after connect", guilds=1, members=5, members_intent=False)
    pairs += await scenario(
        f"idle with {meta['events']:,} events in the database",
        guilds=1,
        members=5,
        members_intent=False,
        database=path,
        guild_id=int(meta["guild"]),
        recompute=True,
    )
    for cache in (False, True):
        pairs += await scenario(
            f"10 servers × {per_guild:,} members, member cache {'on' if cache else 'off'}",
            guilds=10,
            members=per_guild,
            members_intent=cache,
        )
    return pairs, meta


def rows_of(pairs: Sequence[Pair]) -> list[Row]:
    rows = []
    for p in pairs:
        ratio = p.bot / p.bare
        after = "recompute" in p.scenario
        rows.append(
            Row(
                what=f"RSS, {p.scenario}",
                now=f"{p.bot:.0f} MB ({ratio:.2f}× bare)",
                beside=f"bare discord.py client {p.bare:.0f} MB",
                target="— (the trust graph is kept in memory)" if after else f"≤ {TARGET:g}× bare",
                verdict="" if after else ("PASS" if ratio <= TARGET else "FAIL"),
                key=f"rss {p.scenario}",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(description="Resident memory beside a bare discord.py client.")
    ap.add_argument("--quick", action="store_true", help="10 servers of 1,000 members instead of 10,000")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    print(f"\nResident memory beside a bare discord.py client (target ≤ {TARGET:g}× bare)")
    pairs, _ = asyncio.run(measure(args.quick))
    rows = rows_of(pairs)
    print_table(rows)
    write_section(
        "memory" + ("-quick" if args.quick else ""),
        "Resident memory (bench/memory.py)",
        rows,
        [
            "Both clients run as their own processes against the sandbox, one after the other, with the"
            " same intents; RSS is read once it stopped moving after connect (and after every member"
            " chunk, with the member cache on)."
        ],
    )
    print(f"  (memory benchmark took {time.perf_counter() - started:.1f}s)")
    return rows


if __name__ == "__main__":
    main()
