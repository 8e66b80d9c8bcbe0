"""`make bench`: run every benchmark and print its table."""

from __future__ import annotations

import importlib
import sys
import time

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
    took: dict[str, float] = {}
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        t0 = time.perf_counter()
        module.main()
        took[name] = time.perf_counter() - t0
    print("\nTime per benchmark (on a fresh clone this includes building the cached databases):")
    for name, seconds in took.items():
        print(f"  {name:<28}{seconds:>8.0f} s")
    print(f"  {'total':<28}{sum(took.values()):>8.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
