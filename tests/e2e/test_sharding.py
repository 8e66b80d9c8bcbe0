"""Two bot processes, each serving its own shards, against one sandbox and one real PostgreSQL server.

Each process is `python -m bot run --shard-ids N --shard-count 2`, exactly as an operator runs it. A
simulated community lives in each of four guilds (two per shard). Every event must land exactly once;
each giveaway's start, draw and end must happen exactly once; and killing one process (SIGKILL, no
goodbye) and starting a replacement on the same shard must lose no scheduled work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.app
from bot.activations import draw as giveaway
from bot.ledger import iso
from bot.shards import shard_of
from bot.store import Store, discover_migrations, write_giveaway_secret
from sandbox.demo import build_guild, drive
from sandbox.discord_server import DiscordSandbox
from sandbox.simulator import SimCommunity, simulate
from tests.pg import PostgresForTests

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 2
POSTS = ("POST", "/channels/{channel_id}/messages")
LIFECYCLE = [(None, "pending"), ("pending", "scheduled"), ("scheduled", "live"), ("live", "ended")]
#: Each process boots in two to five seconds here (it loads the report charts' library too, and other
#: test runs may share the machine); activations are placed relative to the test's start.
FIRST_WAVE = (6.5, 8.5)  # start, end (seconds from now): both processes are up
SECOND_WAVE = (11.5, 19.5)  # the killed process's replacement catches up the start and runs the end


@dataclass
class Fleet:
    """The bot processes the test started, by shard id; all are killed when the test ends."""

    sandbox: DiscordSandbox
    url: str
    guilds: list[int]
    log_dir: Path
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: Counter[int] = field(default_factory=Counter)

    def start(self, shard: int) -> None:
        env = dict(
            os.environ,
            DISCORD_TOKEN=self.sandbox.token,
            MICROVOICE_DB=self.url,
            MICROVOICE_DISCORD_API_BASE=self.sandbox.api_base,
            MICROVOICE_DISCORD_GATEWAY_URL=self.sandbox.gateway_url,
            MICROVOICE_COMMAND_GUILD_IDS=",".join(map(str, self.guilds)),
            MICROVOICE_MEMBERS_INTENT="true",
            MICROVOICE_INGEST_FLUSH_MS="100",
            MICROVOICE_LOG_LEVEL="INFO",
        )
        self.started[shard] += 1
        log = (self.log_dir / f"shard{shard}-{self.started[shard]}.log").open("wb")
        self.procs[shard] = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--shard-ids", str(shard), "--shard-count", str(SHARDS)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, shard: int) -> None:
        proc = self.procs.pop(shard)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.log_dir.glob("*.log")
        )

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


def communities(now: datetime) -> list[SimCommunity]:
    """Four small simulated communities whose guilds fall two on each shard (ids never collide: each
    starts at a different millisecond)."""
    found = [
        simulate(s, members=30, days=1, start=now - timedelta(days=1, hours=s, milliseconds=s))
        for s in (1, 2, 3, 4)
    ]
    assert sorted(shard_of(c.guild_id, SHARDS) for c in found) == [0, 0, 1, 1]
    return found


async def seed_giveaway(
    store: Store, community: SimCommunity, channel_id: int, start: datetime, end: datetime, now: datetime
) -> int:
    """A scheduled giveaway, as a moderator's approval leaves it, with ten members already entered."""
    guild = community.guild_id
    moderator = next(m.id for m in community.members if not m.is_bot)
    brands = await store.fetch_all("SELECT id FROM brands WHERE community_id = ?", (guild,))
    if brands:
        brand_id = int(brands[0][0])
    else:
        brand = await store.create_brand(guild, "Oat Co", [], [], by=moderator, now=now)
        await store.set_brand_status(
            guild, brand.id, expected="pending", status="approved", by=moderator, now=now
        )
        brand_id = brand.id
    seed = giveaway.new_seed()
    config = giveaway.GiveawayConfig(prize="A crate of oats", rules="One entry each.", winners=2)

    async def secret(db: object, activation_id: int) -> None:
        await write_giveaway_secret(db, activation_id, guild, seed, giveaway.commitment(seed))

    activation_id = await store.insert_activation(
        community_id=guild,
        brand_id=brand_id,
        kind="giveaway",
        connection="gifted",
        title="Oat giveaway",
        channel_id=channel_id,
        starts_at=start,
        ends_at=end,
        locale="en",
        config=config.to_json(),
        created_by=moderator,
        now=now,
        after_insert=secret,
    )
    assert await store.transition_activation(
        guild, activation_id, "pending", "scheduled", actor=moderator, now=now
    )
    entrants = [m.id for m in community.members if not m.is_bot][:10]
    for member in entrants:
        await store.write(
            "INSERT INTO giveaway_entries (activation_id, community_id, member_id, entered_at)"
            " VALUES (?, ?, ?, ?)",
            (activation_id, guild, member, iso(now)),
        )
    return activation_id


async def until(condition: object, what: str, timeout: float, fleet: Fleet) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():  # type: ignore[operator]
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{fleet.logs()}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def sandbox() -> AsyncIterator[DiscordSandbox]:
    sb = DiscordSandbox()
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


async def test_two_processes_on_two_shards_do_everything_exactly_once(
    sandbox: DiscordSandbox, pg: PostgresForTests, tmp_path: Path
):
    now = datetime.now(UTC).replace(microsecond=0)
    sims = communities(now)
    for community in sims:
        build_guild(sandbox, community)
    guilds = [c.guild_id for c in sims]
    url = pg.migrated()
    store = await Store.open(url, pool_size=2)
    fleet = Fleet(sandbox, url, guilds, tmp_path)
    try:
        # Two giveaways per guild, each in a channel of its own, seeded before the processes start.
        waves: dict[int, tuple[int, int]] = {}  # activation id -> (guild, channel)
        first: list[int] = []  # the first wave's activations
        for community in sims:
            for n, (start, end) in enumerate((FIRST_WAVE, SECOND_WAVE)):
                channel = sandbox.add_channel(community.guild_id, f"giveaway-{n}")
                activation = await seed_giveaway(
                    store,
                    community,
                    channel,
                    now + timedelta(seconds=start),
                    now + timedelta(seconds=end),
                    now,
                )
                waves[activation] = (community.guild_id, channel)
                if n == 0:
                    first.append(activation)

        fleet.start(0)
        fleet.start(1)

        def sessions_by_shard() -> dict[int, set[int]]:
            return {
                s.shard[0]: set(s.guild_ids)
                for s in sandbox.live_sessions()
                if s.ready and s.shard is not None
            }

        async def both_connected() -> bool:
            return set(sessions_by_shard()) == {0, 1}

        await until(both_connected, "both shards to connect", 20, fleet)
        # Each shard was given exactly its own guilds.
        for shard, got in sessions_by_shard().items():
            assert got == {g for g in guilds if shard_of(g, SHARDS) == shard}

        # A simulated community's traffic in every guild: every event lands exactly once.
        expected: Counter[str] = Counter()
        for community in sims:
            await drive(sandbox, community)
            expected.update(community.expected_counts())

        async def recorded() -> Counter[str]:
            rows = await store.fetch_all("SELECT kind, count(*) FROM events GROUP BY kind")
            return Counter({str(k): int(n) for k, n in rows})

        async def all_landed() -> bool:
            return +(await recorded()) == +expected

        await until(all_landed, f"every event to land ({dict(expected)})", 20, fleet)
        for community in sims:
            by_guild = await store.scalar(
                "SELECT count(*) FROM events WHERE community_id = ?", (community.guild_id,)
            )
            assert by_guild == sum(community.expected_counts().values())

        # The first wave starts, draws and ends while both processes run.

        async def announced(ids: list[int]) -> bool:
            done = await store.scalar(
                "SELECT count(*) FROM giveaway_draws WHERE round = 0 AND message_id IS NOT NULL"
                f" AND activation_id IN ({', '.join(map(str, ids))})"
            )
            return int(done) == len(ids)

        await until(lambda: announced(first), "the first wave's winners to be announced", 20, fleet)

        # Shard 1's process dies without a goodbye; its replacement takes over from the database.
        fleet.kill(1)
        killed_at = datetime.now(UTC)
        assert killed_at < now + timedelta(seconds=SECOND_WAVE[0]), "too slow: the first wave ran late"
        # The second wave comes due while shard 1 has no process at all.
        await asyncio.sleep(max(0.0, SECOND_WAVE[0] + 0.3 - (killed_at - now).total_seconds()))
        readies = sandbox.ready_count
        fleet.start(1)

        async def replaced() -> bool:
            return sandbox.ready_count > readies and await both_connected()

        await until(replaced, "the replacement to connect", 20, fleet)
        await until(lambda: announced(list(waves)), "every giveaway's winners to be announced", 30, fleet)

        # Exactly once, per activation: each transition, the draw, the opening and the results posts.
        for activation, (_, channel) in waves.items():
            log = await store.fetch_all(
                "SELECT from_state, to_state FROM activation_transitions WHERE activation_id = ? ORDER BY id",
                (activation,),
            )
            assert [tuple(r) for r in log] == LIFECYCLE, (activation, log)
            draws = await store.fetch_all(
                "SELECT round, winners FROM giveaway_draws WHERE activation_id = ?", (activation,)
            )
            assert len(draws) == 1 and draws[0][0] == 0 and len(json.loads(draws[0][1])) == 2
            posts = [
                c
                for c in sandbox.rest.find(*POSTS)
                if c.path.split("/")[2] == str(channel) and c.status == 200
            ]
            assert len(posts) == 2, (activation, [c.json for c in posts])
        # The replacement really did take the work over: shard 1's second wave started (caught up at
        # boot, as it came due while no process served the shard) and ended in the new process.
        assert fleet.started[1] == 2
        for activation, (guild_id, _) in waves.items():
            if shard_of(guild_id, SHARDS) == 1 and activation not in first:
                at = await store.scalar(
                    "SELECT min(at) FROM activation_transitions"
                    " WHERE activation_id = ? AND to_state = 'live'",
                    (activation,),
                )
                assert datetime.fromisoformat(at) > killed_at, (activation, at, killed_at)
    finally:
        fleet.stop_all()
        await store.close()


async def test_a_second_process_for_a_served_shard_refuses_to_start(
    pg: PostgresForTests, monkeypatch: pytest.MonkeyPatch
):
    """Two processes serving one shard would run its jobs twice (a sponsored Reddit post has no nonce):
    the second one is told which shard is taken and does not start."""
    from bot.config import Settings
    from bot.shards import ShardTaken, shard_lock_name

    url = pg.migrated()
    serving = await Store.open(url, pool_size=2)
    release = await serving.hold([shard_lock_name(SHARDS, 1)])
    assert callable(release)
    monkeypatch.setattr(bot.app, "SHARD_LOCK_WAIT", 1.0)
    settings = Settings(discord_token="x", database_url=url, shard_ids=(0, 1), shard_count=SHARDS)
    second = bot.app.build_bot(settings)
    try:
        with pytest.raises(ShardTaken) as taken:
            await second.setup_hook()
        assert taken.value.taken == [1] and "already served by another process" in str(taken.value)
    finally:  # the refused bot never started: it closed its store and holds nothing
        await release()
        await serving.close()


async def test_a_process_refused_its_shards_changes_nothing_not_even_the_schema(
    pg: PostgresForTests, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """`python -m bot run` for a shard already served (here a new version started over a database the
    old one still serves): refused with one line before it migrates anything or reaches Discord."""
    import asyncpg
    import discord

    from bot.__main__ import _run
    from bot.config import Settings
    from bot.shards import shard_lock_name
    from bot.store.locks import advisory_key

    url = pg.empty()
    serving = await asyncpg.connect(url)  # the process serving shard 1
    await serving.execute("SELECT pg_advisory_lock($1)", advisory_key(shard_lock_name(SHARDS, 1)))
    monkeypatch.setattr(bot.app, "SHARD_LOCK_WAIT", 1.0)
    sandbox = DiscordSandbox()
    await sandbox.start()
    # `_run` points discord.py at the sandbox; put its endpoints back afterwards.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    )
    settings = Settings(
        discord_token=sandbox.token,
        database_url=url,
        shard_ids=(1,),
        shard_count=SHARDS,
        discord_api_base=sandbox.api_base,
        discord_gateway_url=sandbox.gateway_url,
    )
    try:
        assert await _run(settings, sandbox.token) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: shard(s) 1 of 2 are already served by another process"), err
        assert await serving.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        assert await serving.fetchval("SELECT count(*) FROM pg_proc WHERE proname = 'julianday'") == 0
        assert not sandbox.rest.calls, "refused before logging in to Discord"
    finally:
        await sandbox.stop()
        await serving.close()


async def test_processes_starting_together_on_a_new_database_migrate_it_once(pg: PostgresForTests):
    """Each holds its own shards first, then they migrate in turn: the second finds the schema current."""
    from bot.config import Settings

    url = pg.empty()
    bots = [
        bot.app.build_bot(Settings(discord_token="x", database_url=url, shard_ids=(i,), shard_count=SHARDS))
        for i in range(SHARDS)
    ]
    async with contextlib.AsyncExitStack() as running:  # each bot closed (locks, store) at the end
        for b in bots:
            await running.enter_async_context(b)
        stores = await asyncio.gather(*(b.open_store() for b in bots))
        latest = len(discover_migrations())
        assert [await s.schema_version() for s in stores] == [latest] * SHARDS
        versions = await stores[0].fetch_all("SELECT version FROM microvoice_schema ORDER BY version")
        assert [v for (v,) in versions] == list(range(1, latest + 1))


async def test_a_process_whose_shard_locks_were_lost_takes_them_back_or_stops(
    sandbox: DiscordSandbox, pg: PostgresForTests, tmp_path: Path
):
    """The connection holding a running process's shard lock ends. Free again, the lock is taken back
    and the process serves on; when another process got the shard meanwhile, the process stops with
    one line and exit status 1 instead of serving the shard a second time."""
    from bot.shards import shard_lock_name
    from bot.store.locks import advisory_key

    now = datetime.now(UTC)
    community = simulate(7, members=20, days=1, start=now - timedelta(days=1))
    build_guild(sandbox, community)
    shard = shard_of(community.guild_id, SHARDS)
    key = advisory_key(shard_lock_name(SHARDS, shard))
    url = pg.migrated()
    store = await Store.open(url, pool_size=3)
    fleet = Fleet(sandbox, url, [community.guild_id], tmp_path)

    async def holders() -> list[int]:
        rows = await store.fetch_all(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND ((classid::bigint << 32) | objid::bigint) = ?",
            (key,),
        )
        return [int(pid) for (pid,) in rows]

    try:
        fleet.start(shard)
        await until(lambda: _connected(sandbox, shard), "the process to connect", 20, fleet)
        (first,) = await holders()
        assert await store.scalar("SELECT pg_terminate_backend(?, 5000)", (first,))

        async def retaken() -> bool:
            return len(pids := await holders()) == 1 and pids[0] != first

        await until(retaken, "the process to take its shard lock back", 10, fleet)
        assert fleet.procs[shard].poll() is None, fleet.logs()

        async with store.db.pool.acquire() as waiting, store.db.pool.acquire() as admin:
            # Another process queues for the shard: the server grants it the lock as the session ends.
            queued = asyncio.create_task(waiting.fetchval("SELECT pg_advisory_lock($1)", key))
            (holder,) = await holders()
            await until(
                lambda: admin.fetchval(
                    "SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND pid = $1",
                    waiting.get_server_pid(),
                ),
                "the other process to queue for the shard",
                10,
                fleet,
            )
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", holder)
            await queued
            proc = fleet.procs[shard]

            async def exited() -> bool:
                return proc.poll() is not None

            await until(exited, "the process to stop", 20, fleet)
            assert proc.returncode == 1, fleet.logs()
            assert await holders() == [waiting.get_server_pid()]
        log = fleet.logs()
        assert f"error: shard(s) {shard} of {SHARDS} were taken over by another process" in log, log
    finally:
        fleet.stop_all()
        await store.close()


async def _connected(sandbox: DiscordSandbox, shard: int) -> bool:
    return any(s.ready and s.shard is not None and s.shard[0] == shard for s in sandbox.live_sessions())
