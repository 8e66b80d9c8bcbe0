"""The order of the run, and which tests share an xdist worker (tests/conftest.py applies both).

The long tests come first, longest first, and the rest follow in file order: with xdist (`make test`
runs four workers) every worker starts on a long test and the short ones fill in around them, so no
worker is left alone with a long one at the end. Tests are handed out one at a time, except groups:

* a module whose tests share an expensive module-scoped fixture (a simulated community, a month of
  reports loaded into both databases) runs on one worker, which builds the fixture once;
* the tests that hold bot processes to real-time bounds (a flood's slash-command latency, the rows
  a SIGKILL may lose, sharded processes catching up scheduled work) run one after another, so they
  never compete with each other for the CPU, and with a raised priority where the system allows it
  (root, as in CI: `raised_priority`), so the other workers do not starve them either.

xdist's own `xdist_group` marker would say the same in the test files, but with pytest 9 it no longer
reaches xdist's scheduler (the group is appended to `item._nodeid`, which `nodeid` stopped reading);
the scheduler only sees node ids, so the groups are keyed by node id here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

E2E, UNIT = "tests/e2e", "tests/unit"
#: The group of the tests that hold bot processes to real-time bounds.
REAL_TIME = "timed"

#: Node id, or a module's path for all of its tests -> (seconds it keeps a worker busy here, group).
LONG: dict[str, tuple[float, str | None]] = {
    f"{E2E}/test_sharding.py::test_two_processes_on_two_shards_do_everything_exactly_once": (15, REAL_TIME),
    f"{E2E}/test_ingest_reliability.py::test_rows_are_written_while_a_flood_lasts_and_memory_stays_bounded": (
        10,
        REAL_TIME,
    ),
    f"{E2E}/test_ingest_reliability.py::test_a_sigkill_loses_at_most_the_flush_window": (6, REAL_TIME),
    f"{E2E}/test_properties.py": (10, None),
    f"{E2E}/test_activation_faults.py::test_sigkill_mid_request_is_caught_up_after_restart_exactly_once": (
        9,
        None,
    ),
    f"{UNIT}/test_reports.py": (8, "reports"),
    f"{E2E}/test_permissions.py::test_every_cell_of_the_permission_matrix_with_reddit_configured": (7, None),
    f"{E2E}/test_permissions.py::test_every_cell_of_the_permission_matrix": (5, None),
    f"{E2E}/test_ingest_reliability.py::test_a_session_that_could_not_resume_fills_its_gap": (5, None),
    f"{UNIT}/test_bench_perf.py": (4, "bench_perf"),
    f"{E2E}/test_entrypoints.py::test_demo_records_exactly_what_the_simulated_community_sent": (3, None),
    f"{UNIT}/test_bench_trust.py": (2, "bench_trust"),
    f"{UNIT}/test_simulator.py": (1, "simulator"),
}


def entry(nodeid: str) -> tuple[float, str | None]:
    """The test's line of `LONG` (its own, else its module's), or (0, None)."""
    function = nodeid.split("[", 1)[0]
    module = function.split("::", 1)[0]
    return LONG.get(function) or LONG.get(module) or (0, None)


#: How much higher the real-time tests run, in nice levels (CFS gives each level about 1.25 times the CPU).
BOOST = 10


@contextlib.contextmanager
def raised_priority(nodeid: str) -> Iterator[None]:
    """Around a real-time test: raise this process's priority (the sandbox runs here, and the bot
    processes and servers it starts inherit it) and restore it afterwards. Unprivileged users may not
    raise it: the test then runs as it is."""
    if entry(nodeid)[1] != REAL_TIME:
        yield
        return
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before - BOOST)
    except PermissionError:
        yield
        return
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def run_order(nodeid: str) -> float:
    """Sort key, longest first (the sort is stable: file order among equals)."""
    return -entry(nodeid)[0]


def make_scheduler(config: Any, log: Any) -> Any:
    """xdist's load scheduling with `LONG`'s groups: every other test is a unit of its own, handed out
    in collection order as workers free up (each holds at most one test in reserve)."""
    from xdist.scheduler import LoadScopeScheduling

    class LongFirst(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            group = entry(nodeid)[1]
            return f"group:{group}" if group else nodeid

    config.option.loadscopereorder = False  # collection order (long first), not the largest group first
    return LongFirst(config, log)
