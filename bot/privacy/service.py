"""Members' privacy rights as a service: export, erasure, and the retention purge the scheduler runs.

Buffered events are written before an export or an erasure, so neither misses what the member did a
second ago; after rows are deleted the cached trust graph of that community is dropped, so the next
ranking is rebuilt without them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.privacy.rules import build_export, export_bytes, new_pseudonym, retention_cutoff

if TYPE_CHECKING:  # the store imports this package for the privacy rules
    from bot.audit import AuditLog
    from bot.ingest import Ingest
    from bot.store import Store

log = logging.getLogger(__name__)

#: Exports larger than this are gzipped, to stay under the platforms' attachment limits.
EXPORT_GZIP_OVER = 8_000_000  # bytes
RETENTION_JOB = "retention-purge"
RETENTION_EVERY_MINUTES = 24 * 60
#: The first purge after start-up (the daily job's first run is a day after start).
RETENTION_FIRST_SECONDS = 300


class RankingCache(Protocol):
    async def invalidate(self, community_id: int) -> None:
        """Forget what is cached about a community's engagement (rows were deleted)."""

    def writing(self, community_id: int) -> AbstractAsyncContextManager[Any]:
        """Held while rows are deleted (and until `invalidate`): no ranking computed before the deletion
        is written while it is held or after."""


@dataclass(frozen=True)
class Export:
    """An export file: its bytes, a file name, and how many rows it holds."""

    data: bytes
    filename: str
    rows: int


class PrivacyService:
    def __init__(
        self,
        store: Store,
        ingest: Ingest,
        rankings: RankingCache,
        *,
        clock: Callable[[], datetime],
        default_retention_days: int,
        gzip_over: int = EXPORT_GZIP_OVER,
        owns: Callable[[int], bool] = lambda _community_id: True,
        linked: Callable[[int, int], Awaitable[list[int]]] | None = None,
        audit: AuditLog | None = None,
        before_erase: Callable[[int, int], Awaitable[list[int]]] | None = None,
        roles_held: Callable[[int], AbstractAsyncContextManager[Any]] | None = None,
    ) -> None:
        self.audit = audit
        #: Runs before an erasure (with the community and the member): takes back the roles the bot gave.
        self.before_erase = before_erase
        #: Held from taking the roles back until the member's rows are gone (the community's role sync
        #: lock): no sync that read the ranking before gives them a role meanwhile.
        self.roles_held = roles_held
        #: Told each erased identity (a member, and the account they linked), to drop what is kept of
        #: it in memory (the Reddit side's account names).
        self.on_erased: list[Callable[[int], None]] = []
        self.store = store
        self.ingest = ingest
        self.rankings = rankings
        self.clock = clock
        self.default_retention_days = default_retention_days
        self.gzip_over = gzip_over
        # Sharded processes purge the communities on their own shards only (bot/shards.py).
        self.owns = owns
        # The member's other identities they linked themselves (a Reddit account): exported and
        # erased with them.
        self.linked = linked

    async def export(self, community_id: int, member_id: int) -> Export:
        """Every row about the member in this community, other people redacted, as a JSON file."""
        await self.ingest.flush()
        tables = await self.store.member_data(community_id, member_id)
        document = build_export(community_id, member_id, tables, self.clock())
        linked = []
        for other in await self._linked(community_id, member_id):
            tables = await self.store.member_data(community_id, other)
            part = build_export(community_id, other, tables, self.clock())
            linked.append({"identity": part["member_id"], "tables": part["tables"]})
        if linked:
            document["linked_identities"] = linked
        data, name = export_bytes(document), f"microvoice-{community_id}-{member_id}.json"
        if len(data) > self.gzip_over:
            import gzip  # with the first large export, not at start-up

            data, name = gzip.compress(data), name + ".gz"
        rows = sum(len(r) for part in [document, *linked] for r in part["tables"].values())
        return Export(data, name, rows)

    async def _linked(self, community_id: int, member_id: int) -> list[int]:
        return [] if self.linked is None else await self.linked(community_id, member_id)

    async def erase(self, community_id: int, member_id: int, *, by: int | None = None) -> dict[str, int]:
        """Erase one member from one community (aggregates kept under a fresh pseudonym). `by` is the
        moderator who asked for it, None when the member asked themselves. The audit log gets the
        number of rows, never who was erased."""
        # What they did up to now is refused from here on, however it arrives meanwhile (a gap fill, a
        # Reddit stream read again while the roles are taken back); then the buffer is written, so
        # their buffered events are erased too.
        linked = await self._linked(community_id, member_id)  # before the link itself goes
        self._refuse(community_id, (member_id, *linked), self.clock())
        await self.ingest.flush()
        kept: list[int] = []
        held = self.roles_held(community_id) if self.roles_held is not None else contextlib.nullcontext()
        async with held:
            if self.before_erase is not None:
                try:
                    kept = await self.before_erase(community_id, member_id)
                except Exception:  # the erasure itself must go ahead
                    log.warning("could not take back the roles of a member before erasure", exc_info=True)
            counts: dict[str, int] = {"roles_kept": len(kept)} if kept else {}
            async with self.rankings.writing(community_id):  # a racing recompute writes nothing of them
                await self.ingest.flush()  # what arrived meanwhile (their sightings, engagement with them)
                for other in linked:
                    erased = await self.store.forget_member(
                        community_id, other, pseudonym=new_pseudonym(), now=self.clock()
                    )
                    counts.update({f"linked_{k}": v for k, v in erased.items()})
                counts |= await self.store.forget_member(
                    community_id, member_id, pseudonym=new_pseudonym(), now=self.clock()
                )
                await self.rankings.invalidate(community_id)
        # What they did before is not recorded again, however it arrives (a gap fill, a Reddit
        # stream read again), and engagement with them is recorded unlinked until they are back.
        self._refuse(community_id, (member_id, *linked), self.clock())
        for identity in (member_id, *linked):
            for forget in self.on_erased:
                forget(identity)
        log.info("erased a member from community %s: %s", community_id, counts)  # never who
        if self.audit is not None:
            rows = sum(v for k, v in counts.items() if k != "roles_kept")
            if by is None:
                await self.audit.record(community_id, "erasure_self", rows=rows)
            else:
                await self.audit.record(community_id, "erasure_moderator", by=by, rows=rows)
        return counts

    def _refuse(self, community_id: int, identities: tuple[int, ...], at: datetime) -> None:
        for identity in identities:
            self.ingest.erased(community_id, identity, at)

    async def purge_expired(self) -> dict[int, int]:
        """The daily retention job: raw events past each community's window go; aggregates stay.

        Returns the number of events deleted per community that had any. A community whose purge
        fails is logged and skipped; the others are still purged.
        """
        purged: dict[int, int] = {}
        now = self.clock()
        for community_id, days in await self.store.retention_targets(self.default_retention_days):
            if not self.owns(community_id):
                continue
            try:
                n = await self.store.purge_events_before(community_id, retention_cutoff(now, days))
            except Exception:
                log.exception("retention purge failed for community %s", community_id)
                continue
            if n:
                purged[community_id] = n
                await self.rankings.invalidate(community_id)
                log.info("retention: deleted %d raw events older than %d days in %s", n, days, community_id)
        return purged
