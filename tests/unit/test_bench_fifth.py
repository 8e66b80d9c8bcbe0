"""The subreddit model (`bench.trust_fifth`): deterministic, recorded as the Reddit adapter records a
subreddit, its genuine voices labelled from the organic records alone, and its attacks ranked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from bench import trust_metrics
from bench.trust_fifth import runner
from bench.trust_fifth.attacks import ATTACKS
from bench.trust_fifth.model import BASE_ID, CHANNEL_BASE, FLAIRS, RESIDENT_ROLES, build_community
from bot.trust import KINDS, TrustParams

SIZE = 200


def test_the_same_size_and_seed_give_the_same_rows() -> None:
    a, b = build_community(SIZE, 3), build_community(SIZE, 3)
    for col in ("actor", "target", "channel", "day", "kind", "n"):
        assert np.array_equal(getattr(a.edges, col), getattr(b.edges, col)), col
    for col in ("member", "channel", "day", "n"):
        assert np.array_equal(getattr(a.posts, col), getattr(b.posts, col)), col
    assert np.array_equal(a.facts.member_id, b.facts.member_id)
    assert np.array_equal(a.facts.account_created_day, b.facts.account_created_day)
    assert a.genuine == b.genuine
    other = build_community(SIZE, 4)
    assert len(other.edges) != len(a.edges) or not np.array_equal(other.edges.n, a.edges.n)


def test_attacks_are_deterministic_and_leave_the_organic_community_untouched() -> None:
    comm = build_community(SIZE, 1)
    before = (comm.sim.p_op.copy(), comm.sim.p_back.copy(), comm.sim.reply_appeal.copy(), len(comm.sim.role))
    for name in ("early_seeding", "controversy_bait"):
        x = ATTACKS[name](comm, 3, runner.attack_rng(SIZE, 1, name, 3))
        y = ATTACKS[name](comm, 3, runner.attack_rng(SIZE, 1, name, 3))
        assert np.array_equal(x.edges.n, y.edges.n) and x.manipulators == y.manipulators, name
    assert np.array_equal(comm.sim.p_op, before[0])
    assert np.array_equal(comm.sim.p_back, before[1])
    assert np.array_equal(comm.sim.reply_appeal, before[2])
    assert len(comm.sim.role) == before[3]


def _check_contract(data: trust_metrics.Data, start: int, today: int, bot: int) -> None:
    edges, posts, facts = data.edges, data.posts, data.facts
    assert len(edges) > 0 and len(posts) > 0
    # Reddit shows no voters: every engagement is a comment, between two different accounts.
    assert np.all(edges.kind == KINDS.index("comment"))
    assert not np.any(edges.actor == edges.target)
    assert np.all(edges.n >= 1) and np.all(edges.n == np.round(edges.n))
    keys = np.stack([edges.actor, edges.target, edges.channel, edges.day, edges.kind], axis=1)
    assert len(np.unique(keys, axis=0)) == len(edges)  # daily counts, duplicates aggregated
    channels = set(range(CHANNEL_BASE, CHANNEL_BASE + len(FLAIRS)))
    assert set(np.unique(edges.channel).tolist()) <= channels
    assert set(np.unique(posts.channel).tolist()) <= channels
    assert edges.day.min() >= start and edges.day.max() < today
    assert posts.day.min() >= start and posts.day.max() < today
    # Every engaging account wrote what engaged (a comment is a post).
    assert set(edges.actor.tolist()) <= set(posts.member.tolist())
    # Facts: no join dates, the records' first day for everyone, first seen at the first post.
    ids = set(facts.member_id.tolist())
    assert set(posts.member.tolist()) | set(edges.target.tolist()) <= ids
    assert np.all(np.isnan(facts.joined_day))
    assert np.all(facts.records_from_day == start)
    assert np.all(np.isfinite(facts.account_created_day))
    assert np.all(facts.account_created_day <= facts.first_seen_day)
    first = {int(m): float(posts.day[posts.member == m].min()) for m in np.unique(posts.member)}
    for m, seen in zip(facts.member_id, facts.first_seen_day, strict=True):
        assert seen == first[int(m)]
    # The subreddit's bot is machinery: it posts, it engages nobody and nobody engages it.
    assert facts.member_id[facts.is_bot].tolist() == [BASE_ID + bot]
    assert BASE_ID + bot in posts.member
    assert BASE_ID + bot not in edges.actor and BASE_ID + bot not in edges.target


def test_organic_and_attacked_rows_follow_the_reddit_contract() -> None:
    comm = build_community(SIZE, 2)
    assert 60 <= comm.today - comm.start <= 150
    _check_contract(runner.combine(comm, None), comm.start, comm.today, comm.bot)
    for i, name in enumerate(ATTACKS):
        res = ATTACKS[name](comm, 2, runner.attack_rng(SIZE, 2, name, 2))
        assert not np.any(res.edges.actor == res.edges.target), name
        assert res.beneficiary in res.manipulators, name
        assert res.beneficiary in res.edges.target, name  # the attack engages whom it works for
        data = runner.combine(comm, res)
        assert res.manipulators <= set(data.facts.member_id.tolist()), name
        if i % 3 == 0:  # the full check is slow-ish; a third of the attacks is enough
            _check_contract(data, comm.start, comm.today, comm.bot)


def test_genuine_voices_are_recent_residents_and_no_manipulator() -> None:
    for seed in (1, 2):
        comm = build_community(SIZE, seed)
        assert 5 <= len(comm.genuine) <= SIZE // 4
        idx = np.array(sorted(comm.genuine)) - BASE_ID
        assert np.all(np.isin(comm.role[idx], RESIDENT_ROLES))
        last = comm.last_seen()
        assert np.all(last[idx] >= comm.today - 28)
        for name, attack in ATTACKS.items():
            for strength in (1, 3):
                res = attack(comm, strength, runner.attack_rng(SIZE, seed, name, strength))
                assert not res.manipulators & comm.genuine, (name, strength)


def test_evaluate_ranks_the_organic_community_then_every_attack() -> None:
    outcomes = runner.evaluate(SIZE, 1)
    assert len(outcomes) == 1 + 3 * len(ATTACKS)
    organic = outcomes[0]
    assert organic.attack is None and organic.strength == 0 and organic.best is None
    assert organic.p10 >= 0.5  # the ranking's top of an unattacked subreddit is mostly its voices
    assert [(o.attack, o.strength) for o in outcomes[1:]] == [(a, s) for a in ATTACKS for s in (1, 2, 3)]
    for o in outcomes:
        assert 0.0 <= o.p10 <= 1.0
        assert o.best is None or 1 <= o.best <= trust_metrics.LIMIT
    assert runner.evaluate(SIZE, 1) == outcomes


def test_one_attack_ranked_by_every_method() -> None:
    comm = build_community(SIZE, 1)
    res = ATTACKS["repost_ring"](comm, 3, runner.attack_rng(SIZE, 1, "repost_ring", 3))
    attacked = trust_metrics.rank_all(runner.combine(comm, res), comm.today)
    assert set(attacked.orders) == set(trust_metrics.METHODS)
    for order in attacked.orders.values():
        assert len(order) == len(set(order)) and len(order) <= trust_metrics.LIMIT
    # Message count and PageRank never list the bot; PageRank sees the ring's reposts.
    bot = BASE_ID + comm.bot
    assert bot not in attacked.orders["messages"] and bot not in attacked.orders["pagerank"]
    assert trust_metrics.best_rank(attacked.orders["pagerank"], res.manipulators) is not None
    assert set(attacked.ranked) == set(attacked.orders["microvoice"])


def _strongest(seed: int, attack: str, **off: object) -> tuple[Any, Any, list[int], list[int]]:
    """300 members, `seed`, `attack` at its strongest: the community, the attack, and Microvoice's
    listing with the defaults and with the defence `off` names turned off."""
    comm = build_community(300, seed)
    res = ATTACKS[attack](comm, 3, runner.attack_rng(300, seed, attack, 3))
    data = runner.combine(comm, res)
    ranked, _ = trust_metrics.rank_microvoice(data, comm.today)
    without, _ = trust_metrics.rank_microvoice(data, comm.today, replace(TrustParams(), **off))
    return comm, res, ranked, without


def test_a_brigaded_creator_reaches_the_top_only_without_the_lone_engagers_test() -> None:
    """300 members, seed 1, the strongest brigade: in the top 5 without `lone_engagers`, out of the
    top 20 with it (most of the creator's engagers take part in nothing else here)."""
    comm, res, ranked, without = _strongest(1, "linked_brigade", lone_engagers=())
    found = trust_metrics.best_rank(without, res.manipulators)
    assert found is not None and found <= 5
    best = trust_metrics.best_rank(ranked, res.manipulators)
    assert best is None or best > 20
    assert trust_metrics.precision_at_10(ranked, comm.genuine) > trust_metrics.precision_at_10(
        without, comm.genuine
    )


def test_a_repost_ring_reaches_the_top_only_without_the_apart_group_test() -> None:
    """300 members, seed 2, the strongest repost ring: first without `apart_group` (and `crowd_days`,
    which discounts it too: the members it draws comment on its posts' days only), out of the top 20
    with it (the ring trades comments among itself and answers none of the members it draws)."""
    comm, res, ranked, without = _strongest(2, "repost_ring", apart_group=(), crowd_days=())
    assert trust_metrics.best_rank(without, res.manipulators) == 1
    assert trust_metrics.best_rank(ranked, res.manipulators) is None  # in no listing
    assert trust_metrics.precision_at_10(ranked, comm.genuine) > trust_metrics.precision_at_10(
        without, comm.genuine
    )
