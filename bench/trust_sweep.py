"""The trust ranking with changed parameters on every community model at once, one line a set.

A change to the ranking is only worth keeping when it helps somewhere and lists no manipulator
anywhere else, so every candidate is measured on the same sets of runs:

- the simulator (`bench.trust_quality`): 200 and 500 members, 24 communities each, as Discord servers
  and as subreddits show them; the same on held-out seeds (`--seed-offset` 1000, which no default
  was chosen on); and the same communities with every manipulator removed (`--control`: what the
  defences cost genuine members);
- the second model (`bench.trust_crosscheck`): 200 to 2,000 members, 20 communities a size, in both
  views, and 25 held-out ones a size (seeds offset by 1000);
- the third model (`bench.trust_independent`): 300 and 1,000 members, seeds 1 and 2, organic and
  under each of its attacks at three strengths;
- the fourth model (`bench.trust_fourth`): 300 and 1,500 members, seeds 1 to 3, organic and under
  each of its attacks at three strengths;
- the fifth model (`bench.trust_fifth`, a subreddit): 300 and 2,000 members, seeds 1 and 2, organic
  and under each of its attacks at three strengths;
- the sixth model (`bench.trust_sixth`, a trading server): 300 and 3,000 members, seeds 1 and 2,
  organic and under each of its attacks at three strengths;
- the seventh model (`bench.trust_seventh`, a creators' server): 400 and 4,000 members, seeds 1 and 2,
  organic and under each of its attacks at three strengths;
- the eighth model (`bench.trust_eighth`, a hobby server simulated message by message): 400 members,
  seeds 1 to 4, and 4,000 members, seed 1, organic and under each of its attacks at three strengths;
- the ninth model (`bench.trust_ninth`, a help subreddit simulated thread by thread): 300 and 3,000
  members, seeds 1 and 2, organic and under each of its attacks at three strengths;
- with `--parts long` (not by default: about a minute more), longer histories: the simulator and
  the second model at 200, 500 and 2,000 members with 60, 90 and 120 days, 10 communities each, in
  both views (360 runs, seeds of their own).

Each line gives the runs, those that pass (P@10 ≥ 0.9 and no manipulator in the top 20), the mean
P@10, the runs with a manipulator in the top 20 and the channel listings with one (simulator and
second model; the third to ninth models: runs with one in the top 20 and the top 10). `--set` changes a
`TrustParams` field (a Python literal: `--set appeal=0.75 --set arrival_weeks=(3,)`); `--compare`
measures the defaults beside it. About three to four minutes on two cores.

    .venv/bin/python -m bench.trust_sweep [--set NAME=VALUE ...]
        [--parts sim,xc,third,fourth,fifth,sixth,seventh,eighth,ninth,long] [--compare]
"""

from __future__ import annotations

import argparse
import ast
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from typing import Any

from bench import trust_crosscheck, trust_quality
from bench.trust_eighth import runner as eighth
from bench.trust_fifth import runner as fifth
from bench.trust_fourth import runner as fourth
from bench.trust_independent import runner as third
from bench.trust_ninth import runner as ninth
from bench.trust_seventh import runner as seventh
from bench.trust_sixth import runner as sixth
from bot import trust

#: The sets of runs, in the order they are printed: (name, model, view, seed offset, control).
SETS: tuple[tuple[str, str, str, int, bool], ...] = (
    ("simulator", "sim", "discord", 0, False),
    ("simulator, subreddits", "sim", "subreddit", 0, False),
    ("simulator, held-out", "sim", "discord", 1000, False),
    ("simulator, held-out subreddits", "sim", "subreddit", 1000, False),
    ("simulator, no manipulators", "sim", "discord", 0, True),
    ("simulator, no manipulators, subreddits", "sim", "subreddit", 0, True),
    ("second model", "xc", "discord", 0, False),
    ("second model, subreddits", "xc", "subreddit", 0, False),
    ("second model, held-out", "xc", "discord", 1000, False),
    ("second model, held-out subreddits", "xc", "subreddit", 1000, False),
    ("third model", "third", "discord", 0, False),
    ("fourth model", "fourth", "discord", 0, False),
    ("fifth model", "fifth", "subreddit", 0, False),
    ("sixth model", "sixth", "discord", 0, False),
    ("seventh model", "seventh", "discord", 0, False),
    ("eighth model", "eighth", "discord", 0, False),
    ("ninth model", "ninth", "subreddit", 0, False),
    ("simulator, 60 to 120 days", "sim-long", "discord", 0, False),
    ("simulator, 60 to 120 days, subreddits", "sim-long", "subreddit", 0, False),
    ("second model, 60 to 120 days", "xc-long", "discord", 0, False),
    ("second model, 60 to 120 days, subreddits", "xc-long", "subreddit", 0, False),
)
#: The parts `--parts` chooses from (those run by default), and the models of each.
MODELS = ("sim", "xc", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
PARTS: dict[str, tuple[str, ...]] = {
    "sim": ("sim",),
    "xc": ("xc",),
    "third": ("third",),
    "fourth": ("fourth",),
    "fifth": ("fifth",),
    "sixth": ("sixth",),
    "seventh": ("seventh",),
    "eighth": ("eighth",),
    "ninth": ("ninth",),
    "long": ("sim-long", "xc-long"),
}
#: Longer histories (`--parts long`): sizes, lengths in days, communities per size and length, the
#: attack strengths they cycle through, and the first seeds (the simulator's, the second model's).
LONG_SIZES, LONG_DAYS, LONG_COUNT = (200, 500, 2_000), (60, 90, 120), 10
LONG_STRENGTHS = (0.3, 0.6, 1.0)
LONG_SIM_SEED, LONG_XC_SEED = 5_000, 9_000
SIM_UP_TO, XC_UP_TO = 500, 2_000
XC_SEEDS, XC_HELD_SEEDS = 20, 25
THIRD_SIZES, THIRD_SEEDS = (300, 1_000), (1, 2)
FOURTH_SIZES, FOURTH_SEEDS = (300, 1_500), (1, 2, 3)
FIFTH_SIZES, FIFTH_SEEDS = (300, 2_000), (1, 2)
SIXTH_SIZES, SIXTH_SEEDS = (300, 3_000), (1, 2)
SEVENTH_SIZES, SEVENTH_SEEDS = (400, 4_000), (1, 2)
#: The eighth model's (size, seed) runs: a 4,000-member server takes a minute to build.
EIGHTH_RUNS = ((400, 1), (400, 2), (400, 3), (400, 4), (4_000, 1))
NINTH_SIZES, NINTH_SEEDS = (300, 3_000), (1, 2)


@dataclass(frozen=True)
class Result:
    """One ranked community: its set, size, P@10, whether a manipulator is in the top 20 (and, for
    the third model, the top 10), channel listings with one, and whether it is organic."""

    set_name: str
    members: int
    p10: float
    top20: bool
    top10: bool = False
    channels_leaked: int = 0
    organic: bool = False

    @property
    def passed(self) -> bool:
        """P@10 ≥ 0.9 and no manipulator in the top 20 (`bench.trust_quality.passed`)."""
        return self.p10 >= trust_quality.TARGET_P10 and not self.top20


def parse_setting(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` as a `TrustParams` field and its value (a Python literal; lists become tuples)."""
    name, sep, raw = text.partition("=")
    names = {f.name for f in fields(trust.TrustParams)}
    if not sep or name.strip() not in names:
        raise ValueError(f"{text!r}: expected NAME=VALUE with NAME a TrustParams field")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"{text!r}: the value is no Python literal") from exc
    return name.strip(), tuple(value) if isinstance(value, list) else value


def long_runs(first_seed: int) -> list[tuple[int, int, int, float]]:
    """(members, days, seed, strength) of every longer history of one model."""
    return [
        (members, days, first_seed + members + 10 * days + k, LONG_STRENGTHS[k % len(LONG_STRENGTHS)])
        for members in LONG_SIZES
        for days in LONG_DAYS
        for k in range(LONG_COUNT)
    ]


def tasks(parts: Sequence[str]) -> list[tuple[str, Any]]:
    """Every community of the chosen parts' sets, as (set name, what to rank)."""
    models = {model for part in parts for model in PARTS.get(part, ())}
    out: list[tuple[str, Any]] = []
    for name, model, _, offset, _ in SETS:
        if model not in models:
            continue
        if model == "sim-long":
            out += [
                (name, trust_quality.Scenario(f"{n:,}, {d}d, m={m:g}", seed, n, d, m))
                for n, d, seed, m in long_runs(LONG_SIM_SEED)
            ]
            continue
        if model == "xc-long":
            out += [(name, run) for run in long_runs(LONG_XC_SEED)]
            continue
        if model == "sim":
            chosen = [sc for sc in trust_quality.SCENARIOS if sc.members <= SIM_UP_TO]
            out += [(name, replace(sc, seed=sc.seed + offset)) for sc in chosen]
        elif model == "xc":
            seeds = XC_HELD_SEEDS if offset else XC_SEEDS
            chosen_runs = trust_crosscheck.runs(seeds, max_members=XC_UP_TO, seed_offset=offset)
            out += [(name, run) for run in chosen_runs]
        elif model == "fourth":
            out += [(name, (n, seed)) for n in FOURTH_SIZES for seed in FOURTH_SEEDS]
        elif model == "fifth":
            out += [(name, (n, seed)) for n in FIFTH_SIZES for seed in FIFTH_SEEDS]
        elif model == "sixth":
            out += [(name, (n, seed)) for n in SIXTH_SIZES for seed in SIXTH_SEEDS]
        elif model == "seventh":
            out += [(name, (n, seed)) for n in SEVENTH_SIZES for seed in SEVENTH_SEEDS]
        elif model == "eighth":
            out += [(name, run) for run in EIGHTH_RUNS]
        elif model == "ninth":
            out += [(name, (n, seed)) for n in NINTH_SIZES for seed in NINTH_SEEDS]
        else:
            out += [(name, (n, seed)) for n in THIRD_SIZES for seed in THIRD_SEEDS]
    return out


def rank(task: tuple[str, Any], settings: dict[str, Any]) -> list[Result]:
    """Rank one community of a set with `settings` changed from the defaults."""
    name, what = task
    _, model, view, _, control = next(s for s in SETS if s[0] == name)
    params = trust.TrustParams(**settings)
    if model in ("sim", "sim-long"):
        com = trust_quality.simulate(
            what.seed, members=what.members, days=what.days, manipulation=what.manipulation
        )
        rows = trust_quality.evaluate(
            com,
            what.name,
            with_baselines=False,
            params=params,
            control=control,
            view=view,
        )
        q = rows[-1] if control else rows[0]
        return [Result(name, what.members, q.p10, q.manipulators > 0, channels_leaked=q.channels_leaked)]
    if model in ("xc", "xc-long"):
        mv = trust_crosscheck.evaluate(*what, params, view)[0]
        return [Result(name, what[0], mv.p10, mv.manipulators > 0, channels_leaked=mv.channels_leaked)]
    out = []
    if model in ("fourth", "fifth", "sixth", "seventh", "eighth", "ninth"):
        runners = {
            "fourth": fourth,
            "fifth": fifth,
            "sixth": sixth,
            "seventh": seventh,
            "eighth": eighth,
            "ninth": ninth,
        }
        runner = runners[model]
        for o in runner.evaluate(*what, params=params):
            top20, top10 = o.best is not None and o.best <= 20, o.best is not None and o.best <= 10
            out.append(Result(name, what[0], o.p10, top20, top10, organic=o.attack is None))
        return out
    for run in third.evaluate(*what, params=params):
        best = run.best["Microvoice"]
        top20, top10 = best is not None and best <= 20, best is not None and best <= 10
        organic = run.attack == "organic"
        out.append(Result(name, run.members, run.p10["Microvoice"], top20, top10, organic=organic))
    return out


def sweep(
    settings: dict[str, Any],
    parts: Sequence[str] = MODELS,
    jobs: int = 2,
    chosen: Sequence[Any] | None = None,
) -> list[Result]:
    """Every community of the chosen parts' sets (or `chosen` tasks) ranked with `settings`."""
    todo = tasks(parts) if chosen is None else list(chosen)
    if jobs <= 1:
        return [r for t in todo for r in rank(t, settings)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return [r for rs in pool.map(rank, todo, [settings] * len(todo)) for r in rs]


def lines(results: Sequence[Result]) -> list[str]:
    """One line per set and size (the third model: organic, then attacked)."""
    out = []
    for name, model, *_ in SETS:
        mine = [r for r in results if r.set_name == name]
        if not mine:
            continue
        if model in ("third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"):
            organic = [r for r in mine if r.organic]
            for label, part in (("organic", organic), ("attacked", [r for r in mine if not r.organic])):
                if part:
                    mean = sum(r.p10 for r in part) / len(part)
                    top20, top10 = sum(r.top20 for r in part), sum(r.top10 for r in part)
                    out.append(
                        f"  {name + ', ' + label:<48} {len(part):>4} runs  mean P@10 {mean:.3f}"
                        f"  manipulator in the top 20: {top20}, top 10: {top10}"
                    )
            continue
        for members in sorted({r.members for r in mine}):
            part = [r for r in mine if r.members == members]
            mean = sum(r.p10 for r in part) / len(part)
            out.append(
                f"  {name + f', {members:,}':<48} {len(part):>4} runs  pass {sum(r.passed for r in part):>3}"
                f"  mean P@10 {mean:.3f}  manipulator in the top 20: {sum(r.top20 for r in part)}"
                f"  channel listings with one: {sum(r.channels_leaked for r in part)}"
            )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.trust_sweep", description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a TrustParams field")
    ap.add_argument("--parts", default=",".join(MODELS), help=f"comma-separated, of: {', '.join(PARTS)}")
    ap.add_argument("--compare", action="store_true", help="measure the defaults beside it")
    ap.add_argument("--jobs", type=int, default=2, help="communities ranked side by side")
    args = ap.parse_args(argv)
    try:
        settings = dict(parse_setting(s) for s in args.set)
        trust.TrustParams(**settings)
    except (ValueError, TypeError) as exc:
        ap.error(str(exc))
    parts = [m.strip() for m in args.parts.split(",") if m.strip()]
    if unknown := [m for m in parts if m not in PARTS]:
        ap.error(f"unknown parts: {', '.join(unknown)}")
    runs = [("defaults", {})] if args.compare and settings else []
    runs.append((", ".join(f"{k}={v!r}" for k, v in settings.items()) or "defaults", settings))
    for title, chosen in runs:
        started = time.perf_counter()
        results = sweep(chosen, parts, args.jobs)
        print(f"\n{title} ({time.perf_counter() - started:.0f}s)")
        print("\n".join(lines(results)))


if __name__ == "__main__":
    main()
