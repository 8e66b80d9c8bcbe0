"""The third community model (bench/trust_independent): its runner ranks a small organic community and
one attack on it, and prints its tables. No timing asserts."""

from __future__ import annotations

import math

import pytest

from bench.trust_independent import attacks, runner


@pytest.fixture(scope="module")
def results() -> list[runner.Run]:
    # seed 5 has the shortest history (92 days): the fastest 300-member community
    return runner.evaluate(300, 5, ["one-post flood"], [3])


def test_the_organic_community_comes_first_then_each_attack_strength(results) -> None:
    assert [(r.attack, r.strength) for r in results] == [("organic", 0), ("one-post flood", 3)]
    organic = results[0]
    assert (organic.members, organic.seed, organic.days) == (300, 5, 92)
    assert organic.voices >= 10 and 0 < organic.listed <= 200
    assert organic.same_listing and all(b is None for b in organic.best.values())


def test_precision_at_10_is_a_share_for_every_method(results) -> None:
    for r in results:
        assert set(r.p10) == set(runner.METHODS)
        assert all(not math.isnan(p) and 0.0 <= p <= 1.0 for p in r.p10.values())
    # plain PageRank finds the widely engaged members this model calls voices
    assert results[0].p10["plain PageRank"] >= 0.5


def test_accounts_that_post_once_leave_the_listing_as_it_was(results) -> None:
    organic, flood = results
    # half as many accounts as there are posters, each posting one message: none is listed anywhere
    assert flood.same_listing and flood.listed == organic.listed
    assert flood.p10 == organic.p10
    assert flood.best == {m: None for m in runner.METHODS}


def test_the_tables_show_every_run(results) -> None:
    organic = runner.organic_table(results)
    assert len(organic) == 2 and organic[1].split()[:2] == ["300", "1"]
    attacks = runner.attack_table(results)
    assert len(attacks) == 2
    row = attacks[1]
    assert row.startswith("  one-post flood ") and " 3     300    1 |       -   0   0 " in row
    assert "+0.0    1 |" in row


def test_main_prints_the_organic_table(capsys) -> None:
    runner.main(["--sizes", "300", "--seeds", "5", "--organic-only"])
    out = capsys.readouterr().out
    assert "Organic communities" in out and "Attacks" not in out
    assert any(line.split()[:2] == ["300", "1"] for line in out.splitlines())


def test_main_rejects_an_unknown_attack() -> None:
    with pytest.raises(SystemExit):
        runner.main(["--attacks", "no such attack"])


def test_why_names_each_manipulator_in_the_top_20() -> None:
    """A member running 'react to enter' giveaways every four days (the middle strength, whose
    posts draw crowds less far beyond the voices' than the strongest do) is listed; `--why` says
    where, as whom, and what the ranking saw of them."""
    organic, giveaway = runner.evaluate(300, 5, ["giveaway"], [2])
    assert organic.why == ()
    assert giveaway.best["Microvoice"] is not None and giveaway.best["Microvoice"] <= 20
    (line,) = giveaway.why
    assert line.startswith(f"#{giveaway.best['Microvoice']} beneficiary, ")
    assert " engagers, draw " in line and ", coordinated " in line
    (row,) = runner.why_table([organic, giveaway])
    assert row == f"  giveaway 2, 300, seed 5: {line}"


def test_an_extra_attack_runs_only_when_named() -> None:
    """The thread farmer (a known limit) is no default attack, and named it runs on its own stream."""
    assert "thread farmer" in attacks.EXTRA_ATTACKS and "thread farmer" not in attacks.ATTACKS
    assert list(attacks.ALL_ATTACKS)[: len(attacks.ATTACKS)] == list(attacks.ATTACKS)
    [organic, farmed] = runner.evaluate(300, 5, ["thread farmer"], [3])
    assert (organic.attack, farmed.attack, farmed.strength) == ("organic", "thread farmer", 3)
    assert not farmed.same_listing
