"""The second community model of the trust benchmark (bench/trust_crosscheck.py): what it builds,
and regressions it caught. No timing asserts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench import trust_crosscheck as cc
from bot.trust import KINDS, TrustParams


@pytest.fixture(scope="module")
def community() -> cc.Community:
    return cc.simulate(500, 30, 11, 0.6)


def distinct_engagers(edges, member: int) -> int:  # type: ignore[no-untyped-def]
    return len(set(edges.actor[edges.target == member].tolist()))


def test_the_model_is_deterministic(community: cc.Community) -> None:
    again = cc.simulate(500, 30, 11, 0.6)
    for name in ("actor", "target", "channel", "day", "kind", "n"):
        assert np.array_equal(getattr(again.edges, name), getattr(community.edges, name))
    assert again.attack == community.attack and again.experts == community.experts


def test_every_attack_is_added_to_an_organic_community(community: cc.Community) -> None:
    assert set(community.attack.values()) == set(cc.ATTACKS)
    organic = community.organic
    assert organic is not None and not organic.attack
    assert len(community.edges.actor) > len(organic.edges.actor)
    # The accounts an attack adds do nothing in the organic community; its beneficiaries are members
    # whom at most half as many members engage as engage the median expert.
    bar = np.median([distinct_engagers(organic.edges, e) for e in organic.experts])
    engaged = set(organic.edges.actor.tolist()) | set(organic.edges.target.tolist())
    for attack in ("click farm", "brigade", "staggered wake-up", "sockpuppets"):
        who = [m for m, a in community.attack.items() if a == attack]
        served = [m for m in who if m in engaged]
        assert served and len(served) < len(who)
        assert all(distinct_engagers(organic.edges, m) <= 0.5 * bar for m in served)
    assert not community.experts & set(community.attack)


def test_genuine_voices_are_the_experts_and_the_widely_engaged(community: cc.Community) -> None:
    voices = cc.genuine_voices(community)
    assert community.experts <= voices
    assert not voices & set(community.attack)
    bar = np.median([distinct_engagers(community.edges, e) for e in community.experts])
    assert len(voices) > len(community.experts)
    assert all(distinct_engagers(community.edges, v) >= 0.5 * bar for v in voices - community.experts)


def test_the_subreddit_view_shows_what_reddit_shows(community: cc.Community) -> None:
    shown = cc.subreddit_view(community)
    assert not (shown.edges.kind == KINDS.index("reaction")).any()
    assert np.isnan(shown.facts.joined_day).all()
    assert (shown.facts.records_from_day == community.posts.day.min()).all()
    assert np.array_equal(shown.facts.account_created_day, community.facts.account_created_day)
    assert shown.organic is not None and np.isnan(shown.organic.facts.joined_day).all()


def test_microvoice_lists_no_manipulator_where_volume_and_plain_trustrank_do() -> None:
    runs = cc.evaluate(500, 30, 11, 0.6, TrustParams())
    ours, count, plain = runs
    assert [r.method for r in runs] == list(cc.METHODS)
    assert ours.manipulators == 0 and ours.channels > 0 and ours.channels_leaked == 0
    assert count.manipulators > 0 and plain.manipulators > 0
    assert "cross-channel spam" in count.best and count.best["cross-channel spam"] <= cc.TOP


@pytest.mark.parametrize("seed", [72_003, 72_009])
def test_a_click_farm_does_not_lift_its_customers_into_a_channel_listing(seed: int) -> None:
    """Inside one channel of a large community most engagers have no standing there (they earned it
    in other channels), so the usual member receives more than half of their engagement from such
    accounts; the test for accounts nobody engages applies there too, up to three quarters."""
    com = cc.simulate(2_000, 30, seed, 1.0)
    farm = {m for m, a in com.attack.items() if a == "click farm"}

    def listed(params: TrustParams) -> set[int]:
        return set().union(*cc.channel_tops(com, params).values()) & farm

    # The fault, as it was (the crowd tests, which came later, keep them out on their own too).
    assert listed(replace(TrustParams(), unengaged_usual_max=0.5, crowd_per_post=(), crowd_days=()))
    assert not listed(replace(TrustParams(), crowd_per_post=(), crowd_days=()))
    assert not listed(TrustParams())
