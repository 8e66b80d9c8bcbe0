"""The connection every query mixin of `bot.store.Store` shares, how writes take turns on it, and the
read-only connections that bulk reads use beside it.

The connection is aiosqlite's (SQLite, the default) or `bot.store.postgres.PgConnection` (PostgreSQL),
which offers the same `execute` / `executemany` / cursor surface; `dialect` says which. Write SQL
once, portably: see `bot.store.postgres` for what is translated and `Dialects` for the rare query
whose text must differ.

One aiosqlite connection serves the whole bot. Its statements run one at a time, but two tasks could
still interleave a `BEGIN ... COMMIT` with each other's statements: a second `BEGIN` fails, and a
single statement sent meanwhile silently joins (and could be rolled back with) the other task's
transaction. So every write goes through one lock: multi-statement work in `transaction()`, single
statements through `write()`.

Reads need no lock, because every statement on this connection runs to its end in one step on the
connection's thread, its rows kept (`_WholeStatements`), whatever its caller then fetches. A statement
left open between a caller's steps (`execute`, then the fetches) would hold a read snapshot across
other tasks' turns; SQLite then refuses another task's write at once, whatever the busy timeout: with
SQLITE_BUSY while the ingest writer's connection is in the middle of a batch, with
SQLITE_BUSY_SNAPSHOT once it has committed ("database is locked" both). With no statement left open,
a write only ever waits for the ingest writer's batch, up to the busy timeout.

Large reads (the trust graph's columns) run on worker threads over connections of their own
(`reader()`), which in WAL mode never block the writer and are never blocked by it.

On PostgreSQL, statements outside a transaction run on pooled connections concurrently; transactions
still take the write lock, so within one process multi-statement work keeps SQLite's one-at-a-time
semantics, and across processes the guarded single statements and unique keys decide.
`exclusive(name)` (`bot.store.locks`) is a cluster-wide advisory lock for work that must run in one
process at a time.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot import allocator
from bot.store.postgres import Dialects, PgConnection

__all__ = [
    "PAGE_CACHE_KIB",
    "Dialects",
    "IntegrityError",
    "Params",
    "StoreBase",
    "connect",
    "store_unavailable",
    "store_unavailable_briefly",
]

#: What a refused write raises on either backend (PostgreSQL's is a subclass of it).
IntegrityError = sqlite3.IntegrityError


def store_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not take a query just now: worth trying again later,
    unlike a refused or malformed query. SQLite: locked or busy past the busy timeout. Either: the
    network (a connection refused, reset or timed out, an unreachable host, a name that does not
    resolve) or a statement past its timeout (`TimeoutError`). PostgreSQL: the connection lost or in
    a state it cannot leave (asyncpg's interface and internal client errors, as on a pooled
    connection the server restarted under), the server shutting down, starting up or out of
    resources or connections, a statement cancelled, a transaction rolled back by a deadlock or a
    serialization failure, a lock not granted in time, a session ended for idling, and a server that
    turned read-only (a failover to a standby)."""
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "locked" in text or "busy" in text
    if isinstance(error, OSError):  # ConnectionError, TimeoutError, socket.gaierror, EHOSTUNREACH...
        return True
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return False
    e = asyncpg.exceptions
    return isinstance(
        error,
        e.PostgresConnectionError
        | e.InterfaceError
        | e.InternalClientError
        | e.InsufficientResourcesError
        | e.OperatorInterventionError
        | e.TransactionRollbackError
        | e.LockNotAvailableError
        | e.IdleInTransactionSessionTimeoutError
        | e.IdleSessionTimeoutError
        | e.ReadOnlySQLTransactionError,
    )


def store_unavailable_briefly(error: BaseException) -> bool:
    """Whether `error` is a `store_unavailable` one that usually clears within seconds (a connection
    lost or refused, a restart, a failover, a lock), rather than the server running out of disk or
    memory, which a retry every few seconds would not help."""
    if not store_unavailable(error):
        return False
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is not None and isinstance(error, asyncpg.exceptions.InsufficientResourcesError):
        return isinstance(error, asyncpg.exceptions.TooManyConnectionsError)
    return True


Params = Sequence[Any] | dict[str, Any]

#: Page cache of the main connection, in KiB (SQLite's default is 2 MB). Commands read aggregates
#: and stored results through indexes, and the trust graph is read in one pass, so a larger cache
#: measured no faster (bench/queries.py at 9.1M events) and only stayed resident.
PAGE_CACHE_KIB = 16_384


class _FinishedCursor:
    """A statement already run to its end: its rows, kept, and what the cursor said of it."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows: list[Any] = cursor.fetchall()
        self._next = 0
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.description = cursor.description
        self.arraysize = cursor.arraysize
        cursor.close()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        start = self._next
        self._next = min(len(self._rows), start + (self.arraysize if size is None else size))
        return self._rows[start : self._next]

    def fetchone(self) -> Any:
        taken = self.fetchmany(1)
        return taken[0] if taken else None

    def fetchall(self) -> list[Any]:
        return self.fetchmany(len(self._rows))

    def close(self) -> None:
        self._rows, self._next = [], 0


class _WholeStatements(sqlite3.Connection):
    """The main connection's sqlite3 side: `execute` steps its statement to the end in the same call
    (on aiosqlite's thread), so no statement, and no read snapshot, outlasts the caller's turn on the
    connection (see the module's docstring)."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return _FinishedCursor(super().execute(sql, parameters))


async def connect(path: Path) -> aiosqlite.Connection:
    """The main connection: autocommit (transactions are explicit), WAL, foreign keys on, every
    statement run to its end at once."""
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None, factory=_WholeStatements)
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA busy_timeout = 5000")
        # A page cache that holds the hot part of the ledger's indexes: SQLite's default (2 MB)
        # makes every trigger upsert on a large database a disk read.
        await db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    except BaseException:
        await db.close()
        raise
    return db


class StoreBase:
    db: Any  # aiosqlite.Connection, or PgConnection which offers the same surface
    path: Path
    dialect: str = "sqlite"
    _write_lock: asyncio.Lock | None = None

    def __init__(self, db: aiosqlite.Connection | PgConnection, path: Path) -> None:
        self.db = db
        self.path = path
        self.dialect = "postgresql" if isinstance(db, PgConnection) else "sqlite"

    @property
    def postgresql(self) -> bool:
        return self.dialect == "postgresql"

    # -- writes -----------------------------------------------------------------------------------

    def _writer(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """`BEGIN IMMEDIATE` … `COMMIT` (or `ROLLBACK` on any error), one task at a time."""
        if isinstance(self.db, PgConnection):
            async with self._writer(), self.db.transaction() as db:
                yield db
            return
        async with self._writer():
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                await self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise

    async def write(self, sql: str, params: Params = ()) -> Any:
        """One statement in its own (autocommit) transaction, never inside another task's."""
        if isinstance(self.db, PgConnection):
            return await self.db.execute(sql, params)
        async with self._writer():
            return await self.db.execute(sql, params)

    async def write_many(self, sql: str, rows: Iterable[Params]) -> Any:
        if isinstance(self.db, PgConnection):
            return await self.db.executemany(sql, rows)
        async with self._writer():
            return await self.db.executemany(sql, rows)

    async def write_returning(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """One writing statement with a RETURNING clause; its rows."""
        if isinstance(self.db, PgConnection):
            async with self.db.execute(sql, params) as cur:
                return list(await cur.fetchall())
        async with self._writer():
            return list(await self.db.execute_fetchall(sql, params))

    # -- reads ------------------------------------------------------------------------------------

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        """Reads inside the block see one state of the database. PostgreSQL: a read-only REPEATABLE
        READ transaction. SQLite: nothing to do, as its one connection has one writer, this process."""
        if isinstance(self.db, PgConnection):
            async with self.db.snapshot():
                yield
        else:
            yield

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first value of the first row of a query (None when there is no row)."""
        async with self.db.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        async with self.db.execute(sql, params) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    @property
    def separate_reads(self) -> bool:
        """Whether bulk reads can use SQLite connections of their own (not for an in-memory database,
        nor on PostgreSQL, whose reads never block writers anyway)."""
        return self.dialect == "sqlite" and str(self.path) != ":memory:"

    def reader(self) -> sqlite3.Connection:
        """A read-only connection of our own to the same WAL file (readers never block writers);
        plain sqlite3, for a worker thread. The caller closes it."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 5000")
        return db

    async def release_memory(self) -> None:
        """Empty the main connection's page cache after a one-off bulk read (start-up, a recompute,
        a gap fill) and hand freed memory back to the operating system. The pages stay in the
        operating system's file cache: the next command reads them back in microseconds, and only
        what commands touch comes back into the process."""
        if self.dialect == "sqlite":
            await self.db.execute("PRAGMA shrink_memory")
        allocator.trim()
