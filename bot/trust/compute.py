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

import scipy.sparse as sp

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
from bot.trust.solver import ScopeGraph, solve


def _compute(
    prep: Prepared,
    params: TrustParams,
    channels: Collection[int] | None,
    previous: Mapping[int, float] | None,
    limit: int | None = None,
    recv: sp.csr_array | None = None,
) -> Listing:
    n = len(prep.ids)
    if n == 0 or (limit is not None and limit <= 0):
        return Listing.empty()
    codes = channel_codes(prep, channels)
    pairs = scope_pairs(prep, codes)
    if len(pairs.actor) == 0:
        return Listing.empty()
    g = ScopeGraph(pairs, n)
    solved = solve(g, prep.seed_weight, params, warm=False)
    if solved is None:
        return Listing.empty()
    return list_scope(
        g,
        solved,
        ids=prep.ids,
        seed_weight=prep.seed_weight,
        pinned=prep.pinned,
        params=params,
        codes=codes,
        channel_ids=prep.channel_ids,
        recv=recv if recv is not None else received_by_channel(prep),
        posts_total=prep.posts_total,
        said=posts_in_scope(prep.posts_total, prep.posts_channel, codes),
        previous=previous,
        limit=limit,
    )


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
    return _compute(prep, params, channels, previous, limit).entries()


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
    products release the GIL). `workers=1` runs them sequentially.
    """
    by_channel = any(c is not None for c in scopes.values())
    prep = prepare(edges, members, params, today, by_channel=by_channel, posts=posts)
    previous = previous or {}
    names = list(scopes)
    workers = workers or min(len(names), os.cpu_count() or 1, 4)
    recv = received_by_channel(prep)
    if workers <= 1 or len(names) <= 1:
        return {
            name: _compute(prep, params, scopes[name], previous.get(name), limit, recv).entries()
            for name in names
        }
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(_compute, prep, params, scopes[name], previous.get(name), limit, recv)
            for name in names
        }
        return {name: futures[name].result().entries() for name in names}
