"""`make bench`: run every benchmark and print its table.

On a fresh clone most of the time goes into the databases the benchmarks read (bench/.cache). They are
built first, two at a time in their own processes, while the trust quality runs (which time nothing)
share the two cores with them; every timed benchmark then runs alone, one after the other, with
nothing else of `make bench` running beside it.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from bench.results import prepare_module
from bot import allocator

#: Arguments under `make bench`: the trust benchmark's speed part (2.2M pairs, a 5.4M-event database)
#: is a size `python -m bench.recompute --full` covers (0.5M to 4M pairs, written to RESULTS.md), so
#: `make bench` runs the quality part only, with 6 seeds of each size (36 communities, every attack at
#: every strength); `python -m bench.trust_quality` runs both, with all 128 (docs/trust.md).
ARGS = {"bench.trust_quality": ["--no-speed", "--seeds", "6"], "bench.trust_crosscheck": ["--seeds", "6"]}

#: Benchmarks that time nothing: they run while the cached databases are built. The cross-check
#: ranks communities of a second model, built apart from the simulator (bench/trust_crosscheck.py).
BESIDE_BUILDS = ("bench.trust_quality", "bench.trust_crosscheck")

#: Timed benchmarks, one after the other, alone.
BENCHMARKS = (
    "bench.ingest_throughput",
    "bench.queries",
    "bench.recompute",
    "bench.memory",
    "bench.reports",
    "bench.scaling",
)

#: The modules whose `prepare()` builds the databases they (and bench.memory) read, largest first.
BUILDS = ("bench.reports", "bench.recompute", "bench.queries")

BUILDING = "building the cached databases"


def _run(name: str) -> None:
    module = importlib.import_module(name)
    if name in ARGS:
        module.main(ARGS[name])
    else:
        module.main()


def _timed(took: dict[str, tuple[float, float]], name: str, step: Callable[[], object]) -> None:
    t0, c0 = time.perf_counter(), _cpu()
    step()
    took[name] = (time.perf_counter() - t0, _cpu() - c0)


def main() -> int:
    allocator.tune()  # as the bot does at start (bot/allocator.py)
    took: dict[str, tuple[float, float]] = {}
    print(
        "Benchmarks at their standard sizes; `python -m bench.queries --full` (5M events) and"
        " `python -m bench.recompute --full`\n(0.5M to 4M pairs) write the issue's full sizes to"
        " bench/RESULTS.md, where they are kept."
    )
    t0, c0 = time.perf_counter(), _cpu()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        builds: list[Future[None]] = [pool.submit(prepare_module, name) for name in BUILDS]
        print(f"  … {BUILDING} in two processes: {', '.join(BUILDS)}", flush=True)
        for name in BESIDE_BUILDS:
            _timed(took, f"{name} (beside the builds)", lambda name=name: _run(name))  # type: ignore[misc]
        waited = time.perf_counter()
        for build in builds:
            build.result()
    print(f"  … databases ready ({time.perf_counter() - waited:.0f}s waited after the trust quality runs)")
    wall = time.perf_counter() - t0
    beside_cpu = sum(took[f"{n} (beside the builds)"][1] for n in BESIDE_BUILDS)
    took[BUILDING] = (wall, max(0.0, _cpu() - c0 - beside_cpu))
    for name in BENCHMARKS:
        _timed(took, name, lambda name=name: _run(name))  # type: ignore[misc]
    print("\nTime per step (CPU is this process's and its finished children's, the build workers")
    print("included; the builds and the trust quality runs share the two cores, their wall times overlap):")
    for name, (wall, cpu) in took.items():
        print(f"  {name:<42}{wall:>8.0f} s wall{cpu:>8.0f} s CPU")
    wall = time.perf_counter() - t0
    print(f"  {'total':<42}{wall:>8.0f} s wall{_cpu() - c0:>8.0f} s CPU")
    return 0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


if __name__ == "__main__":
    sys.exit(main())
