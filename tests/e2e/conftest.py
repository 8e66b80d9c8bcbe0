"""The real bot (unmodified discord.py client) against the local Discord sandbox, in-process."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import MicrovoiceBot, build_bot
from bot.config import Settings
from bot.reports.service import CATCH_UP_TASK
from sandbox.discord_server import DiscordSandbox, Interaction
from sandbox.redirect import point_discord_at
from tests.pg import BACKENDS, PostgresForTests, require_postgres
from tests.sqlite_template import SqliteTemplate

MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
BASIC = (1 << 10) | (1 << 11)  # view channel, send messages
GUILD_READY_TIMEOUT = 0.01


class Clock:
    """Injectable time: tests move it instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    guild: int
    general: int
    cooking: int
    category: int
    owner: int
    mod: int
    alice: int
    bob: int
    carol: int
    helper_bot: int
    mod_role: int
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class Harness:
    sandbox: DiscordSandbox
    bot: MicrovoiceBot
    world: World
    clock: Clock
    settings: Settings
    task: asyncio.Task[None] | None = None
    _markers: int = 0

    @property
    def rest(self) -> Any:
        return self.sandbox.rest

    @property
    def app(self) -> Any:
        assert self.bot.app is not None
        return self.bot.app

    async def settle(self) -> None:
        """Wait until the bot has handled everything the sandbox dispatched before this call.

        A marker message from a bot account goes through the same gateway stream; once the bot has
        seen it, every earlier event was parsed. Listener coroutines may still be awaiting the
        store, so wait until they (and whatever listeners they started) have finished.
        """
        marker = discord.utils.time_snowflake(datetime.now(UTC)) + self._markers
        self._markers += 1
        seen = asyncio.ensure_future(self.bot.wait_for("message", check=lambda m: m.id == marker, timeout=10))
        await self.sandbox.send_message(self.world.general, self.world.helper_bot, message_id=marker)
        await seen
        await listeners_done()

    async def flush(self) -> None:
        """Settle, then write the ingest buffer to the database."""
        await self.settle()
        await self.app.ingest.flush()

    async def count(self, kind: str | None = None) -> int:
        if kind is None:
            return int(await self.scalar("SELECT count(*) FROM events"))
        return int(await self.scalar("SELECT count(*) FROM events WHERE kind = ?", kind))

    async def scalar(self, sql: str, *params: Any) -> Any:
        return await self.app.store.scalar(sql, params)

    async def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.app.store.db.execute(sql, params) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def slash(
        self,
        name: str,
        user: int,
        options: dict[str, Any] | None = None,
        *,
        permissions: int | None = None,
        subcommand: str | list[str] | None = None,
    ) -> Interaction:
        # The bot registers its commands in the background (bot/command_sync.py): a member can only
        # invoke them once that first attempt is over, as on Discord.
        sync = self.app.command_sync
        await eventually(lambda: sync.state.ok or sync.state.error, "the command sync", timeout=15)
        return await self.sandbox.slash(
            self.world.guild,
            self.world.general,
            user,
            name,
            options,
            subcommand=subcommand,
            permissions=permissions,
        )


# Names discord.py gives the tasks that run event listeners, slash commands, buttons and modals, and
# the bot's start-up digest (it flushes the ingest first, so it may outlast the bot's `ready`).
LISTENER_TASKS = (
    "discord.py: ",
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    CATCH_UP_TASK,
)


async def listeners_done(timeout: float = 10) -> None:  # noqa: ASYNC109
    """Wait until every running listener task has finished, including listeners they started."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    me = asyncio.current_task()
    while True:
        await asyncio.sleep(0)  # callbacks scheduled by the last listener step run first
        busy = [
            t
            for t in asyncio.all_tasks()
            if t is not me and not t.done() and t.get_name().startswith(LISTENER_TASKS)
        ]
        if not busy:
            return
        remaining = deadline - loop.time()
        names = sorted(t.get_name() for t in busy)
        assert remaining > 0, f"listeners still running after {timeout}s: {names}"
        await asyncio.wait(busy, timeout=remaining)


def build_world(sb: DiscordSandbox) -> World:
    owner = sb.add_user("owner", created_at=datetime(2020, 1, 1, tzinfo=UTC))
    guild = sb.add_guild("Vegan Cooks", owner_id=owner)
    mod_role = sb.add_role(guild, "Moderators", permissions=BASIC)
    category = sb.add_channel(guild, "Kitchen", type=4)
    general = sb.add_channel(guild, "general")
    cooking = sb.add_channel(guild, "vegan-cooking", parent_id=category)
    mod = sb.add_user("mod", created_at=datetime(2021, 1, 1, tzinfo=UTC))
    alice = sb.add_user("alice", created_at=datetime(2022, 1, 1, tzinfo=UTC))
    bob = sb.add_user("bob", created_at=datetime(2022, 6, 1, tzinfo=UTC))
    carol = sb.add_user("carol", created_at=datetime(2023, 1, 1, tzinfo=UTC))
    helper_bot = sb.add_user("helperbot", bot=True)
    for uid in (owner, mod, alice, bob, carol, helper_bot):
        sb.add_member(
            guild, uid, roles=[mod_role] if uid == mod else [], joined_at=datetime(2024, 1, 1, tzinfo=UTC)
        )
    return World(guild, general, cooking, category, owner, mod, alice, bob, carol, helper_bot, mod_role)


@contextlib.contextmanager
def redirected(sb: DiscordSandbox):
    saved = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    point_discord_at(sb.api_base, sb.gateway_url)
    try:
        yield
    finally:
        (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            discord.asset.Asset.BASE,
        ) = saved


async def start_bot(
    sb: DiscordSandbox, settings: Settings, clock: Clock, *, wait_for_guilds: bool = True
) -> tuple[MicrovoiceBot, asyncio.Task[None]]:
    # The sandbox sends every GUILD_CREATE right after READY, so discord.py need not wait 2 s (its
    # default) for late ones; a GUILD_CREATE parsed after `ready` is awaited below.
    bot = build_bot(settings, clock=clock, guild_ready_timeout=GUILD_READY_TIMEOUT)
    task = asyncio.create_task(bot.start(settings.discord_token))
    ready = asyncio.ensure_future(asyncio.wait_for(bot.wait_until_ready(), timeout=15))
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()  # raises what stopped the bot
        raise AssertionError("the bot stopped before it was ready")
    await ready
    await sb.wait_ready(timeout=15)
    if wait_for_guilds:  # not when a server is meant to stay unavailable (an outage)
        await guilds_available(bot)
    await listeners_done()
    return bot, task


async def eventually(
    condition: Callable[[], Any | Awaitable[Any]],
    what: str,
    timeout: float = 5,  # noqa: ASYNC109
) -> Any:
    """Wait until `condition()` (sync or async) is truthy and return it; fail after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        assert loop.time() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.005)


async def guilds_available(bot: MicrovoiceBot, timeout: float = 5) -> None:  # noqa: ASYNC109
    """Wait until every guild READY announced has arrived (its GUILD_CREATE was parsed)."""

    def arrived() -> bool:
        return bool(bot.guilds) and not any(g.unavailable for g in bot.guilds)

    await eventually(arrived, "every guild's GUILD_CREATE", timeout)


async def stop_bot(bot: MicrovoiceBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, timeout=10)


def make_settings(sb: DiscordSandbox, world: World, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        discord_token=sb.token,
        db_path=db,
        command_guild_ids=(world.guild,),
        ingest_batch_size=1000,
        ingest_flush_ms=60_000,  # tests flush explicitly
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def sandbox() -> AsyncIterator[DiscordSandbox]:
    sb = DiscordSandbox()
    await sb.start()
    try:
        with redirected(sb):
            yield sb
    finally:
        await sb.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


DEFAULT_DB = "microvoice.sqlite3"


class Launcher:
    """Starts bots against the sandbox and guarantees they are closed when the test ends.

    With `database_url` (a test marked `both_backends`, in its PostgreSQL run) the bot's default
    database is that PostgreSQL database instead of a SQLite file. With `sqlite_template`, a SQLite file
    that does not exist yet starts as a copy of the migrated template (the bot has nothing to apply)."""

    def __init__(
        self,
        sandbox: DiscordSandbox,
        clock: Clock,
        tmp_path: Path,
        database_url: str | None = None,
        sqlite_template: SqliteTemplate | None = None,
    ) -> None:
        self.sandbox, self.clock, self.tmp_path = sandbox, clock, tmp_path
        self.database_url = database_url
        self.sqlite_template = sqlite_template
        self.world: World | None = None
        self.running: list[Harness] = []

    def build(self) -> World:
        if self.world is None:
            self.world = build_world(self.sandbox)
        return self.world

    async def start(self, db: str = DEFAULT_DB, *, wait_for_guilds: bool = True, **overrides: Any) -> Harness:
        world = self.build()
        if self.database_url and db == DEFAULT_DB:
            overrides.setdefault("database_url", self.database_url)
        settings = make_settings(self.sandbox, world, self.tmp_path / db, **overrides)
        if self.sqlite_template is not None and settings.database == settings.db_path:
            self.sqlite_template.copy_to(settings.db_path)
        bot, task = await start_bot(self.sandbox, settings, self.clock, wait_for_guilds=wait_for_guilds)
        h = Harness(self.sandbox, bot, world, self.clock, settings, task)
        self.running.append(h)
        return h

    async def stop(self, h: Harness) -> None:
        if h in self.running:
            self.running.remove(h)
            assert h.task is not None
            await stop_bot(h.bot, h.task)

    async def close(self) -> None:
        for h in list(self.running):
            await self.stop(h)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run this e2e test on SQLite and on PostgreSQL (tests/conftest.py)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_backends") and "e2e_backend" in metafunc.fixturenames:
        metafunc.parametrize("e2e_backend", BACKENDS, indirect=True)


@pytest.fixture
def e2e_backend(request: pytest.FixtureRequest) -> str:
    """SQLite, unless the test is marked `both_backends` (then each backend in turn).
    MICROVOICE_E2E_BACKEND=postgresql runs every other e2e test on PostgreSQL instead."""
    return str(getattr(request, "param", os.environ.get("MICROVOICE_E2E_BACKEND", "sqlite")))


@pytest.fixture
async def launcher(
    sandbox: DiscordSandbox,
    tmp_path: Path,
    clock: Clock,
    e2e_backend: str,
    postgres: PostgresForTests | None,
    sqlite_template: SqliteTemplate,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Launcher]:
    url = require_postgres(postgres, request).migrated() if e2e_backend == "postgresql" else None
    launch = Launcher(sandbox, clock, tmp_path, url, sqlite_template)
    try:
        yield launch
    finally:
        await launch.close()


@pytest.fixture
async def harness(launcher: Launcher) -> Harness:
    return await launcher.start()
