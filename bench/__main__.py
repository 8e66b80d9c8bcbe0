"""`make bench`: run every benchmark and print its table."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.ingest_throughput", "bench.trust_quality", "bench.reports", "bench.scaling")


def main() -> int:
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
