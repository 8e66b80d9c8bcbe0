"""The fourth community model (`bench.trust_fourth`): it builds, ranks, labels its voices before any
ranking, and its engagement-bait polls are what the crowd test (`crowd_per_post`) is for."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench import trust_metrics
from bench.trust_fourth import runner
from bench.trust_fourth.attacks import ATTACKS
from bench.trust_fourth.model import build_community
from bot.trust import TrustParams


def test_the_organic_community_is_deterministic_and_ranked_by_its_voices() -> None:
    a, b = build_community(300, 1), build_community(300, 1)
    assert np.array_equal(a.edges.n, b.edges.n) and a.genuine == b.genuine
    assert 10 <= len(a.genuine) <= 60
    organic = runner.evaluate(300, 1)[0]
    assert organic.attack is None and organic.p10 >= 0.7


def test_every_attack_adds_rows_and_names_its_accounts() -> None:
    comm = build_community(300, 2)
    for i, (name, attack) in enumerate(ATTACKS.items()):
        res = attack(comm, 2, np.random.default_rng([2, 300, i, 2, 44]))
        assert len(res.edges) > 0, name
        assert res.beneficiary in res.manipulators, name


def test_a_poll_poster_reaches_the_top_only_without_the_crowd_test() -> None:
    """Seed 2, 300 members: the strongest polls put their poster first without the test."""
    polls = [o for o in runner.evaluate(300, 2) if o.attack == "reaction_polls" and o.strength == 3]
    without = [
        o
        for o in runner.evaluate(300, 2, replace(TrustParams(), crowd_per_post=()))
        if o.attack == "reaction_polls" and o.strength == 3
    ]
    assert without[0].best is not None and without[0].best <= 10
    assert polls[0].best is None or polls[0].best > 20


def test_members_who_left_are_told_and_no_longer_listed() -> None:
    """The facts say who left by today, as the Server Members intent tells the bot; none of them is a
    genuine voice, and none is listed, while without the departures some are (1,500 members, seed 2:
    the first place had left a week before)."""
    comm = build_community(1500, 2)
    left = comm.facts.member_id[~np.isnan(comm.facts.left_day)]
    assert len(left) > 0 and not set(left.tolist()) & comm.genuine
    known, _ = trust_metrics.rank_microvoice(runner.combine(comm, None), comm.today)
    assert not set(known) & set(left.tolist())
    blind = build_community(1500, 2, departures=False)
    assert np.isnan(blind.facts.left_day).all()
    unknown, _ = trust_metrics.rank_microvoice(runner.combine(blind, None), blind.today)
    assert unknown[0] in set(left.tolist())
    assert trust_metrics.precision_at_10(known, comm.genuine) > trust_metrics.precision_at_10(
        unknown, comm.genuine
    )
