"""bench/trust_sweep.py: settings parsed as TrustParams fields, and every set ranked with them."""

from __future__ import annotations

import pytest

from bench import trust_sweep
from bench.trust_sweep import Result, lines, parse_setting, sweep, tasks


def test_a_setting_is_a_trust_params_field_with_a_python_literal() -> None:
    assert parse_setting("appeal=0.75") == ("appeal", 0.75)
    assert parse_setting(" arrival_weeks = [3, 6] ") == ("arrival_weeks", (3, 6))
    assert parse_setting("draw_floor_reach=None") == ("draw_floor_reach", None)
    for bad in ("appeal", "no_such_field=1", "appeal=abc"):
        with pytest.raises(ValueError):
            parse_setting(bad)


def test_every_set_of_the_chosen_models_is_ranked_and_none_of_the_others() -> None:
    chosen = tasks(["sim", "xc"])
    names = {name for name, _ in chosen}
    assert names == {name for name, model, *_ in trust_sweep.SETS if model in ("sim", "xc")}
    held = [sc.seed for name, sc in chosen if name == "simulator, held-out"]
    plain = [sc.seed for name, sc in chosen if name == "simulator"]
    assert held == [seed + 1000 for seed in plain]  # the same communities' held-out seeds
    assert len([t for t in chosen if t[0] == "second model, held-out"]) == 3 * trust_sweep.XC_HELD_SEEDS


def test_longer_histories_are_a_part_of_their_own_with_seeds_of_their_own() -> None:
    """`--parts long`: both models at three sizes and three lengths, ten communities each, in both
    views, none of them a community of the default sets; not among the parts run by default."""
    chosen = tasks(["long"])
    assert len(chosen) == 4 * 3 * 3 * trust_sweep.LONG_COUNT
    sims = [sc for name, sc in chosen if name.startswith("simulator")]
    assert {sc.days for sc in sims} == {60, 90, 120} and {sc.members for sc in sims} == {200, 500, 2_000}
    default_seeds = {sc.seed for name, sc in tasks(["sim"])}
    assert not default_seeds & {sc.seed for sc in sims}
    second = {run for name, run in chosen if name.startswith("second model")}
    assert not second & {run for name, run in tasks(["xc"])} and {run[1] for run in second} == {60, 90, 120}
    assert "long" not in trust_sweep.MODELS and not {name for name, _ in tasks(trust_sweep.MODELS)} & {
        name for name, _ in chosen
    }


def test_a_setting_changes_the_ranking_of_every_model() -> None:
    """Asking every listed member for more engagers than any member has empties each listing: P@10
    falls to 0 in the simulator (with and without its manipulators) and on the second model."""
    every = tasks(["sim", "xc", "long"])
    names = ("simulator", "simulator, no manipulators", "second model", "second model, 60 to 120 days")
    chosen = [next(t for t in every if t[0] == name) for name in names]
    defaults = sweep({}, jobs=1, chosen=chosen)
    strict = sweep({"min_peers_listed": 100_000}, jobs=1, chosen=chosen)
    assert [r.set_name for r in defaults] == [r.set_name for r in strict]
    assert all(r.p10 > 0 for r in defaults)
    assert all(r.p10 == 0 and not r.passed and not r.top20 for r in strict)


def test_lines_give_each_set_and_size_its_counts() -> None:
    results = [
        Result("simulator", 200, 1.0, False, channels_leaked=1),
        Result("simulator", 200, 0.5, True),
        Result("third model", 300, 1.0, False, organic=True),
        Result("third model", 300, 0.8, True, True),
    ]
    out = lines(results)
    expected = "simulator, 200 2 runs pass 1 mean P@10 0.750 manipulator in the top 20: 1"
    expected += " channel listings with one: 1"
    assert " ".join(out[0].split()) == expected
    assert "third model, organic" in out[1] and "mean P@10 1.000" in out[1]
    assert out[2].split()[-5:] == ["20:", "1,", "top", "10:", "1"]


def test_the_fourth_model_is_a_default_part_ranked_organic_and_attacked() -> None:
    """One community of the fourth model: organic first, then each attack at each strength."""
    chosen = tasks(["fourth"])
    assert "fourth" in trust_sweep.MODELS
    assert len(chosen) == len(trust_sweep.FOURTH_SIZES) * len(trust_sweep.FOURTH_SEEDS)
    results = sweep({}, jobs=1, chosen=chosen[:1])
    assert results[0].organic and not any(r.organic for r in results[1:])
    assert len(results) == 1 + 9 * 3 and all(r.set_name == "fourth model" for r in results)
    out = lines(results)
    assert out[0].split()[:4] == ["fourth", "model,", "organic", "1"]
