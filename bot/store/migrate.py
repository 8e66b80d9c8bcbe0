"""The one migration runner: how a database reaches the schema this version of the bot expects.

Schema lives in `migrations/NNNN_name.sql`, numbered 1..n without gaps; `PRAGMA user_version` holds
the number of the last file applied. At open, every newer file runs in one transaction together with
setting `user_version` to its number, so a fresh database and one at any older version both reach the
latest, and a file that fails leaves nothing of itself behind. A database at a version newer than
every file known here (written by a newer bot) is refused rather than used with a schema this code
does not know.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration file is misnamed, out of sequence, or failed to apply (nothing of it was kept), or
    the database is at a schema version newer than the migrations known here."""


@dataclass(frozen=True)
class Migration:
    version: int
    path: Path


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files of `directory` in order; refuses misnamed files and gaps in the numbering."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered 1..n without gaps; found {migration.path.name}"
            )
    return found


async def schema_version(db: aiosqlite.Connection) -> int:
    """The number of the last migration applied to this database (0 for a new one)."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration]) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction; the versions applied.

    `db` must be in autocommit mode (`isolation_level=None`) and not inside a transaction.
    """
    current = await schema_version(db)
    latest = max((m.version for m in migrations), default=0)
    if current > latest:
        raise MigrationError(
            f"the database is at schema version {current}, newer than the latest migration known here"
            f" ({latest}): it was written by a newer version of Microvoice; run that version (or restore"
            " a backup taken before the upgrade)"
        )
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        script = migration.path.read_text(encoding="utf-8")
        try:
            await db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version = {migration.version};\nCOMMIT;"
            )
        except Exception as exc:
            if db.in_transaction:
                await db.rollback()
            raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
        log.info("applied migration %s", migration.path.name)
        applied.append(migration.version)
    return applied
