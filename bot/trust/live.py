"""Live updates: trust rankings kept up to date in place between recomputes, for one community and
one look-back window.

`compute_all` (bot.trust.compute) groups every daily engagement row and solves every scope from
scratch. That is the right thing once a day (decay moves every weight, old rows leave the window),
but between two recomputes of the same day only the events written since have changed anything.
`LiveTrust` keeps what `compute_all` builds (dense member ids, per-scope engagement pairs with their
reverse pairs and transposed matrices, received engagement per channel, posts per member, the last
trust vector of every scope) and applies *changes* to it: a daily row whose count went from 3 to 5
adds the decayed, kind-weighted value of 2 to its pair in every scope containing its channel. A
recompute then only re-solves the scopes that changed, each starting from its previous trust vector,
and lists them.

The results are those `compute_all` would give on the same rows (the fixed point is unique; the unit
tests compare the two). Anything the in-place update cannot express (another day, a new channel, a
member excluded or newly known to be a bot, the spare member slots used up) makes `refresh` return
None, and the caller builds a new `LiveTrust`. Pure numpy/scipy; the caller runs it in a worker
thread.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp

from bot.trust.crowds import written
from bot.trust.evidence import ActivityPeriods, activity_periods, community_evidence, member_dependents
from bot.trust.ids import IdIndex, sorted_unique
from bot.trust.listing import Listing, list_scope
from bot.trust.params import KINDS, Edges, MemberFacts, Posts, TrustParams
from bot.trust.prepare import (
    RECENT_DAYS,
    channel_codes,
    first_active,
    history_days,
    oldest_ages,
    posts_in_scope,
    prepare,
    received_by_channel,
    scope_pairs,
    summed_by_key,
    weighted_rows,
)
from bot.trust.solver import (
    Evidence,
    Pairs,
    ScopeGraph,
    Solved,
    member_rows,
    members_away,
    members_gone,
    solve,
)

#: Members x channels up to which received engagement per channel is kept as a dense array (64 MB).
DENSE_RECEIVED_LIMIT = 8_000_000


def facts_signature(facts: MemberFacts) -> tuple[frozenset[int], frozenset[int]]:
    """What a built `LiveTrust` depends on beyond the rows: who is excluded and who is a bot."""
    return facts.excluded, frozenset(facts.member_id[facts.is_bot].tolist())


#: The current engagement rows (any channel, day and kind) of the given (actor id, target id) pairs.
PairRows = Callable[[np.ndarray, np.ndarray], Edges]


@dataclass
class _Scope:
    codes: np.ndarray | None  # channel codes (None: the whole community)
    graph: ScopeGraph
    dirty: bool = True
    # Relisted without solving again: pairs between its members changed in other channels, which
    # its listing reads (`closed_engagers`: whether a member's engagers engage each other).
    relink: bool = False
    solved: Solved | None = None
    previous: Mapping[int, float] | None = None
    results: Listing = field(default_factory=Listing.empty)


class LiveTrust:
    """One community's rankings in one window, updatable in place (see the module docstring)."""

    def __init__(
        self,
        edges: Edges,
        facts: MemberFacts,
        params: TrustParams,
        *,
        today: int,
        scopes: Mapping[str, Collection[int] | None],
        posts: Posts | None = None,
        spare: int | None = None,
    ) -> None:
        self.params = params
        self.today = today
        self.signature = facts_signature(facts)
        prep = prepare(edges, facts, params, today, by_channel=True, posts=posts, updatable=True)
        n = len(prep.ids)
        # Members seen for the first time later take spare dense slots (free slots have no rows).
        cap = n + (spare if spare is not None else max(256, n // 16))
        self.capacity = cap
        self._used = n
        self.ids = np.concatenate([prep.ids, np.full(cap - n, -1, np.int64)])
        self._index = IdIndex(prep.ids)
        self._added: dict[int, int] = {}
        self.excluded = np.concatenate([prep.excluded, np.zeros(cap - n, np.bool_)])
        self.channel_ids = prep.channel_ids
        self._channel_index = prep.channel_index
        n_ch = max(1, len(prep.channel_ids))
        received = received_by_channel(prep)
        received.resize((cap, n_ch))
        # Received engagement per (member, channel): dense while small (cheap to update and slice).
        self.recv: sp.csr_array | np.ndarray = (
            received.toarray() if cap * n_ch <= DENSE_RECEIVED_LIMIT else received
        )
        self.with_posts = prep.posts_total is not None and prep.posts_channel is not None
        self.posts_total = np.zeros(cap)
        if prep.posts_total is not None:
            self.posts_total[:n] = prep.posts_total
        # Activity per (member, age in days): engagement given or posts written, engagement received.
        days = history_days(params)
        self.active = np.zeros((cap, days), np.float32)
        self.received = np.zeros((cap, days), np.float32)
        if prep.active is not None and prep.received is not None:
            self.active[:n] = prep.active
            self.received[:n] = prep.received
        # The same for the kinds whose day the platform states (`Prepared.dated`).
        self.dated = None if prep.dated is None else prep.dated.resized(cap)
        # Who engaged whom on which day (`Prepared.contacts`).
        self.contacts = None if prep.contacts is None else prep.contacts.resized(cap)
        # Distinct (engager, day) pairs received, for the crowd test (`Prepared.engager_days`).
        self.engager_days = None if prep.engager_days is None else prep.engager_days.resized(cap)
        # Members written to only on the days their posts drew a crowd (`Prepared.crowd_days`).
        self.crowd_days = None if prep.crowd_days is None else prep.crowd_days.resized(cap)
        # Kept up to date from the rows `apply` touched: the oldest day with activity per member
        # (given, received) and the activity binned into periods, for the evidence step.
        self._oldest: tuple[np.ndarray, np.ndarray] | None = None
        self._periods: ActivityPeriods | None = None
        self._touched: list[np.ndarray] = []
        self._rows: tuple[np.ndarray, int, np.ndarray] | None = None  # (members' ids, used, rows)
        self.scopes: dict[str, _Scope] = {}
        graphs: dict[tuple[int, ...] | None, ScopeGraph] = {}
        for name, channels in scopes.items():
            codes = channel_codes(prep, channels)
            if codes is not None and len(codes) == 0:
                continue  # nobody engaged anyone there in the window: nothing to rank
            key = None if codes is None else tuple(codes.tolist())
            if key not in graphs:  # scopes over the same channels share one graph
                graphs[key] = ScopeGraph(_padded(scope_pairs(prep, codes), cap), cap)
            self.scopes[name] = _Scope(codes, graphs[key])
        if None not in graphs:  # community-wide pairs decide who is established
            graphs[None] = ScopeGraph(_padded(prep.all_pairs, cap), cap)
        self._all = graphs[None]
        self._graphs = graphs
        # Decayed posts per member inside each graph's channels (the whole community: the totals).
        self._said: dict[tuple[int, ...], np.ndarray] = {}
        for key in graphs:
            if key is not None:
                said = posts_in_scope(prep.posts_total, prep.posts_channel, np.array(key, np.int64))
                self._said[key] = np.zeros(cap) if said is None else np.concatenate([said, np.zeros(cap - n)])
        self._seed_weight: np.ndarray | None = None
        self._keep: np.ndarray | None = None
        self._coordinated: np.ndarray | None = None
        self._devoted: np.ndarray | None = None
        self._discounts: tuple[np.ndarray | None, ...] = (None,) * 9
        self.changed = True
        self._pinned: np.ndarray | None = None
        self._gone: np.ndarray | None = None

    # -- changes ------------------------------------------------------------------------------------

    def refresh(
        self,
        changes: Edges,
        new_posts: Posts | None,
        facts: MemberFacts,
        *,
        today: int,
        previous: Mapping[str, Mapping[int, float]] | None = None,
        limit: int | None = None,
        workers: int | None = None,
        rows_of: PairRows | None = None,
    ) -> dict[str, Listing] | None:
        """Apply `changes` and `new_posts` (see `apply`), then rank every scope. None when this
        state cannot express the change (the caller builds a new one)."""
        if not self.apply(changes, new_posts, facts, today=today, rows_of=rows_of):
            return None
        return self.rank(facts, previous=previous, limit=limit, workers=workers)

    def apply(
        self,
        changes: Edges,
        new_posts: Posts | None,
        facts: MemberFacts,
        *,
        today: int,
        rows_of: PairRows | None = None,
    ) -> bool:
        """Apply `changes` (rows whose `n` is the *change* of a daily count, threads folded) and
        `new_posts`. `rows_of` gives the current rows of given (actor id, target id) pairs, for the
        rare change this state cannot follow from its own counts (a retraction that empties the
        first day of a pair with later engagement). False when this state cannot express the
        change: then it must not be used again (the caller builds a new one)."""
        if today != self.today or facts_signature(facts) != self.signature:
            return False
        return self._apply_edges(changes, facts, rows_of) and self._apply_posts(new_posts, facts)

    def _dense(self, member: np.ndarray, facts: MemberFacts) -> np.ndarray | None:
        """Dense ids of members, giving new members a spare slot; None when the slots ran out."""
        idx = self._index.lookup(member) if len(member) else np.zeros(0, np.int64)
        missing = np.flatnonzero(idx < 0)
        if len(missing) == 0:
            return idx
        bots = self.signature[1]
        for i in missing.tolist():
            member_id = int(member[i])
            slot = self._added.get(member_id)
            if slot is None:
                if self._used >= self.capacity:
                    return None
                slot = self._used
                self._used += 1
                self._added[member_id] = slot
                self.ids[slot] = member_id
                self.excluded[slot] = member_id in facts.excluded or member_id in bots
            idx[i] = slot
        return idx

    def _apply_edges(self, changes: Edges, facts: MemberFacts, rows_of: PairRows | None = None) -> bool:
        if len(changes) == 0:
            return True
        use, weight, age = weighted_rows(changes, self.params, self.today, counts=changes.n != 0)
        if len(use) == 0:
            return True
        actor = self._dense(changes.actor[use], facts)
        target = self._dense(changes.target[use], facts)
        channel = self._channel_index.lookup(changes.channel[use])
        if actor is None or target is None or bool((channel < 0).any()):
            return False  # no spare slot left, or a channel this state has no column for
        keep = ~(self.excluded[actor] | self.excluded[target])
        actor, target, channel, weight = actor[keep], target[keep], channel[keep], weight[keep]
        if len(actor) == 0:
            return True
        count, age = changes.n[use][keep].astype(np.float32), age[keep]
        np.add.at(self.active, (actor, age), count)
        np.add.at(self.received, (target, age), count)
        if self.dated is not None:
            timed = changes.kind[use][keep] != KINDS.index("reaction")
            self.dated.add(target[timed], age[timed], count[timed])
        if self.contacts is not None and not self._apply_contacts(actor, target, age, count, rows_of):
            return False
        if self.engager_days is not None and not self._apply_engager_days(actor, target, age, count, rows_of):
            return False
        if self.crowd_days is not None:
            mine = written(changes.kind[use][keep])
            if not self.crowd_days.add(
                actor[mine], target[mine], channel[mine], age[mine], count[mine]
            ):
                return False
        self._touched += [actor, target]
        if isinstance(self.recv, np.ndarray):
            np.add.at(self.recv, (target, channel), weight)
            dust = np.abs(self.recv[target, channel]) < 1e-12  # retracted to zero, up to rounding
            self.recv[target[dust], channel[dust]] = 0.0
        else:
            self.recv = self.recv + sp.csr_array((weight, (target, channel)), shape=self.recv.shape)

        def add(key: tuple[int, ...] | None) -> None:
            inside = slice(None) if key is None else np.isin(channel, key)
            self._graphs[key].add(actor[inside], target[inside], weight[inside])

        workers = min(len(self._graphs), os.cpu_count() or 1, 4)
        if workers <= 1:
            for key in self._graphs:
                add(key)
        else:  # each graph is updated by one thread; the numpy work releases the GIL
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(add, self._graphs))
        touched = set(channel.tolist())
        for scope in self.scopes.values():
            if scope.codes is None or touched.intersection(scope.codes.tolist()):
                scope.dirty = True
            elif self.params.closed_engagers and not scope.relink:
                # A pair elsewhere between two members of this scope: whether they engage each
                # other is read community-wide.
                both = (scope.graph.locals_of(actor) >= 0) & (scope.graph.locals_of(target) >= 0)
                scope.relink = bool(both.any())
        return True

    def _apply_engager_days(
        self,
        actor: np.ndarray,
        target: np.ndarray,
        age: np.ndarray,
        count: np.ndarray,
        rows_of: PairRows | None,
    ) -> bool:
        """Bring the distinct (engager, day) pairs up to date (`EngagerDays`): recent days from the
        changes alone, older days from the changed pairs' rows as they stand now (whether a pair
        engaged on a day before a change is its count now less the change)."""
        assert self.engager_days is not None
        recent = age < RECENT_DAYS
        if not self.engager_days.add(actor[recent], target[recent], age[recent], count[recent]):
            return False
        old = ~recent
        if not old.any():
            return True
        if rows_of is None:
            return False
        days = history_days(self.params)
        cap = self.capacity
        changed = (actor[old].astype(np.int64) * cap + target[old]) * days + age[old]
        key, delta = summed_by_key(changed, count[old])
        pair = sorted_unique(key // days)
        a, t = np.divmod(pair, cap)
        rows = rows_of(self.ids[a], self.ids[t])
        use, _weight, row_age = weighted_rows(rows, self.params, self.today, counts=rows.n > 0)
        ra, rt = self._known(rows.actor[use]), self._known(rows.target[use])
        mine = (ra >= 0) & (rt >= 0)
        now_key = (ra[mine] * cap + rt[mine]) * days + row_age[mine]
        where = np.searchsorted(key, now_key)
        inside = where < len(key)
        inside[inside] = key[where[inside]] == now_key[inside]
        now = np.zeros(len(key), np.int64)
        np.add.at(now, where[inside], np.rint(rows.n[use][mine][inside]).astype(np.int64))
        before = now - delta
        if bool((before < 0).any()):
            return False
        member_age = key % (cap * days)
        self.engager_days.settle_older(member_age // days, member_age % days, before > 0, now > 0)
        return True

    def _known(self, member: np.ndarray) -> np.ndarray:
        """Dense ids of members of this state (-1: none), those added since the build included."""
        idx = self._index.lookup(member)
        for i in np.flatnonzero(idx < 0).tolist():
            idx[i] = self._added.get(int(member[i]), -1)
        return idx

    def _apply_contacts(
        self,
        actor: np.ndarray,
        target: np.ndarray,
        age: np.ndarray,
        count: np.ndarray,
        rows_of: PairRows | None,
    ) -> bool:
        """Bring the first contacts up to date (`FirstContacts.add`); pairs whose first day a
        retraction emptied are counted afresh from their current rows."""
        assert self.contacts is not None
        unsettled = self.contacts.add(actor, target, age, count)
        if unsettled is None:
            return False
        if len(unsettled) == 0:
            return True
        if rows_of is None:
            return False
        a, t = np.divmod(unsettled, self.capacity)
        rows = rows_of(self.ids[a], self.ids[t])
        use, _weight, row_age = weighted_rows(rows, self.params, self.today, counts=rows.n > 0)
        ra, rt = self._known(rows.actor[use]), self._known(rows.target[use])
        key = ra * self.capacity + rt
        wanted = np.isin(key, unsettled) & (ra >= 0) & (rt >= 0)
        key, row_age, n = key[wanted], row_age[wanted], np.rint(rows.n[use][wanted]).astype(np.int64)
        first = np.full(len(unsettled), -1, np.int64)
        at = np.searchsorted(unsettled, key)
        np.maximum.at(first, at, row_age)
        first_n = np.zeros(len(unsettled), np.int64)
        np.add.at(first_n, at, np.where(row_age == first[at], n, 0))
        total = np.zeros(len(unsettled), np.int64)
        np.add.at(total, at, n)
        return self.contacts.settle(unsettled, first, first_n, total)

    def _apply_posts(self, posts: Posts | None, facts: MemberFacts) -> bool:
        if not self.with_posts or posts is None or len(posts) == 0:
            return True
        params = self.params
        age = np.clip(self.today - posts.day, 0, None)
        use = (posts.n > 0) & (age <= math.floor(params.window_days))
        if not use.any():
            return True
        member = self._dense(posts.member[use], facts)
        if member is None:
            return False
        np.add.at(self.active, (member, age[use]), posts.n[use].astype(np.float32))
        self._touched.append(member)
        weight = posts.n[use] * np.exp2(-age[use] / params.half_life_days)
        first_posts = bool((self.posts_total[member] <= 0).any())
        np.add.at(self.posts_total, member, weight)
        channel = self._channel_index.lookup(posts.channel[use])
        known = channel >= 0  # posts where nobody engaged anyone count in the total only
        if self.crowd_days is not None:
            self.crowd_days.add_posts(member[known], channel[known], age[use][known], posts.n[use][known])
        for key, said in self._said.items():
            inside = known & np.isin(channel, key)
            np.add.at(said, member[inside], weight[inside])
        touched = set(channel[known].tolist())
        for scope in self.scopes.values():
            if first_posts or scope.codes is None or touched.intersection(scope.codes.tolist()):
                scope.dirty = True
        return True

    # -- ranking ------------------------------------------------------------------------------------

    def rank(
        self,
        facts: MemberFacts,
        *,
        previous: Mapping[str, Mapping[int, float]] | None = None,
        limit: int | None = None,
        workers: int | None = None,
    ) -> dict[str, Listing]:
        """Every scope's listing: re-solved where something changed, re-listed where only the
        previous period's scores did, reused otherwise."""
        run_ranking([self.ranking(facts, previous=previous, limit=limit)], workers=workers)
        return self.results()

    def results(self) -> dict[str, Listing]:
        """Every scope's listing as of the last ranking run."""
        return {name: scope.results for name, scope in self.scopes.items()}

    def ranking(
        self,
        facts: MemberFacts,
        *,
        previous: Mapping[str, Mapping[int, float]] | None = None,
        limit: int | None = None,
        on_listed: Callable[[str, Listing], None] | None = None,
    ) -> Ranking:
        """The work `rank` does, as tasks (see `Ranking`), so the rankings of several windows can
        share one thread pool (`run_ranking`). `on_listed(scope, listing)` runs in the task right
        after a scope is listed (e.g. to format it for storage while other scopes compute)."""
        params = self.params
        pinned = np.zeros(self.capacity, np.bool_)
        if facts.pinned:
            pinned = np.isin(self.ids, np.fromiter(facts.pinned, np.int64)) & ~self.excluded
        left = members_gone(self.ids, facts, self.today, self._member_rows(facts))
        gone = members_away(left, self.active, pinned, params, posts_count=self.with_posts)
        gone[self._used :] = False  # spare slots
        self._all.transition(params)  # keeps the degree counts of the community-wide pairs
        engaged_from, periods = self._activity()
        evidence = community_evidence(
            self._all,
            self.capacity,
            ids=self.ids,
            engaged_from=engaged_from,
            excluded=self.excluded,
            pinned=pinned,
            members=facts,
            active=self.active,
            received=self.received,
            dated=self.dated,
            contacts=self.contacts,
            posts=self.posts_total if self.with_posts else None,
            params=params,
            today=self.today,
            periods=periods,
            rows=self._member_rows(facts),
            engager_days=None if self.engager_days is None else self.engager_days.values(),
            crowd_days=self.crowd_days,
        )
        seed_weight = evidence.seed_weight
        if (
            self._seed_weight is None
            or not np.array_equal(seed_weight, self._seed_weight)
            or not _same(evidence.keep, self._keep)
        ):
            for scope in self.scopes.values():
                scope.dirty = True
        self._seed_weight, self._keep = seed_weight, evidence.keep
        relist = self._pinned is None or not np.array_equal(pinned, self._pinned)  # shown in the why
        relist = relist or self._gone is None or not np.array_equal(gone, self._gone)
        relist = relist or not _same(evidence.coordinated, self._coordinated)
        relist = relist or not _same(evidence.devoted, self._devoted)
        # Community-wide discounts that apply in every scope, whichever channels changed.
        discounts = (
            evidence.burst_excess,
            evidence.top_excess,
            evidence.weeks_excess,
            evidence.crowd,
            evidence.lone,
            np.array([evidence.usual_lone]),  # the usual share the lone-engagers test measures beyond
            evidence.apart,
            evidence.unanswered,  # shown in the why
            evidence.drawn,
        )
        relist = relist or not all(_same(a, b) for a, b in zip(discounts, self._discounts, strict=True))
        self._pinned, self._coordinated, self._devoted = pinned, evidence.coordinated, evidence.devoted
        self._gone = gone
        self._discounts = discounts
        previous = previous or {}
        solved_graphs: dict[int, Solved | None] = {}

        def run(name: str) -> None:
            scope = self.scopes[name]
            if scope.dirty:
                key = id(scope.graph)
                if key not in solved_graphs:  # scopes sharing a graph share its solution
                    solved_graphs[key] = solve(
                        scope.graph, seed_weight, params, warm=True, keep=evidence.keep
                    )
                scope.solved = solved_graphs[key]
            scope.previous = previous.get(name)
            scope.results = (
                self._listing(scope, pinned, gone, evidence, limit) if scope.solved else Listing.empty()
            )
            scope.dirty = scope.relink = False
            if on_listed is not None:
                on_listed(name, scope.results)

        wanted = [
            name
            for name, s in self.scopes.items()
            if relist or s.dirty or s.relink or s.previous != previous.get(name)
        ]
        self.changed = bool(wanted)  # False: every listing is the one returned last time
        # Shared graphs are solved by their first scope, before the others run.
        shared: dict[int, list[str]] = {}
        for name in wanted:
            shared.setdefault(id(self.scopes[name].graph), []).append(name)

        def task(name: str) -> tuple[int, Callable[[], None]]:
            return len(self.scopes[name].graph), partial(run, name)

        return Ranking(
            [task(names[0]) for names in shared.values()],
            [task(name) for names in shared.values() for name in names[1:]],
        )

    def _member_rows(self, facts: MemberFacts) -> np.ndarray:
        """Each dense member's row in `facts`, kept while neither the members read from the store
        (the same arrays) nor the dense ids in use changed."""
        kept = self._rows
        if kept is None or kept[0] is not facts.member_id or kept[1] != self._used:
            kept = (facts.member_id, self._used, member_rows(self.ids, facts))
            self._rows = kept
        return kept[2]

    def _activity(self) -> tuple[np.ndarray, ActivityPeriods | None]:
        """The first active day per member and the activity binned into periods, brought up to date
        for the members whose activity changed since the last call (all of them the first time)."""
        rows = sorted_unique(np.concatenate(self._touched)) if self._touched else np.zeros(0, np.int64)
        self._touched = []
        if self._oldest is None:
            self._oldest = (oldest_ages(self.active), oldest_ages(self.received))
        elif len(rows):
            for counts, oldest in zip((self.active, self.received), self._oldest, strict=True):
                oldest[rows] = oldest_ages(counts[rows])
        given, got = self._oldest
        engaged_from = first_active(self.active, self.today, given)
        if not (self.params.earned_seeds or self.params.coordination):
            return engaged_from, None
        span = max(int(given.max(initial=0)), int(got.max(initial=0)), 1)  # `history_span`
        self._periods = activity_periods(self.active, self.received, span, known=self._periods, rows=rows)
        return engaged_from, self._periods

    def _listing(
        self, scope: _Scope, pinned: np.ndarray, gone: np.ndarray, evidence: Evidence, limit: int | None
    ) -> Listing:
        assert scope.solved is not None
        return list_scope(
            scope.graph,
            scope.solved,
            ids=self.ids,
            evidence=evidence,
            pinned=pinned,
            gone=gone,
            params=self.params,
            codes=scope.codes,
            channel_ids=self.channel_ids,
            recv=self.recv,
            posts_total=self.posts_total if self.with_posts else None,
            said=self._scope_said(scope) if self.with_posts else None,
            previous=scope.previous,
            limit=limit,
            community=None if scope.codes is None else self._all,
        )

    def dependents(self, member_id: int, *, min_share: float = 0.5) -> list[tuple[int, float]]:
        """Members listed community-wide who received at least `min_share` of their trust from
        `member_id` (see `bot.trust.compute.dependents`), as of the last ranking run, largest share first."""
        dense = self._index.lookup(np.array([member_id], np.int64))[0]
        if dense < 0:
            dense = self._added.get(int(member_id), -1)
        whole = next((s for s in self.scopes.values() if s.codes is None and s.solved is not None), None)
        if dense < 0 or whole is None:
            return []
        local = whole.graph.local_of(int(dense))
        if local < 0:
            return []
        assert whole.solved is not None
        who, share = member_dependents(whole.graph, whole.solved, local, self.params, min_share)
        listed = set(whole.results.member_id.tolist())
        ids = whole.graph.gather(self.ids, -1)[who].tolist()
        return [(m, s) for m, s in zip(ids, share.tolist(), strict=True) if m in listed]

    def _scope_said(self, scope: _Scope) -> np.ndarray:
        if scope.codes is None:
            return self.posts_total
        return self._said[tuple(scope.codes.tolist())]


@dataclass
class Ranking:
    """A ranking run as tasks: `first` solve (and list) one scope of each graph, `then` list the
    scopes sharing a graph with one of those. Each task comes with its size (pairs in its graph)."""

    first: list[tuple[int, Callable[[], None]]]
    then: list[tuple[int, Callable[[], None]]]


def run_ranking(rankings: Collection[Ranking], *, workers: int | None = None) -> None:
    """Run the tasks of several rankings in one thread pool (the sparse products release the GIL),
    largest first so that the last task to finish is a small one."""
    for phase in ("first", "then"):
        tasks = sorted((task for r in rankings for task in getattr(r, phase)), key=lambda t: -t[0])
        pool_size = min(len(tasks), workers or os.cpu_count() or 1, 4)
        if pool_size <= 1:
            for _, run in tasks:
                run()
            continue
        with ThreadPoolExecutor(max_workers=pool_size) as pool:
            for future in [pool.submit(run) for _, run in tasks]:
                future.result()


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _padded(pairs: Pairs, capacity: int) -> Pairs:
    """The same pairs over a dense id space of `capacity` members (spare slots have no pairs)."""
    extra = capacity + 1 - len(pairs.indptr)
    indptr = np.concatenate([pairs.indptr, np.full(extra, pairs.indptr[-1], np.int64)])
    return Pairs(actor=pairs.actor, target=pairs.target, weight=pairs.weight, indptr=indptr)
