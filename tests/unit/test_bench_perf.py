"""Smoke tests of the performance benchmarks' building blocks on a small community. No timing asserts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import ledger_db, recompute, results
from bench import trust_quality as bq
from sandbox.simulator import simulate


@pytest.fixture(scope="module")
def community():
    return simulate(9, members=300, days=20, manipulation=0.6)


@pytest.fixture(scope="module")
def led(community):
    return bq.ledger(community)


async def test_fast_loader_writes_what_the_store_writes(community, led):
    assert len(led) > 5_000
    assert await ledger_db.check_loader(community, led, events=len(led)) == []


async def test_fast_loader_keeps_the_first_of_duplicated_events(community, led, tmp_path: Path):
    doubled = bq.Ledger(**{name: np.concatenate([col, col[:500]]) for name, col in vars(led).items()})
    db = tmp_path / "fast.sqlite3"
    await ledger_db.prepare(db, community, doubled)
    first = await ledger_db.load(db, community, doubled, 0, len(led))
    assert first == int(ledger_db.first_occurrences(led, len(led)).sum())
    assert await ledger_db.load(db, community, doubled, len(led), len(doubled)) == 0
    assert len(ledger_db.table_contents(db)["events"]) == first


def test_stage_stops_hold_exactly_the_asked_pairs(led):
    keep = ledger_db.first_occurrences(led, len(led))
    engaging = keep & (led.target != 0) & (led.target != led.actor)
    total = len(set(zip(led.actor[engaging].tolist(), led.target[engaging].tolist(), strict=True)))
    asked = (total // 4, total // 2, total)
    for pairs, stop in zip(asked, recompute.stage_stops(led, asked), strict=True):
        seen = keep[:stop] & engaging[:stop]
        got = set(zip(led.actor[:stop][seen].tolist(), led.target[:stop][seen].tolist(), strict=True))
        assert len(got) == pairs
        assert engaging[stop - 1]  # the stop is the event that brought the last new pair


def test_results_section_keeps_the_previous_figures(tmp_path: Path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n<!-- other:begin -->\nkept\n<!-- other:end -->\n")
    first = [results.Row("speed", "1.0 s", "ref 2.0 s", "≤ ref", "PASS", key="speed")]
    results.write_section("demo", "Demo", first, path=path)
    results.write_section("demo", "Demo", [results.Row("speed", "0.5 s", key="speed")], path=path)
    text = path.read_text()
    assert "kept" in text
    assert text.count("<!-- demo:begin -->") == 1
    assert "| speed | 0.5 s | 1.0 s |" in text
    assert results.previous("demo", path) == {"speed": "0.5 s"}
