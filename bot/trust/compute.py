"""The ranking from scratch: every scope of a community computed from its daily rows.

`compute_scope` ranks one scope (the whole community, a channel, or a category's channels) and
`compute_all` several, sharing one preparation (`bot.trust.prepare`) and running the scopes in a
small thread pool. This is the reference the in-place updates of `bot.trust.live` are checked
against. Guarantees: deterministic (the same rows in any order give the same listings, with any
number of workers); a scope without a seed who engaged in it is empty rather than ranked by volume.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from bot import allocator
from bot.trust.evidence import community_evidence, member_dependents
from bot.trust.listing import Listing, list_scope
from bot.trust.params import Edges, MemberFacts, Posts, Ranked, TrustParams
from bot.trust.prepare import (
    Prepared,
    channel_codes,
    posts_in_scope,
    prepare,
    received_by_channel,
    scope_pairs,
)
from bot.trust.solver import Evidence, ScopeGraph, solve


def _compute(
    prep: Prepared,
    params: TrustParams,
    channels: Collection[int] | None,
    previous: Mapping[int, float] | None,
    limit: int | None = None,
    recv: sp.csr_array | None = None,
    community: tuple[ScopeGraph, Evidence] | None = None,
) -> Listing:
    """One scope's listing; `community` is the community-wide graph and the evidence derived from
    it (`_community`), computed once for all scopes."""
    n = len(prep.ids)
    if n == 0 or (limit is not None and limit <= 0):
        return Listing.empty()
    g_all, evidence = community if community is not None else _community(prep, params)
    codes = channel_codes(prep, channels)
    if codes is None:
        g = g_all
    else:
        pairs = scope_pairs(prep, codes)
        if len(pairs.actor) == 0:
            return Listing.empty()
        g = ScopeGraph(pairs, n)
    if len(g) == 0:
        return Listing.empty()
    solved = solve(g, evidence.seed_weight, params, warm=False, keep=evidence.keep)
    if solved is None:
        return Listing.empty()
    return list_scope(
        g,
        solved,
        ids=prep.ids,
        evidence=evidence,
        pinned=prep.pinned,
        gone=prep.gone,
        params=params,
        codes=codes,
        channel_ids=prep.channel_ids,
        recv=recv if recv is not None else received_by_channel(prep),
        posts_total=prep.posts_total,
        said=posts_in_scope(prep.posts_total, prep.posts_channel, codes),
        previous=previous,
        limit=limit,
        community=None if codes is None else g_all,
    )


def _community(prep: Prepared, params: TrustParams) -> tuple[ScopeGraph, Evidence]:
    """The community-wide graph (the 'all' scope's) and the evidence derived from it."""
    g = ScopeGraph(prep.all_pairs, len(prep.ids))
    g.transition(params)
    evidence = community_evidence(
        g,
        len(prep.ids),
        ids=prep.ids,
        engaged_from=prep.engaged_from,
        excluded=prep.excluded,
        pinned=prep.pinned,
        members=prep.members,
        active=prep.active,
        received=prep.received,
        dated=prep.dated,
        contacts=prep.contacts,
        posts=prep.posts_total,
        params=params,
        today=prep.today,
        engager_days=None if prep.engager_days is None else prep.engager_days.values(),
        crowd_days=prep.crowd_days,
    )
    return g, evidence


@allocator.reusing()
def compute_scope(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    *,
    today: int,
    channels: Collection[int] | None = None,
    previous: Mapping[int, float] | None = None,
    limit: int | None = None,
    posts: Posts | None = None,
) -> list[Ranked]:
    """Rank one scope: the whole community (`channels=None`) or only edges in `channels`.

    Seeds are chosen community-wide (being established is a property of membership, not of a
    channel), but only seeds who engaged inside the scope hand out trust there. `previous` maps
    member id to the `score` of the previous period, for `Ranked.trend`. `limit` keeps only the top
    `limit` entries (building thousands of explained entries nobody reads costs time).
    """
    prep = prepare(edges, members, params, today, by_channel=channels is not None, posts=posts)
    if len(prep.ids) == 0:
        return []
    return _compute(prep, params, channels, previous, limit).entries()


@allocator.reusing()
def compute_all(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    *,
    today: int,
    scopes: Mapping[str, Collection[int] | None],
    previous: Mapping[str, Mapping[int, float]] | None = None,
    limit: int | None = None,
    workers: int | None = None,
    posts: Posts | None = None,
) -> dict[str, list[Ranked]]:
    """Rank several scopes, e.g. `{'all': None, 'channel:123': {123}, 'category:9': {10, 11}}`.

    The daily rows are grouped once and shared; scopes then run in a small thread pool (the sparse
    products release the GIL). `workers=1` runs them sequentially. Scratch memory is reused while it
    runs (`bot.allocator.reusing`).
    """
    by_channel = any(c is not None for c in scopes.values())
    prep = prepare(edges, members, params, today, by_channel=by_channel, posts=posts)
    previous = previous or {}
    names = list(scopes)
    workers = workers or min(len(names), os.cpu_count() or 1, 4)
    recv = received_by_channel(prep)
    if len(prep.ids) == 0:
        return {name: [] for name in names}
    community = _community(prep, params)
    if workers <= 1 or len(names) <= 1:
        return {
            name: _compute(prep, params, scopes[name], previous.get(name), limit, recv, community).entries()
            for name in names
        }
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(
                _compute, prep, params, scopes[name], previous.get(name), limit, recv, community
            )
            for name in names
        }
        return {name: futures[name].result().entries() for name in names}


def dependents(
    edges: Edges,
    members: MemberFacts,
    params: TrustParams,
    *,
    today: int,
    member_id: int,
    posts: Posts | None = None,
    min_share: float = 0.5,
) -> list[tuple[int, float]]:
    """Whose standing depends mostly on one member: the members who received at least `min_share`
    of their trust (community-wide) from `member_id`, with that share, largest first. What a
    moderator excluding `member_id` should look at next (an alt owner's alts, a ring's mates, the
    beneficiary of a bought account)."""
    prep = prepare(edges, members, params, today, by_channel=False, posts=posts)
    at = np.flatnonzero(prep.ids == member_id)
    if len(at) == 0 or prep.excluded[at[0]]:
        return []
    g, evidence = _community(prep, params)
    solved = solve(g, evidence.seed_weight, params, warm=False, keep=evidence.keep)
    local = g.local_of(int(at[0]))
    if solved is None or local < 0:
        return []
    who, share = member_dependents(g, solved, local, params, min_share)
    ids = g.gather(prep.ids, -1)
    return list(zip(ids[who].tolist(), share.tolist(), strict=True))
