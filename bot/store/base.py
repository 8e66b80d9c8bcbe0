"""The connection every query mixin of `bot.store.Store` shares, how writes take turns on it, and the
read-only connections that bulk reads use beside it.

One aiosqlite connection serves the whole bot. Its statements run one at a time, but two tasks could
still interleave a `BEGIN ... COMMIT` with each other's statements: a second `BEGIN` fails, and a
single statement sent meanwhile silently joins (and could be rolled back with) the other task's
transaction. So every write goes through one lock: multi-statement work in `transaction()`, single
statements through `write()`.

Large reads (the trust graph's columns) run on worker threads over connections of their own
(`reader()`), which in WAL mode never block the writer and are never blocked by it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]

#: Page cache of the main connection, in KiB (SQLite's default is 2 MB).
PAGE_CACHE_KIB = 65_536


async def connect(path: Path) -> aiosqlite.Connection:
    """The main connection: autocommit (transactions are explicit), WAL, foreign keys on."""
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None)
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
    db: aiosqlite.Connection
    path: Path
    _write_lock: asyncio.Lock | None = None

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    # -- writes -----------------------------------------------------------------------------------

    def _writer(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` … `COMMIT` (or `ROLLBACK` on any error), one task at a time."""
        async with self._writer():
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                await self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise

    async def write(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """One statement in its own (autocommit) transaction, never inside another task's."""
        async with self._writer():
            return await self.db.execute(sql, params)

    async def write_many(self, sql: str, rows: Iterable[Params]) -> aiosqlite.Cursor:
        async with self._writer():
            return await self.db.executemany(sql, rows)

    async def write_returning(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """One writing statement with a RETURNING clause; its rows."""
        async with self._writer(), self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- reads ------------------------------------------------------------------------------------

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
        """Whether bulk reads can use connections of their own (not for an in-memory database)."""
        return str(self.path) != ":memory:"

    def reader(self) -> sqlite3.Connection:
        """A read-only connection of our own to the same WAL file (readers never block writers);
        plain sqlite3, for a worker thread. The caller closes it."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 5000")
        return db
