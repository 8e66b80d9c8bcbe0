"""Locks between the processes of one bot on one PostgreSQL database: the shards a process serves
(`Store.hold`, for as long as it runs) and work done by one process at a time (`Store.exclusive`).

They are session advisory locks, held on a pooled connection of their own: the server releases them
when that connection ends, whether the process died or only the connection did (a restart of the
server, a failover, a network fault, the connection ended by an administrator). So a long-held lock is
watched (`HeldLocks.watch`): the connection is probed every few seconds (a closed one is noticed at
once), and once it is lost the locks are taken back on a new connection, after ending this process's
old session if the server still has it (a connection that stopped answering keeps its locks until
the server notices). If another process took any of them meanwhile, this one is told which
(`on_lost`) and holds none: it must stop serving them. While the database cannot be reached the
attempts go on (meanwhile none of the process's work that goes through the database runs either).

SQLite: a database file has one process, so every lock is granted and there is nothing to watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bot.store.base import StoreBase, store_unavailable
from bot.store.postgres import PgConnection

log = logging.getLogger(__name__)

#: How often the connection holding the locks is asked whether it still answers.
PROBE_SECONDS = 5.0
#: How long that answer may take before the connection is taken for lost.
PROBE_TIMEOUT = 10.0
#: Between attempts to take the locks back while the database cannot be reached.
RETRY_SECONDS = 2.0
#: How long the server is given to end this process's old session (milliseconds).
END_SESSION_MS = 5000


def advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock's name."""
    digest = hashlib.sha256(f"microvoice:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


LostCallback = Callable[[list[str]], object]


class HeldLocks:
    """Named locks this process holds, on one connection of their own (none on SQLite). Awaiting the
    object itself (`await held()`) or `release()` gives them back."""

    def __init__(self, db: PgConnection | None, names: Sequence[str]) -> None:
        self.db = db
        self.names = tuple(names)
        self.probe_seconds = PROBE_SECONDS
        self.probe_timeout = PROBE_TIMEOUT
        self.retry_seconds = RETRY_SECONDS
        self._conn: Any = None
        self._keys: list[int] = []
        #: The server's pid and start time of the session holding the locks: what identifies it to
        #: end it later (a pid alone may have been reused by another process's session).
        self._session: tuple[int, datetime] | None = None
        self._closed = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def session_pid(self) -> int | None:
        """The server process of the session holding the locks (None on SQLite, or while retaking)."""
        return self._session[0] if self._session is not None and self._conn is not None else None

    async def take(self) -> list[str]:
        """Take every lock on a new connection: [] when all are held now, or the names another session
        holds (then none is kept). A failure midway gives back what it took, with the connection."""
        if self.db is None:
            return []
        timeout = self.db.timeouts.statement
        pool = self.db.pool
        conn = await pool.acquire(timeout=timeout)
        keys: list[int] = []
        taken: list[str] = []
        try:
            for name in self.names:
                key = advisory_key(name)
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", key, timeout=timeout):
                    keys.append(key)
                else:
                    taken.append(name)
            if not taken:
                row = await conn.fetchrow(
                    "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()",
                    timeout=timeout,
                )
        except BaseException:
            # Not left held by a connection nobody releases (every later attempt, everywhere, refused).
            with contextlib.suppress(Exception):
                await self._give_back(conn, keys)
            raise
        if taken:
            await self._give_back(conn, keys)
            return taken
        self._conn, self._keys = conn, keys
        self._session = (int(row["pid"]), row["backend_start"])
        self._closed.clear()
        conn.add_termination_listener(self._on_closed)
        return []

    async def release(self) -> None:
        """Stop watching and give every lock back."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher is not asyncio.current_task():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        conn, self._conn = self._conn, None
        if conn is not None and self._forget(conn):
            await self._give_back(conn, self._keys)

    async def __call__(self) -> None:
        await self.release()

    def watch(self, on_lost: LostCallback) -> None:
        """Watch the connection holding the locks until `release`: see the module's docstring.
        `on_lost(names)` is called once, with the names another process took, if that happens."""
        if self.db is not None and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(on_lost), name="microvoice-lock-watch")

    async def alive(self) -> bool:
        """Whether the connection holding the locks is open and answers."""
        conn = self._conn
        if conn is None or self._closed.is_set() or conn.is_closed():
            return False
        try:
            await conn.fetchval("SELECT 1", timeout=self.probe_timeout)
        except Exception as exc:
            if not store_unavailable(exc):
                raise
            log.debug("the connection holding %s did not answer: %r", self._label(), exc)
            return False
        return True

    async def take_back(self) -> list[str]:
        """Take the locks again on a new connection, after the one holding them was lost: [] once all
        are held again, or the names another process holds now (then none is kept). This process's
        old session is ended first if the server still has it; while the database cannot be reached
        this keeps trying, every `retry_seconds`."""
        assert self.db is not None
        old, self._conn = self._conn, None
        if old is not None and self._forget(old):  # still open (it stopped answering): drop it
            old.terminate()
            with contextlib.suppress(Exception):
                await self.db.pool.release(old)
        unreachable = False
        while True:
            try:
                await self._end_old_session()
                return await self.take()
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                if not unreachable:
                    log.warning(
                        "cannot take %s back yet (%r); trying again every %.0f s",
                        self._label(),
                        exc,
                        self.retry_seconds,
                    )
                unreachable = True
            await asyncio.sleep(self.retry_seconds)

    async def _end_old_session(self) -> None:
        """End the session that held the locks if the server still has it. Matched on its pid and its
        start time: a session of that pid started at another moment is someone else's."""
        if self._session is None or self.db is None:
            return
        pid, started = self._session
        timeout = self.db.timeouts.statement
        conn = await self.db.pool.acquire(timeout=timeout)
        find = "FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2"
        try:
            end = f"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) {find}"
            ended = await conn.fetchval(end, pid, started, timeout=timeout)
            # Its locks go when it has exited, not when it was signalled (the wait built into
            # pg_terminate_backend needs PostgreSQL 14).
            deadline = time.monotonic() + END_SESSION_MS / 1000
            while ended and time.monotonic() < deadline:
                if not await conn.fetchval(f"SELECT count(*) {find}", pid, started, timeout=timeout):
                    break
                await asyncio.sleep(0.05)
        finally:
            await self.db.pool.release(conn)
        if ended:
            log.info("ended this process's old database session %d, which still held %s", pid, self._label())
        self._session = None

    async def _watch(self, on_lost: LostCallback) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self.probe_seconds)
                if await self.alive():
                    continue
                log.warning("the database connection holding %s was lost; taking them back", self._label())
                taken = await self.take_back()
                if taken:
                    on_lost(taken)
                    return
                log.info("took %s back on a new database connection", self._label())
        except Exception:
            # Nothing watches the locks any more, so nothing tells whether they are still held: this
            # process must stop serving them, as when another process took them.
            log.exception(
                "watching %s failed; this process can no longer tell that it holds them", self._label()
            )
            on_lost(list(self.names))

    def _on_closed(self, _conn: object) -> None:
        self._closed.set()

    def _forget(self, conn: Any) -> bool:
        """Stop listening for the end of `conn`; False when it has ended already (asyncpg then handed
        it back to the pool itself, with its locks gone on the server)."""
        import asyncpg

        try:
            conn.remove_termination_listener(self._on_closed)
        except asyncpg.InterfaceError:  # released to the pool when it closed
            return False
        return not conn.is_closed()

    async def _give_back(self, conn: Any, keys: list[int]) -> None:
        assert self.db is not None
        pool = self.db.pool
        try:
            for key in keys:
                await conn.fetchval("SELECT pg_advisory_unlock($1)", key, timeout=self.db.timeouts.statement)
        finally:
            await pool.release(conn)

    def _label(self) -> str:
        return "the lock(s) " + ", ".join(self.names)


class LockQueries(StoreBase):
    async def hold(self, names: Sequence[str]) -> HeldLocks | list[str]:
        """Become the one process holding every one of `names` for as long as it runs (the shards it
        serves): the held locks (`HeldLocks`: await it to release them, `watch` it to keep them), or
        the names another process holds (then none is held)."""
        held = HeldLocks(self.db if isinstance(self.db, PgConnection) else None, names)
        taken = await held.take()
        if taken:
            return taken
        return held

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Try to become the one process doing `name` (a global job); yields whether it did.

        PostgreSQL: a session advisory lock, held on a connection of its own until the block ends
        and released by the server if the process dies. SQLite: a database file has one process,
        so it is always granted."""
        held = await self.hold([name])
        if isinstance(held, list):
            yield False
            return
        try:
            yield True
        finally:
            await held.release()
