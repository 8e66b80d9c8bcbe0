"""Short listings filled below the draw floor (`fill_below_floor`): in a small community, a regular
whom the confidence bar lists, who posts all day and answers their engagers, and whose posts draw a
little under the draw floor, fills a short listing instead of a member with a handful of engagers;
a spammer whose posts draw half the floor stays out."""

from __future__ import annotations

import pytest

from bench import trust_quality as bq
from bot.trust import Ranked, TrustParams, compute_scope
from bot.trust import listing as trust_listing

UNFILLED = TrustParams(fill_below_floor=False)


def ranked(
    scenario: int, view: str, params: TrustParams, offset: int = 0
) -> tuple[list[Ranked], frozenset[int], set[int]]:
    """The whole-community listing of the benchmark's 200-member community of `scenario` (its
    seed), with its seed shifted by `offset`, as `view` shows it, with its genuine voices and its
    manipulators."""
    base = next(s for s in bq.SCENARIOS if s.members == 200 and s.seed == scenario)
    com = bq.simulate(scenario + offset, members=200, days=base.days, manipulation=base.manipulation)
    seen = bq.ranking_inputs(com, view)
    today = bq.today_of(com)
    listing = compute_scope(seen.edges, seen.facts, params, today=today, limit=20, posts=seen.posts)
    return listing, bq.genuine_voices(com, seen.led), set(bq.attack_of(com))


def test_a_regular_the_draw_floor_left_out_fills_the_place_of_a_member_with_a_handful_of_engagers() -> None:
    """Seed 11 (14 days, every attack at 0.3): nine genuine voices. One posts all day, is answered
    by 50 members and answers them; the confidence bar lists them, but their posts draw 0.24 of an
    average post, under the floor, and two members with 17 engagers each filled the listing's last
    places. Now the regular fills a place, and the first nine are the nine voices."""
    before, voices, manipulators = ranked(11, "discord", UNFILLED)
    after, _, _ = ranked(11, "discord", TrustParams())
    k = min(10, len(voices))
    assert k == 9
    assert len({r.member_id for r in before[:k]} & voices) == k - 1
    assert {r.member_id for r in after[:k]} == voices
    gained = next(r for r in after if r.member_id not in {b.member_id for b in before})
    assert gained.member_id in voices
    assert gained.why["appeal"] < TrustParams().listed_min_draw and gained.distinct_peers >= 40
    assert not {r.member_id for r in after} & manipulators


@pytest.mark.parametrize("view", ["discord", "subreddit"])
def test_no_benchmark_community_of_200_lists_a_manipulator_it_did_not(view: str) -> None:
    """Over the benchmark's 24 communities of 200 members, in either view, the listings hold no
    manipulator, as without the fill below the floor, and the voices' places are at least as many."""
    for scenario in (s for s in bq.SCENARIOS if s.members == 200):
        after, voices, manipulators = ranked(scenario.seed, view, TrustParams())
        before, _, _ = ranked(scenario.seed, view, UNFILLED)
        assert not {r.member_id for r in after} & manipulators, scenario.seed
        k = min(10, len(voices))
        placed = len({r.member_id for r in after[:k]} & voices)
        assert placed >= len({r.member_id for r in before[:k]} & voices), scenario.seed


def test_a_spammer_whose_posts_draw_half_the_floor_fills_no_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh 200-member community (the 7-day scenario of seed 16, with seed 12216) seen as a
    subreddit: a spammer whom 53 members answered, who answers a quarter of them, is above the
    confidence bar, and whose posts draw 0.16 of an average post. The fill asks what the floor's
    exemption asks, two thirds of the floor (0.2), and leaves the spammer out; asking half the
    floor would list them 8th."""
    listing, _, manipulators = ranked(16, "subreddit", TrustParams(), offset=12200)
    assert not {r.member_id for r in listing} & manipulators
    monkeypatch.setattr(trust_listing, "_EXEMPT_DRAW", 0.5)
    lenient, _, _ = ranked(16, "subreddit", TrustParams(), offset=12200)
    spam = [r for r in lenient if r.member_id in manipulators]
    assert len(spam) == 1 and spam[0].rank <= 10 and spam[0].why["appeal"] < 0.2
