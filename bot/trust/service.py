"""The Voices service: recompute a community's rankings from the store and read them back.

`Voices.recompute` keeps each community's engagement graph in memory (`bot.trust.graph`) and its
ranking state (`bot.trust.live`), runs the numeric work in a worker thread and swaps the stored
ranking in one transaction; `top` and `standing` answer from the stored ranking only. Guarantees:
readers never wait on a recompute; a recompute never runs twice at once for one community; what is
stored equals what a recompute from the whole graph would store (in-place updates are checked
against it); each stored entry carries its explanation as parts (`bot.trust.explain.stored_why`),
never as text. No platform import: the store is handed in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot import allocator
from bot.ledger import EPOCH, parse_iso
from bot.memory_budget import MemoryBudget, state_bytes
from bot.subreddits.ids import REDDIT_BIT
from bot.trust.explain import stored_why
from bot.trust.params import KINDS, REASONS, MemberFacts, TrustParams

if TYPE_CHECKING:  # handed in by the composition root; the ranking never imports the store at run time
    from bot.store import EngagementColumns, MemberDays, Store

    # The numeric modules (numpy, scipy) are imported by the first recompute, not at start-up.
    from bot.trust.graph import CommunityEdges
    from bot.trust.listing import Listing
    from bot.trust.live import LiveTrust, Ranking

log = logging.getLogger(__name__)
#: How many times a recompute starts again when an erasure deletes events while it runs.
ERASURE_RETRIES = 3
T = TypeVar("T")
W = TypeVar("W")

TOPIC_CHANNEL_TYPES = frozenset({0, 5, 15, 16})  # text, announcement, forum, media
CATEGORY_TYPE = 4
STORE_LIMIT = 500  # entries kept per scope: far more than anyone pages through


def day_number(dt: datetime) -> int:
    return (dt - EPOCH).days


def _member_facts(
    members: MemberDays, excluded: set[int], pinned: set[int], reddit_from_day: float | None = None
) -> MemberFacts:
    """The ranking's member facts. Reddit shows no join date: its accounts' records start when the
    community's first subreddit was bound (`reddit_from_day`, None without one), and a first
    sighting then says only that they were there before (`MemberFacts.records_from_day`)."""
    records = None
    if reddit_from_day is not None:
        import numpy as np

        records = np.where(members.member_id >= REDDIT_BIT, reddit_from_day, np.nan)
    return MemberFacts(
        member_id=members.member_id,
        joined_day=members.joined_day,
        account_created_day=members.account_created_day,
        first_seen_day=members.first_seen_day,
        records_from_day=records,
        left_day=members.left_day,
        is_bot=members.is_bot,
        excluded=frozenset(excluded),
        pinned=frozenset(pinned),
    )


def reddit_records_from(begins: Iterable[str]) -> float | None:
    """The day (since 1970-01-01 UTC, with its fraction) the earliest of these times (each bound
    subreddit's `records_begin`: its binding, or the oldest item read back then): when the records of
    the community's Reddit accounts begin. None without one."""
    days = [(parse_iso(at) - EPOCH).total_seconds() / 86400.0 for at in begins]
    return min(days, default=None)


@dataclass(frozen=True)
class _Kept:
    """Trust state kept between recomputes of one community: valid for this graph and scopes."""

    graph: CommunityEdges
    scopes: dict[str, set[int] | None]
    windows: tuple[LiveTrust, ...]


@dataclass(frozen=True)
class Entry:
    """One stored entry as read back; `why` is its stored explanation (render it with `render_why`)."""

    member_id: int
    rank: int
    score: float
    distinct_peers: int
    trusted_peers: int
    why: dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of a scope's stored ranking, with when that ranking was computed."""

    scope: str
    entries: list[Entry]
    page: int
    pages: int
    total: int
    computed_at: str | None


@dataclass(frozen=True)
class RecomputeResult:
    """What one recompute did, for the reply to `/voices recompute`, logs and benchmarks."""

    community_id: int
    scopes: int
    ranked: int
    seconds: float
    #: True when the ranking state kept from the previous recompute was updated in place with the
    #: events since; False when it was built from the whole graph (first run, a new day, ...).
    in_place: bool = False
    #: Seconds per stage: graph (bring the in-memory graph up to date or read it), facts (members,
    #: channels, overrides, the previous period), rank (compute, explain), write (store the result).
    stages: dict[str, float] = field(default_factory=dict)


def _each(work: Callable[[W], T], windows: Sequence[W]) -> list[T]:
    """`work` done for every window (its state, or what builds it), side by side in threads when
    there are several windows and cores (the numpy work releases the GIL; each window's state is
    its own)."""
    workers = min(len(windows), os.cpu_count() or 1)
    if workers <= 1:
        return [work(window) for window in windows]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, windows))


def _read_graph(columns: EngagementColumns, parents: dict[int, int], today: int) -> CommunityEdges:
    """The in-memory graph from the rows read (in a worker thread: the first call imports numpy and
    scipy, which the bot does not load before its first recompute)."""
    from bot.trust.graph import CommunityEdges

    return CommunityEdges(columns, parents, today)


def build_scopes(channels: list[tuple[int, int | None, int, str]]) -> dict[str, set[int] | None]:
    """'all', one scope per topic channel, one per category holding topic channels."""
    scopes: dict[str, set[int] | None] = {"all": None}
    by_category: dict[int, set[int]] = {}
    for channel_id, parent_id, kind, _ in channels:
        if kind in TOPIC_CHANNEL_TYPES:
            scopes[f"channel:{channel_id}"] = {channel_id}
            if parent_id is not None:
                by_category.setdefault(parent_id, set()).add(channel_id)
    for category, members in by_category.items():
        scopes[f"category:{category}"] = members
    return scopes


def stored_rows(listing: Listing) -> list[tuple[int, int, float, int, int, str]]:
    """The rows `Store.replace_trust_scores` writes for one scope: (member, rank, score, peers,
    trusted peers, why), `why` being the stored explanation parts of each entry (`stored_why`),
    made straight from the listing's columns (a recompute writes tens of thousands of these)."""
    rows = []
    previous = listing.had_previous
    columns = zip(
        listing.member_id.tolist(),
        listing.score.tolist(),
        listing.peers.tolist(),
        listing.trusted.tolist(),
        listing.topics,
        listing.trend.tolist(),
        listing.pinned.tolist(),
        listing.coordinated.tolist(),
        listing.reason.tolist(),
        strict=True,
    )
    for rank, row in enumerate(columns, start=1):
        member, score, peers, trusted, topics, trend, pinned, coordinated, reason = row
        topic = topics[0] if topics else None
        trend = None if math.isnan(trend) else trend
        why = stored_why(peers, trusted, topic, trend, previous, pinned, (coordinated, reason))
        rows.append((member, rank, score, peers, trusted, why))
    return rows


class Voices:
    """Trusted voices of every community: recomputes (scheduled, on request) and stored pages."""

    def __init__(
        self,
        store: Store,
        *,
        params: TrustParams | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        excluded: Callable[[int], Any] | None = None,
        short_windows: tuple[int, ...] = (30,),
        memory_budget_mb: float = 1024,
    ) -> None:
        self.store = store
        # Extra look-back windows stored as '<scope>@<days>d' so /voices can answer them from the DB.
        self.short_windows = short_windows
        self.params = params or TrustParams()
        self.clock = clock
        # Brand contacts are registered elsewhere; they are never ranked.
        self.excluded = excluded
        self._running: dict[int, asyncio.Lock] = {}
        self._graphs: dict[int, CommunityEdges] = {}
        self._live: dict[int, _Kept] = {}
        self._previous: dict[int, tuple[int, dict[str, dict[int, float]]]] = {}
        self._members: dict[int, MemberDays] = {}  # as last read: the next read fetches changes only
        self._generation: dict[int, int] = {}
        self._writing: dict[int, asyncio.Lock] = {}
        # The state above is a cache: beyond the budget the coldest communities' state is dropped and
        # rebuilt from the database by their next recompute.
        self.memory = MemoryBudget(memory_budget_mb, self._evict)
        #: Set by the composition root: what follows each recompute (give and take trusted-voice roles).
        self.after_recompute: Callable[[int], Awaitable[None]] | None = None

    async def recompute(self, community_id: int) -> RecomputeResult:
        """Rank every scope of one community and store the result atomically, then run
        `after_recompute` (trusted-voice roles); its failure is logged and does not fail the recompute."""
        result = await self._recompute(community_id)
        if self.after_recompute is not None:
            try:
                await self.after_recompute(community_id)
            except Exception:
                log.exception("after recompute of community %s", community_id)
        return result

    async def _recompute(self, community_id: int) -> RecomputeResult:
        async with self._lock(community_id):
            for _ in range(ERASURE_RETRIES):
                generation = self._generation.get(community_id, 0)
                result = await self._ranked(community_id, generation)
                if result is not None:
                    return result
                # Events were deleted while this ran (an erasure): what it computed may hold them.
                log.info("trust recompute for %s: data erased meanwhile, computed again", community_id)
            raise RuntimeError(f"community {community_id}: erasures kept interrupting the recompute")

    async def _ranked(self, community_id: int, generation: int) -> RecomputeResult | None:
        """One recompute (under the community's lock); None, with nothing written, when the cached
        graph was invalidated meanwhile (`invalidate`: events were deleted)."""
        started = time.perf_counter()
        # The graph read and the ranking (`_compute`) run in one reuse (`allocator.reusing`): the
        # read's text and arrays, once freed, are the ranking's scratch memory, so a first recompute
        # faults far fewer fresh pages in. Not the write: what it and an eviction (`memory.touch`)
        # free is handed back at once.
        with allocator.reusing():
            now = self.clock()
            today = day_number(now)
            since = today - int(self.params.window_days) - 1
            graph = await self._graph(community_id, today, since)
            stages = {"graph": time.perf_counter() - started}
            members = await self.store.member_days(community_id, self._members.get(community_id))
            self._members[community_id] = members
            bound = await self.store.bound_subreddits(community_id)
            reddit_from = reddit_records_from(b.records_begin for b in bound)
            channels = await self.store.channel_rows(community_id)
            overrides = await self.store.trust_overrides(community_id)
            # Trend compares with the ranking as it stood a period ago (daily snapshots), not with
            # the previous recompute minutes ago.
            period = self.params.trend_period_days
            cached = self._previous.get(community_id)
            if cached is not None and cached[0] == today:
                previous = cached[1]  # snapshots change once a day (or on erasure: invalidate)
            else:
                keep_from = today - 2 * period
                taken = await self.store.snapshot_scores(community_id, today, keep_from_day=keep_from)
                previous = await self.store.previous_scores(community_id, at_most_day=today - period)
                if taken:
                    self._previous[community_id] = (today, previous)
            excluded = {m for m, mode in overrides.items() if mode == "exclude"}
            if self.excluded is not None:
                excluded |= set(await self.excluded(community_id))
            pinned = {m for m, mode in overrides.items() if mode == "pin"}
            scopes = build_scopes(channels)
            stages["facts"] = time.perf_counter() - started - sum(stages.values())
            results, sizes, in_place, bars, patterns = await asyncio.to_thread(
                self._compute,
                community_id,
                graph,
                members,
                scopes,
                previous,
                excluded,
                pinned,
                today,
                reddit_from,
            )
        stages["rank"] = time.perf_counter() - started - sum(stages.values())
        async with self.writing(community_id):  # no erasure between this check and the write
            if self._generation.get(community_id, 0) != generation:
                return None
            if results is None:  # nothing changed: the stored ranking stands, as of now
                await self.store.touch_trust_runs(community_id, now)
            else:
                await self.store.replace_trust_scores(community_id, results, now, bars, patterns)
        ranked = sum(sizes.values())
        seconds = time.perf_counter() - started
        stages["write"] = seconds - sum(stages.values())
        self.memory.touch(community_id, self.state_bytes(community_id))
        log.info(
            "trust recompute for %s: %d scopes, %d entries, %.2fs (%s)",
            community_id,
            len(sizes),
            ranked,
            seconds,
            "unchanged" if results is None else "in place" if in_place else "from the whole graph",
        )
        return RecomputeResult(community_id, len(sizes), ranked, seconds, in_place, stages)

    # -- the in-memory graph ----------------------------------------------------------------------

    def state_bytes(self, community_id: int) -> int:
        """Bytes of the ranking state kept in memory for one community."""
        return state_bytes(
            self._graphs.get(community_id),
            self._live.get(community_id),
            self._members.get(community_id),
            self._previous.get(community_id),
        )

    def _evict(self, community_id: int) -> bool:
        """Drop a community's cached state to stay within the memory budget (not while in use)."""
        if self._lock(community_id).locked():
            return False
        self._graphs.pop(community_id, None)
        self._live.pop(community_id, None)
        self._members.pop(community_id, None)
        self._previous.pop(community_id, None)
        return True

    def _lock(self, community_id: int) -> asyncio.Lock:
        return self._running.setdefault(community_id, asyncio.Lock())

    def writing(self, community_id: int) -> asyncio.Lock:
        """Held while a ranking is written, and by whoever deletes a member's rows (an erasure) until it
        has called `invalidate`: a ranking computed before the deletion is then never written after it
        (the recompute finds the generation changed and computes again)."""
        return self._writing.setdefault(community_id, asyncio.Lock())

    def cached_graph(self, community_id: int) -> CommunityEdges | None:
        """The in-memory graph of a community, if one is kept (for diagnostics and benchmarks)."""
        return self._graphs.get(community_id)

    async def invalidate(self, community_id: int) -> None:
        """Forget the cached graph of a community (after events were deleted, e.g. an erasure), so
        the next recompute rebuilds it from the database. Never waits: a recompute already running
        finishes with what it had read, and does not keep its graph."""
        self._graphs.pop(community_id, None)
        self._live.pop(community_id, None)
        self._previous.pop(community_id, None)
        self._members.pop(community_id, None)
        self.memory.forget(community_id)
        self._generation[community_id] = self._generation.get(community_id, 0) + 1

    def forget_state(self, community_id: int) -> None:
        """Drop the ranking state kept between recomputes (not the graph): the next recompute
        rebuilds it from the whole graph, as on a new day (for benchmarks and diagnostics)."""
        self._live.pop(community_id, None)

    async def absorb(self, community_ids: Iterable[int]) -> None:
        """Apply newly written events to the cached graphs (Ingest calls this after each write).

        Skips a community whose recompute is running rather than wait for it (the recompute
        applies them itself when it starts, and the next one picks up the rest)."""
        for community_id in set(community_ids):
            lock = self._lock(community_id)
            if community_id not in self._graphs or lock.locked():
                continue
            async with lock:
                graph = self._graphs.get(community_id)
                if graph is not None:
                    await self._refresh(community_id, graph)

    async def _graph(self, community_id: int, today: int, since: int) -> CommunityEdges:
        """The community's engagement rows: the cached graph brought up to date, or read afresh
        (first use, invalidated, or built on an earlier day: a daily rebuild keeps it in step with
        anything that changed in the database outside the ledger, such as a thread moved)."""
        graph = self._graphs.get(community_id)
        if graph is not None and graph.built_day == today and await self._refresh(community_id, graph):
            return graph
        generation = self._generation.get(community_id, 0)
        columns = await self.store.engagement_columns(community_id, since, KINDS)
        parents = await self.store.thread_parents(community_id)
        graph = await asyncio.to_thread(_read_graph, columns, parents, today)
        if self._generation.get(community_id, 0) == generation:
            self._graphs[community_id] = graph
        return graph

    async def _refresh(self, community_id: int, graph: CommunityEdges) -> bool:
        """Apply the events written since the graph was read; False (and the graph dropped) when
        it cannot be updated in place and must be read again."""
        generation = self._generation.get(community_id, 0)
        changes = await self.store.engagement_changes(community_id, graph.upto_id, KINDS)
        ok = (
            changes is not None
            and self._generation.get(community_id, 0) == generation
            and await asyncio.to_thread(graph.apply, changes)
        )
        if not ok and self._graphs.get(community_id) is graph:
            del self._graphs[community_id]
        return ok

    def _compute(
        self,
        community_id: int,
        graph: CommunityEdges,
        members: MemberDays,
        scopes: dict[str, set[int] | None],
        previous: dict[str, dict[int, float]],
        excluded: set[int],
        pinned: set[int],
        today: int,
        reddit_from: float | None = None,
    ) -> tuple[
        dict[str, list[tuple[int, int, float, int, int, str]]] | None,
        dict[str, int],
        bool,
        dict[str, int],
        dict[int, tuple[float, str]],
    ]:
        """Rank every scope in every window: in place from the kept state when only new events
        happened since the last recompute (same graph, same day, same scopes, same exclusions),
        else from the whole graph, keeping the new state for next time.

        Returns the rows to store (None when no listing changed since the stored one), the number
        of entries per scope, whether the kept state was updated in place, and per scope the fewest
        distinct engagers its listing asked of a member (`Listing.min_peers`), and the members the
        whole community's listing leaves out whose engagement shows a pattern the explanation would
        name (`Listing.patterns`: member id -> (share, pattern name); none when nothing changed, as
        the stored ones stand)."""
        from bot.trust.live import LiveTrust, Ranking, run_ranking

        facts = _member_facts(members, excluded, pinned, reddit_from)
        changes = graph.take_changes()
        rows: dict[str, list[tuple[int, int, float, int, int, str]]] = {}

        def formatted(scope: str, listing: Listing) -> None:
            rows[scope] = stored_rows(listing)

        kept = self._live.get(community_id)
        in_place = (
            kept is not None
            and kept.graph is graph
            and kept.scopes == scopes
            and changes is not None
            and all(
                _each(
                    lambda state: state.apply(*changes, facts, today=today, rows_of=graph.pair_rows),
                    kept.windows,
                )
            )
        )

        def ranking(state: LiveTrust) -> Ranking:
            return state.ranking(facts, previous=previous, limit=STORE_LIMIT, on_listed=formatted)

        if in_place:
            assert kept is not None
            windows = kept.windows
            # Each window's evidence is computed while its ranking is prepared: side by side.
            rankings = _each(ranking, windows)
        else:
            self._live.pop(community_id, None)
            edges, posts = graph.edges(), graph.posts()

            def built(days: int | None) -> tuple[LiveTrust, Ranking]:
                params = self.params if days is None else replace(self.params, window_days=float(days))
                named = scopes if days is None else {f"{name}@{days}d": c for name, c in scopes.items()}
                state = LiveTrust(edges, facts, params, today=today, scopes=named, posts=posts)
                prepared = ranking(state)
                if days is not None:
                    # A shorter window's state is smaller: its scopes are solved in its own thread
                    # while the whole window's state is still being built.
                    run_ranking([prepared], workers=1)
                    prepared = Ranking([], [])
                return state, prepared

            # Each window's state is built and its evidence computed side by side with the others'.
            made = _each(built, (None, *self.short_windows))
            windows = tuple(state for state, _ in made)
            rankings = [prepared for _, prepared in made]
            if self._graphs.get(community_id) is graph:
                self._live[community_id] = _Kept(graph, dict(scopes), windows)
        run_ranking(rankings)
        ranked = {name: listing for state in windows for name, listing in state.results().items()}
        bars = {name: listing.min_peers for name, listing in ranked.items()}
        if in_place and not any(state.changed for state in windows):
            return None, {name: len(entries) for name, entries in ranked.items()}, True, bars, {}
        whole = ranked.get("all")
        patterns = {} if whole is None else {m: (c, REASONS[r]) for m, (c, r) in whole.patterns.items()}
        # Scopes listed this time were formatted by their task; the others keep their listing.
        out = {scope: rows.get(scope) or stored_rows(listing) for scope, listing in ranked.items()}
        return out, {name: len(entries) for name, entries in out.items()}, in_place, bars, patterns

    async def recompute_all(self, only: Callable[[int], bool] | None = None) -> list[RecomputeResult]:
        """Recompute every community with engagement (`only`: those this process serves)."""
        results = []
        for community_id in await self.store.communities_with_engagement():
            if only is not None and not only(community_id):
                continue
            try:
                results.append(await self.recompute(community_id))
            except Exception:
                log.exception("trust recompute failed for community %s", community_id)
        return results

    async def dependents(self, community_id: int, member_id: int) -> list[tuple[int, float]]:
        """Members of the community-wide ranking whose trust came mostly (half or more) from
        `member_id`, with that share, largest first: what a moderator excluding `member_id` should
        look at next. Uses the ranking state kept since the last recompute (recomputing first if
        there is none), so call it before the exclusion takes effect."""
        kept = self._live.get(community_id)
        if kept is None:
            await self.recompute(community_id)
            kept = self._live.get(community_id)
        if kept is None:
            return []
        return kept.windows[0].dependents(member_id)

    # -- reading ----------------------------------------------------------------------------------

    async def channel_names(self, community_id: int, channel_ids: Sequence[int]) -> dict[int, str]:
        """The recorded names of channels the rankings mention (a subreddit's topics, which no
        mention can show)."""
        return await self.store.channel_names(community_id, channel_ids)

    async def top(self, community_id: int, scope: str, *, page: int = 0, per_page: int = 5) -> Page:
        rows, total, computed = await self.store.trust_page(
            community_id, scope, offset=page * per_page, limit=per_page
        )
        pages = max(1, math.ceil(total / per_page))
        return Page(scope, [self._entry(r) for r in rows], page, pages, total, computed)

    async def listing_bar(self, community_id: int, scope: str = "all") -> int:
        """The fewest distinct engagers the stored listing of `scope` asks of a member: its
        confidence bar, relative to the established voices, and never below the fixed minimum
        (`min_peers_listed`, also what is said before a listing is stored)."""
        bar = await self.store.trust_bar(community_id, scope)
        return max(self.params.min_peers_listed, bar or 0)

    async def idle_days(self, community_id: int, member_id: int) -> int | None:
        """Days the member did nothing in the community before its latest activity, when that keeps
        them out of every listing (`TrustParams.idle_days`, counted as the ranking counts it); None
        when it does not (or the rule is off). A member with nothing recorded at all is not idle:
        they have not taken part yet."""
        if self.params.idle_days <= 0:
            return None
        last, latest = await self.store.last_active_days(community_id, member_id)
        if last is None or latest is None:
            return None
        idle = min(latest, day_number(self.clock())) - last
        return idle if idle >= self.params.idle_days else None

    async def pattern(self, community_id: int, member_id: int) -> tuple[float, str] | None:
        """For a member the stored whole-community listing leaves out: the share of what they
        received that shows a pattern the explanation would name, and the pattern's name (one of
        `REASONS`); None where nothing is named (or the member is listed)."""
        return await self.store.trust_pattern(community_id, member_id)

    async def standing(self, community_id: int, member_id: int) -> list[tuple[str, Entry]]:
        rows = await self.store.trust_standing(community_id, member_id)
        return [(str(r[0]), self._entry(r[1:], member_id=member_id)) for r in rows]

    @staticmethod
    def _entry(row: tuple[Any, ...], *, member_id: int | None = None) -> Entry:
        if member_id is None:
            member_id, rank, score, peers, trusted, why = row
        else:
            rank, score, peers, trusted, why = row
        return Entry(int(member_id), int(rank), float(score), int(peers), int(trusted), json.loads(why))
