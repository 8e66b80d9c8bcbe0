"""The connection every query mixin of `bot.store.Store` shares, and how writes take turns on it.

One aiosqlite connection serves the whole bot. Its statements run one at a time, but two tasks could
still interleave a `BEGIN ... COMMIT` with each other's statements: a second `BEGIN` fails, and a
single statement sent meanwhile silently joins (and could be rolled back with) the other task's
transaction. So every write goes through one lock: multi-statement work in `transaction()`, single
statements through `write()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]


class StoreBase:
    db: aiosqlite.Connection
    _write_lock: asyncio.Lock | None = None

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
