"""PostgreSQL failing under the bot: a statement that never ends, a connection that stops answering
(a stalled server, a half-open connection after a failover), a server that restarted or turned
read-only, and two statements that guard each other sent at the same moment. Each is provoked for
real on the session's throwaway server: a lock another client holds, a TCP proxy that stops passing
bytes, `default_transaction_read_only`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot import ingest as ingest_module
from bot.activations.giveaways import GiveawayService, GiveawayTerms
from bot.activations.service import ActivationService, Actor, Proposal
from bot.errors import InvalidInput
from bot.ingest import Ingest
from bot.ledger import EngagementEvent
from bot.platform import Member
from bot.scheduler import Scheduler
from bot.store import Store, store_unavailable
from bot.store import postgres as pg_module
from bot.store.base import store_unavailable_briefly
from bot.store.postgres import PgTimeouts
from reddit.errors import classify
from tests.pg import PostgresForTests
from tests.unit.fakes import FakePlatform

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
GUILD, CHANNEL = 100, 500
MOD, CONTACT = 1, 2


def event(i: int) -> EngagementEvent:
    return EngagementEvent("discord", GUILD, 10, 1, "message", str(1000 + i), NOW)


async def until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> PgTimeouts:
    """Pools opened from now on (the store's and the ingest writer's) give up within a second."""
    limits = PgTimeouts(statement=0.5, connect=2.0, cancel=0.3, close=0.5)
    monkeypatch.setattr(pg_module, "TIMEOUTS", limits)
    return limits


# -- what counts as the database being unavailable --------------------------------------------------

UNAVAILABLE = [
    asyncpg.exceptions.InternalClientError("cannot switch to state 11; another operation (2) is in progress"),
    asyncpg.exceptions.InterfaceError("cannot perform operation: connection is closed"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError("idle-in-transaction timeout"),
    asyncpg.exceptions.LockNotAvailableError("canceling statement due to lock timeout"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    OSError(113, "No route to host"),
    socket.gaierror(-2, "Name or service not known"),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError(),  # a statement or a connection attempt past its timeout
]


@pytest.mark.parametrize("error", UNAVAILABLE, ids=lambda e: type(e).__name__)
def test_a_lost_restarted_or_failed_over_database_is_unavailable_and_never_stops_reddit(error: BaseException):
    assert store_unavailable(error)
    assert store_unavailable_briefly(error)  # the ingest writer retries within seconds
    assert classify(error) == "transient"


def test_other_store_errors_back_off_longer_or_are_refusals_and_still_never_stop_reddit():
    disk_full = asyncpg.exceptions.DiskFullError("could not extend file: No space left on device")
    assert store_unavailable(disk_full) and not store_unavailable_briefly(disk_full)
    for refused in (
        asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.exceptions.UndefinedTableError('relation "events" does not exist'),
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("no such table: events"),
    ):
        assert not store_unavailable(refused)
        assert classify(refused) == "transient"  # backed off and tried again, not "bug"
    assert classify(ValueError("a bug")) == "bug"


# -- timeouts ---------------------------------------------------------------------------------------


async def test_a_statement_past_its_timeout_is_cancelled_on_the_server_and_the_pool_goes_on(
    pg: PostgresForTests, short_timeouts: PgTimeouts
):
    store = await Store.open(pg.migrated())
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as raised:
            await store.scalar("SELECT pg_sleep(3)")
        assert time.monotonic() - started < 1.5
        assert store_unavailable(raised.value)
        sleeping = (
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)' AND state = 'active'"
        )
        for _ in range(100):  # the server was told to cancel it, and did
            if await store.scalar(sleeping) == 0:
                break
            await asyncio.sleep(0.02)
        assert await store.scalar(sleeping) == 0
        assert await store.scalar("SELECT 1") == 1
        # Server side: a session left idle inside a transaction is ended by the server.
        assert await store.scalar("SHOW idle_in_transaction_session_timeout") == "1min"
    finally:
        await store.close()


class FreezingProxy:
    """A TCP proxy to the test server's unix socket that can stop passing bytes either way, as a
    stalled server or a half-open connection does; its own threads pass the bytes, so a test that
    holds its event loop cannot hold the proxy. A watchdog thaws it after `limit` seconds, so that
    code which waits forever fails the test instead of hanging it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thawed = threading.Event()
        self._thawed.set()
        self._watchdog: threading.Timer | None = None
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.upstream)
            self._sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self._thawed.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def freeze(self, limit: float) -> None:
        self._thawed.clear()
        self._watchdog = threading.Timer(limit, self._thawed.set)
        self._watchdog.daemon = True
        self._watchdog.start()

    def thaw(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._thawed.set()

    def close(self) -> None:
        self.thaw()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self._sockets:
            s.close()


@pytest.fixture
def proxy(pg: PostgresForTests) -> Iterator[FreezingProxy]:
    p = FreezingProxy(f"{pg.server.socket_dir}/.s.PGSQL.{pg.server.port}")
    try:
        yield p
    finally:
        p.close()


async def test_a_connection_that_stops_answering_is_dropped_and_the_next_statement_gets_a_new_one(
    pg: PostgresForTests, proxy: FreezingProxy, short_timeouts: PgTimeouts
):
    database = urlsplit(pg.migrated()).path.lstrip("/")
    store = await Store.open(f"postgresql://{pg.server.user}@127.0.0.1:{proxy.port}/{database}")
    try:
        async with store.db.pool.acquire() as conn:  # TCP: keepalives on our end too
            sock = conn._transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == short_timeouts.keepalive_idle
        proxy.freeze(limit=4.0)  # neither the answer nor the cancel request gets through
        started = time.monotonic()
        with pytest.raises(TimeoutError) as raised:
            await store.scalar("SELECT 1")
        held = time.monotonic() - started
        assert held < short_timeouts.statement + short_timeouts.cancel + 0.7, held
        assert store_unavailable(raised.value)
        proxy.thaw()
        assert await store.scalar("SELECT 2") == 2  # on a new connection: the frozen one was dropped
        proxy.freeze(limit=4.0)
        stuck = asyncio.create_task(store.scalar("SELECT 3"))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await store.close()  # a statement still waiting on a frozen connection does not hold it up
        assert time.monotonic() - started < short_timeouts.statement + short_timeouts.close + 0.7
        (error,) = await asyncio.gather(stuck, return_exceptions=True)
        assert isinstance(error, Exception) and store_unavailable(error), error  # timed out, or dropped
    finally:
        proxy.thaw()
        await store.close()


class LockHolder:
    """Another client holding `LOCK TABLE ... ACCESS EXCLUSIVE` in a thread of its own (the test's event
    loop may be held), until `release()` or for `limit` seconds at most."""

    def __init__(self, url: str, table: str, limit: float) -> None:
        self._go, self._locked = threading.Event(), threading.Event()
        hold = self._hold(url, table, limit)
        self._thread = threading.Thread(target=asyncio.run, args=(hold,), daemon=True)

    async def _hold(self, url: str, table: str, limit: float) -> None:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                self._locked.set()
                await asyncio.to_thread(self._go.wait, limit)
        finally:
            await conn.close()

    def __enter__(self) -> LockHolder:
        self._thread.start()
        assert self._locked.wait(5), "the lock was not taken"
        return self

    def release(self) -> None:
        self._go.set()

    def __exit__(self, *_: object) -> None:
        self._go.set()
        self._thread.join(5)


async def test_a_stalled_ingest_writer_never_holds_the_event_loop_and_recovers(
    pg: PostgresForTests, monkeypatch: pytest.MonkeyPatch
):
    # The writer's statement waits on the lock for 1.5 s before it times out; add() holds the event
    # loop for 0.2 s at most, then drops and counts.
    monkeypatch.setattr(pg_module, "TIMEOUTS", PgTimeouts(statement=1.5, cancel=0.3, close=0.5))
    monkeypatch.setattr(ingest_module, "FULL_WAIT_SECONDS", 0.2)
    monkeypatch.setattr(ingest_module, "RECONNECT_RETRY_SECONDS", 0.2)
    url = pg.migrated()
    store = await Store.open(url)
    ingest = Ingest(store, batch_size=5, flush_ms=20, capacity=5)
    try:
        with LockHolder(url, "events", limit=4.0) as lock:
            ingest.start()
            assert ingest.add(event(0))
            await until(lambda: ingest._in_flight == 1, "the writer to take the first event")
            started = time.monotonic()
            accepted = [ingest.add(event(i)) for i in range(1, 26)]  # no pausable source: a burst
            held = time.monotonic() - started
            assert held < 1.0, f"add() held the event loop for {held:.1f} s"
            assert ingest.stats.failures == 0  # stalled, not failed (yet)
            assert accepted[:5] == [True] * 5 and not any(accepted[5:])
            assert ingest.stats.dropped == 20
            # The writer's statement times out: a failure like a lost connection, retried with backoff.
            await until(lambda: ingest.stats.failures >= 1, "the stalled write to time out")
            lock.release()
            await until(lambda: ingest.stats.written == 6, "the kept events to be written")
        assert ingest.add(event(99))  # healthy again: accepted, written
        await ingest.flush()
    finally:
        await ingest.stop()
        await store.close()
    check = await Store.open(url)
    try:
        assert await check.scalar("SELECT count(*) FROM events") == 7
    finally:
        await check.close()


async def test_a_write_refused_by_a_read_only_server_moves_the_pool_to_fresh_connections(
    pg: PostgresForTests,
):
    url = pg.migrated()
    database = urlsplit(url).path.lstrip("/")
    store = await Store.open(url)
    try:
        # A failover left the pool's connections on a server that is now a standby (read-only)...
        pg.server.psql(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
        await store.db.pool.expire_connections()
        with pytest.raises(asyncpg.exceptions.ReadOnlySQLTransactionError) as refused:
            await store.record([event(1)])
        assert store_unavailable(refused.value) and classify(refused.value) == "transient"
        # ...while new connections reach the new primary.
        pg.server.psql(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')
        assert await store.record([event(1)]) == 1
    finally:
        pg.server.psql(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')
        await store.close()


# -- a winner's claim and a reroll at the same moment -----------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def ended_giveaway(url: str) -> AsyncIterator[tuple[Store, GiveawayService, int]]:
    """A giveaway of one prize among six entrants, drawn and ended, on PostgreSQL."""
    store = await Store.open(url)
    clock = Clock()
    engine = ActivationService(store, FakePlatform(), Scheduler(), clock=clock)
    giveaways = GiveawayService(engine, Ingest(store))
    engine.register("giveaway", giveaways)
    try:
        brand = await store.create_brand(GUILD, "Acme", [CONTACT], [], by=MOD, now=NOW)
        await store.set_brand_status(GUILD, brand.id, expected="pending", status="approved", by=MOD, now=NOW)
        proposal = Proposal(brand.id, CHANNEL, NOW + H, NOW + 2 * H, "A cookbook", "paid")
        terms = GiveawayTerms(rules="One entry each.", winners=1)
        activation, _ = await giveaways.create(Actor(GUILD, CONTACT), proposal, terms)
        await engine.approve(Actor(GUILD, MOD, is_moderator=True), activation.id)
        clock.now = NOW + H
        assert await engine.run_due() == 1
        for fan in range(200, 206):
            assert await giveaways.enter(Actor(GUILD, fan), activation.id, Member(fan)) == "entered"
        clock.now = NOW + 2 * H
        assert await engine.run_due() == 1
        yield store, giveaways, activation.id
    finally:
        giveaways.close()
        await engine.close()
        await store.close()


async def test_a_claim_and_a_reroll_of_the_same_winner_at_the_same_moment_agree(
    pg: PostgresForTests, monkeypatch: pytest.MonkeyPatch
):
    async with ended_giveaway(pg.migrated()) as (store, giveaways, gid):
        (winner,) = (await store.giveaway_standing(gid)).winners
        real_claim, real_draw = store.claim_giveaway_prize, store.record_giveaway_draw
        claim_sent, draw_done = asyncio.Event(), asyncio.Event()

        async def slow_claim(*args: object) -> str:
            """The claim's statement in flight (not yet committed) while a draw may run: two
            statements of two connections at the same moment, as PostgreSQL allows."""
            async with store.db.transaction():
                outcome = await real_claim(*args)  # type: ignore[arg-type]
                claim_sent.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(draw_done.wait(), 0.5)
            return outcome

        async def draw_meanwhile(*args: object, **kwargs: object) -> bool:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(claim_sent.wait(), 0.5)
            try:
                return await real_draw(*args, **kwargs)  # type: ignore[arg-type]
            finally:
                draw_done.set()

        monkeypatch.setattr(store, "claim_giveaway_prize", slow_claim)
        monkeypatch.setattr(store, "record_giveaway_draw", draw_meanwhile)
        claimed, rerolled = await asyncio.gather(
            giveaways.claim_prize(Actor(GUILD, winner), gid),
            giveaways.reroll(Actor(GUILD, MOD, is_moderator=True), gid, winner),
            return_exceptions=True,
        )
        standing = await store.giveaway_standing(gid)
        if claimed == "claimed":  # the claim came first: the winner keeps the prize, nothing to reroll
            assert isinstance(rerolled, InvalidInput) and rerolled.key == "giveaway.error.nothing_to_reroll"
            assert standing.winners == (winner,) and standing.claimed == {winner}
        else:  # the reroll came first: the winner was replaced and their claim refused
            assert claimed == "claim_not_winner", claimed
            assert isinstance(rerolled, tuple) and rerolled[1] == [winner]
            assert winner not in standing.winners and not standing.claimed
