"""SQLite databases at the latest schema for the tests, as the PostgreSQL side has them (tests/pg.py):
the migrations run once per process into a template file, and a test's database starts as a copy of it,
which costs a fraction of migrating a new file. The bot and the store open the copy as they would any
database at the latest schema (nothing left to apply). The fixture is in tests/conftest.py."""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
from pathlib import Path


class SqliteTemplate:
    """A migrated database file, made on first use, copied wherever a test's database is to be."""

    def __init__(self, directory: Path) -> None:
        self.file = directory / "template.sqlite3"
        self._made = False

    def copy_to(self, path: Path) -> Path:
        """`path` as a new database at the latest schema; a database already there is left as it is
        (a test that wrote its own, an older schema, say)."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._template(), path)
        return path

    def _template(self) -> Path:
        if not self._made:
            from bot.store import Store

            async def migrate() -> None:
                store = await Store.open(self.file)
                await store.close()

            # In a thread of its own: the caller may be an async fixture, inside a running loop.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, migrate()).result()
            # The last connection's close checkpointed the write-ahead log: the file alone is the database.
            assert not Path(f"{self.file}-wal").exists(), "the template's WAL was not checkpointed"
            self._made = True
        return self.file
