"""The PostgreSQL side of the tests: the session's throwaway server (sandbox/postgres.py), a database
at the latest schema for each test, and the loud skip when PostgreSQL is not installed. The fixtures
are in tests/conftest.py; e2e/conftest.py uses the same helpers."""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from typing import Any

import pytest

from sandbox.postgres import PostgresServer

BACKENDS = ("sqlite", "postgresql")
NO_POSTGRES = (
    "PostgreSQL binaries not found (install Debian's postgresql package, or set MICROVOICE_PG_BIN): "
    "the PostgreSQL runs of the store and e2e tests were SKIPPED"
)
_counter = itertools.count(1)
skipped_for_postgres: list[str] = []


class PostgresForTests:
    """The session's server, and databases on it: empty ones, or the migrated one, emptied."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._migrated: str | None = None
        self._emptier: _Emptier | None = None

    def empty(self) -> str:
        """A new empty database (no migrations applied)."""
        return self.server.create_database(f"t{os.getpid()}_{next(_counter)}")

    def migrated(self) -> str:
        """The session's database at the latest schema, emptied: migrated once, then every row of
        every table deleted (triggers off) and identities restarted between tests, which takes a
        millisecond where copying a template database takes half a second. The emptying runs on one
        connection kept for the session: a `psql` per test cost a process and a server backend each."""
        if self._migrated is None:
            import asyncio
            import concurrent.futures

            from bot.store import Store

            url = self.server.create_database(f"microvoice_{os.getpid()}")

            async def migrate() -> None:
                store = await Store.open(url, pool_size=2)
                await store.close()

            # In a thread of its own: the caller may be an async fixture, inside a running loop.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, migrate()).result()
            self._migrated = url
        else:
            if self._emptier is None:
                self._emptier = _Emptier(self._migrated)
            self._emptier.run(_EMPTY_ALL)
        return self._migrated

    def close(self) -> None:
        if self._emptier is not None:
            self._emptier.close()
            self._emptier = None


class _Emptier:
    """A connection to one database on an event loop of its own thread, so a sync fixture can use it
    whether or not the test's loop is running."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-emptier", daemon=True)
        self.thread.start()
        self.conn: Any = None

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def run(self, sql: str) -> None:
        import asyncpg

        for attempt in (1, 2):
            if self.conn is None or self.conn.is_closed():
                self.conn = self._call(asyncpg.connect(self.url))
            try:
                self._call(self.conn.execute(sql))
                return
            except (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.InterfaceError):
                # A test ended this session's backend (terminating connections, say): connect again.
                self.conn = None
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            self._call(self.conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


_EMPTY_ALL = """
SET session_replication_role = replica;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables
              WHERE schemaname = 'public' AND tablename <> 'microvoice_schema' LOOP
        EXECUTE format('DELETE FROM %I', r.tablename);
    END LOOP;
    FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('SELECT setval(%L, 1, false)', r.sequencename);
    END LOOP;
END
$$;
"""


def require_postgres(postgres: PostgresForTests | None, request: pytest.FixtureRequest) -> PostgresForTests:
    if postgres is None:
        skipped_for_postgres.append(request.node.nodeid)
        pytest.skip(NO_POSTGRES)
    return postgres
