"""Both databases for the tests: SQLite files in tmp_path, and a throwaway PostgreSQL server shared by
the whole session (sandbox/postgres.py) when its binaries are installed.

`database` is parametrized over both backends: a test taking it (or a fixture built on it) runs once
per backend. Each PostgreSQL test gets the session's migrated database, emptied. Without PostgreSQL
those runs are skipped with the reason, and the session summary says so.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.postgres import PostgresServer, find_binaries

BACKENDS = ("sqlite", "postgresql")
NO_POSTGRES = (
    "PostgreSQL binaries not found (install Debian's postgresql package, or set MICROVOICE_PG_BIN): "
    "the PostgreSQL runs of the store and e2e tests were SKIPPED"
)
_counter = itertools.count(1)
_skipped_for_postgres: list[str] = []


class PostgresForTests:
    """The session's server, a template database at the latest schema, and fresh copies of it."""

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

            from bot.store import Store

            url = self.server.create_database(f"microvoice_{os.getpid()}")

            async def migrate() -> None:
                store = await Store.open(url, pool_size=2)
                await store.close()

            asyncio.run(migrate())
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests | None]:
    """The session's throwaway PostgreSQL server, or None when it is not installed."""
    binaries = find_binaries()
    if binaries is None:
        yield None
        return
    server = PostgresServer(binaries)
    server.start()
    try:
        yield PostgresForTests(server)
    finally:
        server.stop()


def require_postgres(postgres: PostgresForTests | None, request: pytest.FixtureRequest) -> PostgresForTests:
    if postgres is None:
        _skipped_for_postgres.append(request.node.nodeid)
        pytest.skip(NO_POSTGRES)
    return postgres


@pytest.fixture
def pg(postgres: PostgresForTests | None, request: pytest.FixtureRequest) -> PostgresForTests:
    """The PostgreSQL server (the test is skipped, loudly, without one)."""
    return require_postgres(postgres, request)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(
    backend: str, tmp_path: Path, postgres: PostgresForTests | None, request: pytest.FixtureRequest
) -> str | Path:
    """Where a store for this test lives: a fresh SQLite file, or a fresh migrated PostgreSQL database."""
    if backend == "sqlite":
        return tmp_path / "db.sqlite3"
    return require_postgres(postgres, request).migrated()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_for_postgres:
        terminalreporter.write_line(
            f"NOTICE: {len(_skipped_for_postgres)} PostgreSQL test run(s) skipped: {NO_POSTGRES}",
            yellow=True,
            bold=True,
        )
