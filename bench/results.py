"""bench/RESULTS.md: one section per benchmark, rewritten by each run with the previous run's figures
beside the new ones, and the machine and library versions they were measured with.

A section sits between `<!-- name:begin -->` and `<!-- name:end -->`; its figures are kept in a
`<!-- name:figures {json} -->` comment, which the next run reads back as its "previous run" column.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nWritten by `make bench`.\n"
LIBRARIES = ("discord.py", "aiosqlite", "aiohttp", "orjson", "numpy", "scipy")


@dataclass(frozen=True)
class Row:
    """One figure of a benchmark's table, beside what it is measured against in the same run."""

    what: str
    now: str
    beside: str = ""  # the ceiling or reference measured in the same run
    target: str = ""
    verdict: str = ""  # PASS, FAIL or nothing (a figure without a target)
    key: str = ""  # the figure's name in the figures comment (the previous run's value is found by it)


def environment() -> str:
    """CPU count, load, Python, SQLite and library versions, in one line."""
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    load = f" (load average {os.getloadavg()[0]:.1f} at the end)" if hasattr(os, "getloadavg") else ""
    return (
        f"{os.cpu_count()} CPUs{load}, python {platform.python_version()}, "
        f"sqlite {sqlite3.sqlite_version}, " + ", ".join(versions)
    )


def _markers(name: str) -> tuple[str, str, re.Pattern[str]]:
    return (
        f"<!-- {name}:begin -->",
        f"<!-- {name}:end -->",
        re.compile(rf"<!-- {re.escape(name)}:figures (\{{.*?\}}) -->", re.S),
    )


def previous(name: str, path: Path = RESULTS) -> dict[str, str]:
    """The figures of this benchmark's last written section (empty when there is none)."""
    if not path.exists():
        return {}
    found = _markers(name)[2].search(path.read_text())
    return dict(json.loads(found.group(1))) if found else {}


def table(rows: Sequence[Row], before: dict[str, str]) -> list[str]:
    lines = ["| what | now | previous run | beside it (same run) | target |", "|---|---|---|---|---|"]
    for r in rows:
        target = f"{r.target} — {r.verdict}" if r.verdict else r.target
        lines.append(f"| {r.what} | {r.now} | {before.get(r.key, '—')} | {r.beside} | {target} |")
    return lines


def write_section(
    name: str, title: str, rows: Sequence[Row], notes: Sequence[str] = (), path: Path = RESULTS
) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md."""
    begin, end, _ = _markers(name)
    before = previous(name, path)
    figures = {r.key: r.now for r in rows if r.key}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    body = [
        begin,
        f"## {title}",
        "",
        f"Run {stamp} on {environment()}.",
        "",
        *table(rows, before),
    ]
    if notes:
        body += ["", *notes]
    body += ["", f"<!-- {name}:figures {json.dumps(figures, ensure_ascii=False)} -->", end]
    section = "\n".join(body)
    text = path.read_text() if path.exists() else HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def print_table(rows: Sequence[Row]) -> None:
    """The rows as an aligned text table on stdout."""
    heads = ("what", "now", "beside it (same run)", "target")
    cells = [(r.what, r.now, r.beside, f"{r.target} {r.verdict}".strip()) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(heads)]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    for c in cells:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip(), flush=True)


def prepare_module(name: str) -> None:
    """Build what benchmark module `name` reads (its `prepare()`), e.g. in a worker process of
    `make bench` (a function a spawned worker can import by name, unlike one in bench/__main__)."""
    importlib.import_module(name).prepare()
