"""Both databases for the tests: SQLite files in tmp_path, and a throwaway PostgreSQL server shared by
the whole session (sandbox/postgres.py) when its binaries are installed.

`database` is parametrized over both backends: a test taking it (or a fixture built on it) runs once
per backend. Each SQLite test gets a copy of a file migrated once per session (tests/sqlite_template.py),
each PostgreSQL test the session's migrated database, emptied. Without PostgreSQL
those runs are skipped with the reason, and the session summary says so.

The order of the run and xdist's scheduling are in tests/schedule.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import cpu
from sandbox.postgres import PostgresServer, find_binaries
from tests import schedule
from tests.pg import BACKENDS, NO_POSTGRES, PostgresForTests, require_postgres, skipped_for_postgres
from tests.sqlite_template import SqliteTemplate

# numpy set up as the bot sets it up, before any test module imports it (bot/cpu.py); none of the
# imports above imports numpy.
cpu.prefer_fast_sorts()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: schedule.run_order(item.nodeid))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What importing and collecting created (a few hundred thousand objects: discord.py, numpy, the test
    modules) lives as long as the run: freeze it, so that the full garbage collections the tests trigger
    stop walking it every time (they took a tenth of the suite's CPU). The tests allocate in bursts
    (floods, simulated communities, hypothesis): collect less often, in larger steps."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    with schedule.raised_priority(item.nodeid):
        return (yield)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`-n` with xdist's default distribution: tests/schedule.py's (another `--dist` is left alone)."""
    if config.getvalue("dist") != "load":
        return None
    return schedule.make_scheduler(config, log)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests | None]:
    """The session's throwaway PostgreSQL server, or None when it is not installed."""
    binaries = find_binaries()
    if binaries is None:
        yield None
        return
    server = PostgresServer(binaries)
    server.start()
    databases = PostgresForTests(server)
    try:
        yield databases
    finally:
        databases.close()
        server.stop()


@pytest.fixture
def pg(postgres: PostgresForTests | None, request: pytest.FixtureRequest) -> PostgresForTests:
    """The PostgreSQL server (the test is skipped, loudly, without one)."""
    return require_postgres(postgres, request)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    """The session's migrated SQLite file, copied for each test that needs a database at the latest schema."""
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(
    backend: str,
    tmp_path: Path,
    postgres: PostgresForTests | None,
    sqlite_template: SqliteTemplate,
    request: pytest.FixtureRequest,
) -> str | Path:
    """Where a store for this test lives: a fresh migrated SQLite file, or a fresh migrated PostgreSQL
    database."""
    if backend == "sqlite":
        return sqlite_template.copy_to(tmp_path / "db.sqlite3")
    return require_postgres(postgres, request).migrated()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if skipped_for_postgres:
        terminalreporter.write_line(
            f"NOTICE: {len(skipped_for_postgres)} PostgreSQL test run(s) skipped: {NO_POSTGRES}",
            yellow=True,
            bold=True,
        )
