"""The migration runner (bot/store/migrate.py) on throwaway migration directories and the real one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import MIGRATIONS_DIR, MigrationError, Store, discover_migrations
from tests.pg import PostgresForTests, require_postgres
from tests.sqlite_template import SqliteTemplate

# Each file records the schema version it ran at: the runner sets user_version after the file's own
# statements, inside the same transaction.
LOG_AT_VERSION = "INSERT INTO applied (file, seen_version) SELECT {n}, user_version FROM pragma_user_version;"


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, body in files.items():
        (directory / name).write_text(f"-- Reason: test\n{body}\n", encoding="utf-8")
    return directory


def three_files(directory: Path) -> Path:
    return write(
        directory,
        {
            "0001_log.sql": "CREATE TABLE applied (file INTEGER, seen_version INTEGER);"
            + LOG_AT_VERSION.format(n=1),
            "0002_second.sql": "CREATE TABLE second (x);" + LOG_AT_VERSION.format(n=2),
            "0003_third.sql": "ALTER TABLE second ADD COLUMN y;" + LOG_AT_VERSION.format(n=3),
        },
    )


async def applied_rows(store: Store) -> list[tuple[int, int]]:
    return [(int(f), int(v)) for f, v in await store.fetch_all("SELECT file, seen_version FROM applied")]


async def schema(store: Store) -> list[tuple[str, str]]:
    return [
        (str(n), str(s))
        for n, s in await store.fetch_all("SELECT name, sql FROM sqlite_master ORDER BY type, name")
    ]


async def test_files_apply_in_order_each_setting_its_version(tmp_path: Path):
    migrations = three_files(tmp_path / "m")
    store = await Store.open(tmp_path / "db.sqlite3", migrations=migrations)
    try:
        assert await applied_rows(store) == [(1, 0), (2, 1), (3, 2)]
        assert await store.schema_version() == 3
        assert await store.scalar("SELECT count(*) FROM pragma_table_info('second')") == 2
    finally:
        await store.close()


async def test_files_are_applied_in_version_order_whatever_order_they_are_given(tmp_path: Path):
    migrations = three_files(tmp_path / "m")
    store = await Store.open(tmp_path / "db.sqlite3", migrations=write(tmp_path / "empty", {}))
    try:
        assert await store.migrate(list(reversed(discover_migrations(migrations)))) == [1, 2, 3]
        assert await applied_rows(store) == [(1, 0), (2, 1), (3, 2)]
    finally:
        await store.close()


async def test_each_file_is_one_transaction(tmp_path: Path):
    """A failing file keeps nothing of itself (not even the statements before the failing one), and
    the files before it stay applied."""
    migrations = three_files(tmp_path / "m")
    (migrations / "0003_third.sql").write_text(
        "-- Reason: test\n"
        + LOG_AT_VERSION.format(n=3)
        + "CREATE TABLE third (x);\nSELECT nope FROM nowhere;\n"
    )
    path = tmp_path / "db.sqlite3"
    with pytest.raises(MigrationError, match=r"0003_third\.sql failed"):
        await Store.open(path, migrations=migrations)
    (migrations / "0003_third.sql").unlink()
    store = await Store.open(path, migrations=migrations)
    try:
        assert await store.schema_version() == 2
        assert await applied_rows(store) == [(1, 0), (2, 1)]
        assert await store.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'third'") == 0
    finally:
        await store.close()


async def test_reopening_applies_nothing_again(tmp_path: Path):
    migrations = three_files(tmp_path / "m")
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path, migrations=migrations)
    before = await schema(store)
    await store.close()
    store = await Store.open(path, migrations=migrations)
    try:
        assert await store.migrate(discover_migrations(migrations)) == []
        assert await schema(store) == before
        assert await applied_rows(store) == [(1, 0), (2, 1), (3, 2)]  # no file ran twice
        assert await store.schema_version() == 3
    finally:
        await store.close()


async def test_a_database_from_a_newer_version_is_refused_and_left_alone(tmp_path: Path):
    migrations = three_files(tmp_path / "m")
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path, migrations=migrations)
    await store.close()
    older = write(tmp_path / "older", {"0001_log.sql": (migrations / "0001_log.sql").read_text()})
    refused = r"schema version 3, newer than the latest migration known here \(1\)"
    with pytest.raises(MigrationError, match=refused):
        await Store.open(path, migrations=older)
    store = await Store.open(path, migrations=migrations)
    try:
        assert await store.schema_version() == 3
        assert await applied_rows(store) == [(1, 0), (2, 1), (3, 2)]
    finally:
        await store.close()


async def test_a_tests_sqlite_database_is_its_own_copy_at_the_latest_schema(
    sqlite_template: SqliteTemplate, tmp_path: Path
):
    """The tests' SQLite databases start as copies of one migrated file (tests/sqlite_template.py): each
    is at the latest schema, the same as a file the store migrates itself, and apart from the others."""
    latest = len(discover_migrations())
    first = sqlite_template.copy_to(tmp_path / "first.sqlite3")
    second = sqlite_template.copy_to(tmp_path / "second.sqlite3")
    with sqlite3.connect(first) as con:
        assert con.execute("PRAGMA user_version").fetchone() == (latest,)
        con.execute("INSERT INTO bot_state (key, value) VALUES ('only', 'first')")
    store = await Store.open(second)
    try:
        assert await store.migrate(discover_migrations()) == []  # nothing left to apply
        assert await store.get_state("only") is None
    finally:
        await store.close()
    migrated = await Store.open(tmp_path / "migrated.sqlite3")
    await migrated.close()
    for path in (second, tmp_path / "migrated.sqlite3"):
        with sqlite3.connect(path) as con:
            tables = con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        with sqlite3.connect(first) as con:
            assert (
                con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
                == tables
            )
    # A database already there (an older schema a test wrote, say) is left as it is.
    older = tmp_path / "older.sqlite3"
    with sqlite3.connect(older) as con:
        con.execute("PRAGMA user_version = 1")
    assert sqlite_template.copy_to(older) == older
    with sqlite3.connect(older) as con:
        assert con.execute("PRAGMA user_version").fetchone() == (1,)


def test_shipped_migrations_are_numbered_and_each_says_why():
    found = discover_migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(m.path.parent == MIGRATIONS_DIR for m in found)
    for m in found:
        assert m.path.read_text(encoding="utf-8").startswith("-- Reason:"), m.path.name


def test_misnamed_migration_files_are_refused(tmp_path: Path):
    write(tmp_path, {"0001_ok.sql": "", "2_bad.sql": ""})
    with pytest.raises(MigrationError, match=r"2_bad\.sql"):
        discover_migrations(tmp_path)


ACTIVATION = (
    "INSERT INTO activations (community_id, brand_id, kind, title, channel_id, starts_at, ends_at,"
    " created_by, created_at, updated_at) VALUES (1, 1, ?, 'T', 5, '2026-01-01', '2026-01-02', 9,"
    " '2026-01-01', '2026-01-01')"
)


async def test_the_announcement_kind_is_added_in_place_keeping_rows_and_children(
    tmp_path: Path, backend: str, postgres: PostgresForTests | None, request: pytest.FixtureRequest
):
    """0015 widens the CHECK on activations.kind by editing the stored schema: existing activations and
    the rows hanging off them (ON DELETE CASCADE) stay, and the constraint still refuses unknown kinds."""
    older = tmp_path / "m"
    older.mkdir()
    (older / "postgresql").mkdir()
    for migration in discover_migrations():
        if migration.version < 15:
            (older / migration.path.name).write_bytes(migration.path.read_bytes())
            if migration.postgresql is not None:
                override = older / "postgresql" / migration.postgresql.name
                override.write_bytes(migration.postgresql.read_bytes())
    target = tmp_path / "db.sqlite3" if backend == "sqlite" else require_postgres(postgres, request).empty()
    store = await Store.open(target, migrations=older)
    try:
        await store.db.execute(
            "INSERT INTO brands (id, community_id, name, created_by, created_at, updated_at)"
            " VALUES (1, 1, 'A', 9, 'x', 'x')"
        )
        await store.db.execute(ACTIVATION, ("giveaway",))
        await store.db.execute(
            "INSERT INTO activation_transitions (activation_id, community_id, to_state, at)"
            " VALUES (1, 1, 'pending', '2026-01-01')"
        )
        with pytest.raises(sqlite3.IntegrityError):
            await store.db.execute(ACTIVATION, ("announcement",))
    finally:
        await store.close()
    store = await Store.open(target)
    try:
        assert await store.schema_version() >= 15
        assert await store.scalar("SELECT count(*) FROM activation_transitions") == 1
        await store.db.execute(ACTIVATION, ("announcement",))
        assert await store.scalar("SELECT group_concat(kind) FROM activations") == "giveaway,announcement"
        with pytest.raises(sqlite3.IntegrityError):
            await store.db.execute(ACTIVATION, ("poll",))
        with pytest.raises(sqlite3.IntegrityError, match="cannot change kind"):
            await store.db.execute("UPDATE activations SET kind = 'qa' WHERE id = 1")
        if backend == "postgresql":
            return
        assert await store.scalar("SELECT integrity_check FROM pragma_integrity_check") == "ok"
        assert await store.scalar("SELECT count(*) FROM sqlite_temp_master") == 0
    finally:
        await store.close()
