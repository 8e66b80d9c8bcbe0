"""Ranks organic and attacked subreddits with Microvoice, message count and plain PageRank.

For every (size, seed) the organic subreddit is ranked once; every attack at every strength is
added to it and ranked again. Reported: precision at 10 against the organic genuine voices, and the
best rank any manipulator reached (only the top 200 count). Message count and PageRank leave the
subreddit's bot out, as any ranking would that knows which account is machinery.
"""

from __future__ import annotations

import numpy as np

from bench.trust_fifth.attacks import ATTACKS, AttackResult
from bench.trust_fifth.model import BASE_ID, Community, build_community, facts_for
from bench.trust_metrics import (
    Data,
    Model,
    Outcome,
    Run,
    aggregate_edges,
    aggregate_posts,
    attack_streams,
    outcomes,
)
from bot import trust


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The organic rows plus an attack's rows; every member's facts as the store would hold them
    (first seen at their first post in the combined records)."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    edges = aggregate_edges([comm.edges, attack.edges])
    posts = aggregate_posts([comm.posts, attack.posts])
    created = {BASE_ID + i: float(c) for i, c in enumerate(comm.account_created)}
    created.update(
        {
            int(m): float(c)
            for m, c in zip(attack.facts.member_id, attack.facts.account_created_day, strict=True)
        }
    )
    ids = np.unique(np.concatenate([posts.member, edges.actor, edges.target]))
    facts = facts_for(ids, posts, created, frozenset({BASE_ID + comm.bot}), comm.start)
    return Data(edges, posts, facts)


#: Each attack's own random stream (`bench.trust_metrics.attack_streams`).
attack_rng = attack_streams(ATTACKS, 55)


def evaluate(size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """The organic subreddit of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`; `bench.trust_metrics.outcomes`)."""
    return outcomes(MODEL, size, seed, params)


def _describe(comm: Community, base: Run) -> str:
    return (
        f"history {comm.today - comm.start} days, "
        f"{len(comm.facts.member_id)} accounts seen, {len(comm.genuine)} genuine voices, "
        f"{len(comm.log.sub_author)} submissions, {int(comm.posts.n.sum())} posts, "
        f"{int(comm.edges.n.sum())} engagements, Microvoice lists {len(base.orders['microvoice'])}"
    )


MODEL = Model("subreddits", build_community, combine, ATTACKS, attack_rng, _describe)
