"""`make bench`: run every benchmark and print its table."""

from __future__ import annotations

import importlib
import os
import sys
import time

#: Arguments under `make bench`: the trust benchmark's speed part (2.2M pairs, a 5.4M-event database)
#: is a size `python -m bench.recompute --full` covers (0.5M to 4M pairs, written to RESULTS.md), so
#: `make bench` runs the quality part only; `python -m bench.trust_quality` still runs both.
ARGS = {"bench.trust_quality": ["--no-speed"]}

BENCHMARKS = (
    "bench.ingest_throughput",
    "bench.trust_quality",
    "bench.queries",
    "bench.recompute",
    "bench.memory",
    "bench.reports",
    "bench.scaling",
)


def main() -> int:
    took: dict[str, tuple[float, float]] = {}
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        t0, c0 = time.perf_counter(), _cpu()
        if name in ARGS:
            module.main(ARGS[name])
        else:
            module.main()
        took[name] = (time.perf_counter() - t0, _cpu() - c0)
    print("\nTime per benchmark (on a fresh clone this includes building the cached databases; CPU is")
    print("this process's and its finished children's, so a busy machine shows in the wall time only):")
    for name, (wall, cpu) in took.items():
        print(f"  {name:<28}{wall:>8.0f} s wall{cpu:>8.0f} s CPU")
    wall, cpu = (sum(t[i] for t in took.values()) for i in (0, 1))
    print(f"  {'total':<28}{wall:>8.0f} s wall{cpu:>8.0f} s CPU")
    return 0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


if __name__ == "__main__":
    sys.exit(main())
