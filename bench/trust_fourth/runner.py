"""Ranks organic and attacked communities with Microvoice, message count and plain PageRank.

For every (size, seed) the organic community is ranked once; every attack at every strength is
added to it and ranked again. Reported: precision at 10 against the organic genuine voices, and the
best rank any manipulator reached (only the top 200 count).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from bench.trust_fourth.attacks import ATTACKS, AttackResult
from bench.trust_fourth.model import Community, build_community
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
    """The organic rows plus an attack's extra rows."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    facts = trust.MemberFacts(
        member_id=np.concatenate([comm.facts.member_id, attack.facts.member_id]),
        joined_day=np.concatenate([comm.facts.joined_day, attack.facts.joined_day]),
        account_created_day=np.concatenate(
            [comm.facts.account_created_day, attack.facts.account_created_day]
        ),
        left_day=np.concatenate([comm.facts.left_day, attack.facts.left_day]),
    )
    return Data(
        aggregate_edges([comm.edges, attack.edges]),
        aggregate_posts([comm.posts, attack.posts]),
        facts,
    )


#: Each attack's own random stream (`bench.trust_metrics.attack_streams`).
attack_rng = attack_streams(ATTACKS, 44)


def evaluate(
    size: int, seed: int, params: trust.TrustParams | None = None, *, departures: bool = True
) -> list[Outcome]:
    """The organic community of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`; `bench.trust_metrics.outcomes`; `departures`: see
    `build_community`)."""
    return outcomes(model(departures), size, seed, params)


def _describe(comm: Community, base: Run) -> str:
    return (
        f"history {comm.today - comm.start} days, {len(comm.genuine)} genuine voices, "
        f"{int(comm.posts.n.sum())} posts, {int(comm.edges.n.sum())} engagements, "
        f"Microvoice lists {len(base.orders['microvoice'])}"
    )


def model(departures: bool = True) -> Model:
    """The fourth model for `red_team` (`departures`: see `build_community`)."""
    return Model(
        "communities",
        partial(build_community, departures=departures),
        combine,
        ATTACKS,
        attack_rng,
        _describe,
    )
