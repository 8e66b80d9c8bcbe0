"""The PostgreSQL side of the tests: the session's throwaway server (sandbox/postgres.py), a database
at the latest schema for each test, and the loud skip when PostgreSQL is not installed. The fixtures
are in tests/conftest.py; e2e/conftest.py uses the same helpers."""

from __future__ import annotations

import itertools
import os

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

    def empty(self) -> str:
        """A new empty database (no migrations applied)."""
        return self.server.create_database(f"t{os.getpid()}_{next(_counter)}")

    def migrated(self) -> str:
        """The session's database at the latest schema, emptied: migrated once, then every row of
        every table deleted (triggers off) and identities restarted between tests, which takes a
        millisecond where copying a template database takes half a second."""
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
            self.server.psql(_EMPTY_ALL, database=f"microvoice_{os.getpid()}")
        return self._migrated


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


