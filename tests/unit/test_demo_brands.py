"""The demo's brand side: its clock, and reading the revealed seed off a results post in any language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n
from bot.activations import draw as giveaway
from sandbox.demo_brands import DemoClock, _revealed_seed

SEED = "8f3b5c0e2a7d4f6190b1c3e5d7f9a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5"


def test_demo_clock_follows_real_time_and_only_moves_forward():
    clock = DemoClock()
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=1)
    later = datetime.now(UTC) + timedelta(days=1)
    clock.move_to(later)
    assert clock() >= later and clock() - later < timedelta(seconds=1)
    clock.move_to(later - timedelta(hours=5))  # never backwards
    assert clock() >= later


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
def test_the_revealed_seed_is_the_hash_beside_the_commitment_not_the_entrant_digest(lang: str):
    commitment = giveaway.commitment(SEED)
    digest = giveaway.entrants_digest([3, 1, 2])
    description = "\n".join(
        [
            i18n.t(lang, "giveaway.result_winners", winners="<@1>"),
            "",
            i18n.t(lang, "giveaway.result_entrants", count=3, digest=digest),
            i18n.t(lang, "giveaway.result_seed", seed=SEED, commitment=commitment),
            i18n.t(lang, "giveaway.result_verify", seed=SEED, commitment=commitment, count=1),
        ]
    )
    assert _revealed_seed(description, commitment) == SEED
    assert _revealed_seed(description, "0" * 64) is None
