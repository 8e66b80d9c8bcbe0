"""Sharding (bot/shards.py, the settings and the command line) and the memory budget of cached trust
state (bot/memory_budget.py, and Voices within it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.__main__ import _with_shards
from bot.config import ConfigError, Settings
from bot.ledger import EngagementEvent, MemberSighting
from bot.memory_budget import MB, MemoryBudget, state_bytes
from bot.shards import Shards, parse_shard_ids, shard_of
from bot.store import Store
from bot.trust import Voices

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_guild_belongs_to_the_shard_discord_assigns():
    guild = 81384788765712384
    assert shard_of(guild, 4) == (guild >> 22) % 4
    shards = Shards((0, 1), 4)
    mine = [g for g in range(0, 40 << 22, 1 << 22) if shards.owns(g)]
    assert {shard_of(g, 4) for g in mine} == {0, 1} and len(mine) == 20
    assert Shards().owns(guild) and not Shards().sharded
    assert Shards((), 3).owned == (0, 1, 2)  # a count alone: this process runs every shard
    assert Shards((2,), 3).describe() == "shards 2 of 3"
    # Work no community owns (the bot's Reddit inbox) belongs to the process serving shard 0.
    assert Shards().first and Shards((0, 2), 4).first and Shards((), 4).first
    assert not Shards((1, 3), 4).first


@pytest.mark.parametrize(
    ("ids", "count", "message"),
    [((4,), 4, "between 0 and 3"), ((1,), 0, "need a shard count"), ((1, 1), 2, "must not repeat")],
)
def test_impossible_shard_sets_are_refused(ids: tuple[int, ...], count: int, message: str):
    with pytest.raises(ValueError, match=message):
        Shards(ids, count)


def test_shards_from_the_command_line_and_the_environment():
    assert parse_shard_ids("0,2-4, 7") == (0, 2, 3, 4, 7)
    settings = Settings.from_env({"MICROVOICE_SHARD_IDS": "1", "MICROVOICE_SHARD_COUNT": "2"}, dotenv=None)
    assert (settings.shard_ids, settings.shard_count) == ((1,), 2)
    overridden = _with_shards(settings, "0-2", 4)  # the command line wins
    assert (overridden.shard_ids, overridden.shard_count) == ((0, 1, 2), 4)
    with pytest.raises(ConfigError, match="--shard-ids"):
        _with_shards(settings, "5", 4)
    with pytest.raises(ConfigError, match="MICROVOICE_SHARD_COUNT"):
        Settings.from_env({"MICROVOICE_SHARD_IDS": "1"}, dotenv=None)


def test_the_database_setting_chooses_the_backend():
    sqlite = Settings.from_env({"MICROVOICE_DB": "data/x.sqlite3"}, dotenv=None)
    assert sqlite.database == Path("data/x.sqlite3") and not sqlite.database_url
    url = "postgresql://bot:secret@db.example:5432/microvoice"
    pg = Settings.from_env({"MICROVOICE_DB": url}, dotenv=None)
    assert pg.database == url and "bot:secret" not in repr(pg)
    with pytest.raises(ConfigError, match="postgresql://"):
        Settings.from_env({"MICROVOICE_DB": "mysql://x/y"}, dotenv=None)


def test_the_budget_evicts_the_least_recently_used_first():
    dropped: list[int] = []
    busy = {3}

    def evict(key: int) -> bool:
        if key in busy:
            return False
        dropped.append(key)
        return True

    budget = MemoryBudget(3, evict)
    for key in (1, 2, 3):
        assert budget.touch(key, MB) == []
    budget.touch(1)  # 1 is used again: 2 is now the coldest
    assert budget.touch(4, MB) == [2] and dropped == [2]
    assert budget.touch(5, int(1.5 * MB)) == [1, 4]  # 3 is busy: skipped, the next coldest go
    assert 3 in budget and budget.used <= 3 * MB


def test_state_bytes_counts_array_buffers_once():
    big = np.zeros(1_000_000)
    view = big[10:]

    class Holder:
        def __init__(self) -> None:
            self.a, self.b, self.c = big, view, {"x": [big]}

    assert 8_000_000 <= state_bytes(Holder()) < 8_100_000


async def test_voices_keep_only_the_budget_of_community_state(tmp_path: Path):
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        people = range(1, 30)
        for guild in (1, 2, 3):
            await store.record(
                [
                    EngagementEvent("discord", guild, 10, a, "reply", f"{guild}:{a}:{b}", T0, b)
                    for a in people
                    for b in people
                    if a != b and (a * b) % 3
                ],
                [
                    MemberSighting(
                        "discord", guild, m, T0 - timedelta(days=90), joined_at=T0 - timedelta(days=90)
                    )
                    for m in people
                ],
            )
        voices = Voices(store, clock=lambda: T0 + timedelta(hours=1), memory_budget_mb=1024)
        await voices.recompute(1)
        one = voices.state_bytes(1)
        assert one > 0
        # a budget for about two communities' state: the third recompute evicts the coldest (1)
        voices.memory.limit = int(2.5 * one)
        await voices.recompute(2)
        await voices.recompute(3)
        assert voices.cached_graph(1) is None and voices.cached_graph(3) is not None
        assert voices.memory.used <= voices.memory.limit
        # evicted state is a cache miss, not a loss: the next recompute rebuilds it and ranks the same
        before = await store.fetch_all(
            "SELECT scope, member_id, rank FROM trust_scores WHERE community_id = 1"
        )
        voices.memory.limit = 1024 * MB
        assert not (await voices.recompute(1)).in_place
        after = await store.fetch_all(
            "SELECT scope, member_id, rank FROM trust_scores WHERE community_id = 1"
        )
        assert sorted(after) == sorted(before) and voices.cached_graph(1) is not None
    finally:
        await store.close()
