"""The only place that speaks SQL. aiosqlite over one SQLite file in WAL mode, foreign keys on (the
default, nothing to set up); or PostgreSQL through asyncpg, for several bot processes over one database.

`Store` is one object composed of a query mixin per concern, all sharing one connection and its write
lock (`base`):

- `migrate`     the migration runner: numbered files in migrations/, applied in order at open
- `ledger`      raw events, members and channels; activity counts
- `settings`    per-community settings and the installation's own state
- `graph`       what the trust graph is built from, read as numpy columns on reader connections
- `trust`       stored rankings, their snapshots and moderators' overrides
- `partners`    partner programs, consent, brands, member export and erasure, retention purge
- `activations` activations and their transitions, Q&A, takeovers
- `giveaways`   giveaway entries and draws, unique code pools
- `reddit`      subreddits bound to communities, stream cursors, Reddit account links
- `intents`     the platform actions activations depend on, recorded before they are tried
- `voice_roles` trusted-voice role rules and the members the bot gave a role to
- `reports`     report aggregates (fed with each ledger batch) and what reports read
- `locks`       advisory locks between the processes of one bot: shards served, one-at-a-time jobs

- `postgres`    the PostgreSQL connection and the small translation portable SQL needs there

Open with `await Store.open(target)`, where `target` is a file path (SQLite) or a `postgresql://` URL;
close with `await store.close()`. Every query is written once; `bot.store.postgres` explains what is
translated for PostgreSQL and how a query whose text must differ is written (`Dialects`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.store.activations import (
    ActivationQueries,
    AfterInsert,
    QaSummary,
    Question,
    TakeoverSnapshot,
    WindowCheck,
)
from bot.store.base import (
    PAGE_CACHE_KIB,
    Dialects,
    IntegrityError,
    Params,
    StoreBase,
    connect,
    store_unavailable,
)
from bot.store.giveaways import (
    ClaimOutcome,
    Draw,
    EntryOutcome,
    GiveawayQueries,
    Standing,
    write_codes,
    write_giveaway_secret,
)
from bot.store.graph import NO_DAY, EngagementColumns, GraphQueries, MemberDays, PostColumns
from bot.store.intents import IntentQueries, IntentRow
from bot.store.ledger import LedgerQueries
from bot.store.locks import HeldLocks, LockQueries
from bot.store.migrate import (
    MIGRATIONS_DIR,
    Migration,
    MigrationError,
    discover_migrations,
)
from bot.store.migrate import migrate as apply_migrations
from bot.store.migrate import schema_version as read_schema_version
from bot.store.partners import Brand, ConsentEntry, PartnerListing, PartnerQueries
from bot.store.postgres import ConstraintViolation, connect_postgres, is_postgres_url, redact
from bot.store.reddit import BindOutcome, BoundSubreddit, PendingLink, RedditLink, RedditQueries, Unbinding
from bot.store.reports import ReportQueries
from bot.store.settings import SETTING_COLUMNS, CommunitySettings, SettingsQueries
from bot.store.trust import TrustQueries
from bot.store.voice_roles import VoiceRoleQueries

__all__ = [
    "MIGRATIONS_DIR",
    "NO_DAY",
    "PAGE_CACHE_KIB",
    "SETTING_COLUMNS",
    "AfterInsert",
    "BindOutcome",
    "BoundSubreddit",
    "Brand",
    "ClaimOutcome",
    "CommunitySettings",
    "ConsentEntry",
    "ConstraintViolation",
    "Dialects",
    "Draw",
    "EngagementColumns",
    "EntryOutcome",
    "HeldLocks",
    "IntegrityError",
    "IntentRow",
    "MemberDays",
    "Migration",
    "MigrationError",
    "Params",
    "PartnerListing",
    "PendingLink",
    "PostColumns",
    "QaSummary",
    "Question",
    "RedditLink",
    "Standing",
    "Store",
    "StoreBase",
    "TakeoverSnapshot",
    "Unbinding",
    "WindowCheck",
    "discover_migrations",
    "is_postgres_url",
    "store_unavailable",
    "write_codes",
    "write_giveaway_secret",
]


class Store(
    LedgerQueries,
    SettingsQueries,
    GraphQueries,
    TrustQueries,
    PartnerQueries,
    ActivationQueries,
    GiveawayQueries,
    RedditQueries,
    IntentQueries,
    VoiceRoleQueries,
    ReportQueries,
    LockQueries,
):
    """Async facade over the database. Open with `await Store.open(target)`; close with `await close()`."""

    @classmethod
    async def open(
        cls,
        target: Path | str,
        *,
        migrations: Path = MIGRATIONS_DIR,
        pool_size: int = 10,
        migrate: bool = True,
    ) -> Store:
        """Connect and bring the schema up to date with the files in `migrations`. `target` is a SQLite
        file path, or a `postgresql://` URL (then `pool_size` connections at most). `migrate=False`
        only connects: a sharded process migrates once it holds its shards (`MicrovoiceBot.open_store`)."""
        if is_postgres_url(target):
            import asyncpg  # only a PostgreSQL store loads the driver

            url = str(target)
            try:
                pg = await connect_postgres(url, max_size=pool_size)
            except (OSError, asyncpg.PostgresError) as exc:
                raise ConnectionError(f"cannot reach PostgreSQL at {redact(url)}: {exc}") from exc
            try:
                store = cls(pg, Path(redact(url)))
                if migrate:
                    await store.migrate(discover_migrations(migrations))
            except BaseException:
                await pg.close()
                raise
            return store
        path = Path(target)
        db = await connect(path)
        try:
            store = cls(db, path)
            if migrate:
                await store.migrate(discover_migrations(migrations))
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    async def schema_version(self) -> int:
        return await read_schema_version(self.db)

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply every migration newer than the database, each in its own transaction."""
        return await apply_migrations(self.db, migrations)
