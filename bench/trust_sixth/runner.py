"""Ranks organic and attacked marketplace servers with Microvoice, message count and plain PageRank.

For every (size, seed) the organic server is ranked once; every attack at every strength is added to
it and ranked again. Reported: precision at 10 against the organic genuine voices, and the best rank
any manipulator reached (only the top 200 count). Message count and PageRank leave the price bot
out, as any ranking would that knows which account is machinery (Discord marks bots). Every member's
facts are what the store would hold: Discord join, account creation and leave days, first seen at
their first message or engagement in the combined records.
"""

from __future__ import annotations

import numpy as np

from bench.trust_metrics import (
    Data,
    Model,
    Outcome,
    Run,
    outcomes,
)
from bench.trust_sixth.attacks import ATTACKS, AttackResult
from bench.trust_sixth.model import ATTACK_BASE, BASE_ID, CHANNEL_BASE, Community, build_community, facts_for
from bot import trust


def _member_code(ids: np.ndarray) -> np.ndarray:
    """Member ids as small codes (organic: index; added accounts: 100000 + their number)."""
    return np.where(ids >= ATTACK_BASE, 100_000 + ids - ATTACK_BASE, ids - BASE_ID)


def _summed(
    codes: list[tuple[np.ndarray, int]], cols: list[np.ndarray], n: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows with equal keys as one, counts summed, on one packed integer key per row (`codes`: each
    key column as small non-negative integers and its bound): what `aggregate_edges` and
    `aggregate_posts` do, several times faster on communities of thousands."""
    key = np.zeros(len(n), np.int64)
    for code, bound in codes:
        key = key * bound + code
    packed, first, inv = np.unique(key, return_index=True, return_inverse=True)
    total = np.zeros(len(packed))
    np.add.at(total, inv.ravel(), n)
    return [col[first] for col in cols], total


def merge_edges(parts: list[trust.Edges], start: int) -> trust.Edges:
    """`aggregate_edges` for this model's ids, channels and days (from `start`)."""
    cols = [
        np.concatenate([getattr(p, c) for p in parts]) for c in ("actor", "target", "channel", "day", "kind")
    ]
    codes = [
        (_member_code(cols[0]), 1 << 18),
        (_member_code(cols[1]), 1 << 18),
        (cols[2] - CHANNEL_BASE, 16),
        (cols[3] - start, 512),
        (cols[4], 8),
    ]
    out, n = _summed(codes, cols, np.concatenate([p.n for p in parts]))
    return trust.Edges(*out, n)


def merge_posts(parts: list[trust.Posts], start: int) -> trust.Posts:
    """`aggregate_posts` for this model's ids, channels and days (from `start`)."""
    cols = [np.concatenate([getattr(p, c) for p in parts]) for c in ("member", "channel", "day")]
    codes = [(_member_code(cols[0]), 1 << 18), (cols[1] - CHANNEL_BASE, 16), (cols[2] - start, 512)]
    out, n = _summed(codes, cols, np.concatenate([p.n for p in parts]))
    return trust.Posts(*out, n)


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The organic rows plus an attack's rows, and every member's facts as the store would hold them."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    edges = merge_edges([comm.edges, attack.edges], comm.start)
    posts = merge_posts([comm.posts, attack.posts], comm.start)
    known = comm.known_facts()
    f = attack.facts
    for m, j, c, left in zip(f.member_id, f.joined_day, f.account_created_day, f.left_day, strict=True):
        known[int(m)] = (float(j), float(c), float(left))
    return Data(edges, posts, facts_for(edges, posts, known, frozenset({BASE_ID + comm.bot})))


def attack_rng(size: int, seed: int, name: str, strength: int) -> np.random.Generator:
    return np.random.default_rng([seed, size, list(ATTACKS).index(name), strength, 66])


def evaluate(size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """The organic server of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`; `bench.trust_metrics.outcomes`)."""
    return outcomes(MODEL, size, seed, params)


def _describe(comm: Community, base: Run) -> str:
    counts = comm.counts
    return (
        f"history {comm.days} days, {len(comm.facts.member_id)} accounts seen, "
        f"{counts['residents']} residents, "
        f"{len(comm.genuine)} genuine voices ({counts['broad']} broad, {counts['experts']} experts, "
        f"{counts['traders']} traders), {int(comm.posts.n.sum())} messages, "
        f"{int(comm.edges.n.sum())} engagements, Microvoice lists {len(base.orders['microvoice'])}"
    )


MODEL = Model("servers", build_community, combine, ATTACKS, attack_rng, _describe)
