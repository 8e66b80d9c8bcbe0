"""Smoke test of the trust benchmark (bench/trust_quality.py) on a small community. No timing asserts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench import trust_quality as bq
from bot.store import Store
from bot.trust import TrustParams
from sandbox.simulator import (
    ATTACKS,
    CHANNEL_FORUM,
    CHANNEL_TEXT,
    KIND_MESSAGE,
    KIND_REACTION,
    KIND_UNREACTION,
    MANIPULATOR_ROLES,
    simulate,
)


@pytest.fixture(scope="module")
def community():
    return simulate(5, members=300, days=20, manipulation=0.6)


@pytest.fixture(scope="module")
def led(community):
    return bq.ledger(community)


def test_ledger_drops_bot_actors_and_resolves_thread_owners(community, led):
    assert len(led) == sum(community.expected_counts().values())
    assert not np.isin(led.actor, community.bot_ids()).any()
    owners = bq.thread_owners(community)
    in_thread = np.isin(led.channel, np.fromiter(owners, np.int64)) & (led.kind == KIND_MESSAGE)
    assert in_thread.any()
    expected = [owners[c] for c in led.channel[in_thread].tolist()]
    assert led.target[in_thread].tolist() == expected


async def test_numpy_engagement_daily_matches_the_store_triggers(community, led, tmp_path: Path):
    store = await Store.open(tmp_path / "bench.sqlite3")
    try:
        loaded = await store.record_bulk(
            bq.event_rows(community, led, chunk=1000),
            bq.sightings(community, led),
            bq.channel_infos(community),
            chunk=5000,
        )
        assert loaded == len(led)
        assert await store.scalar("PRAGMA synchronous") == 1  # restored to NORMAL
        assert await store.scalar("PRAGMA journal_mode") == "wal"
        since = bq.today_of(community) - 400
        stored = Counter()
        for channel, actor, target, day, kind, n in await store.engagement_rows(community.guild_id, since):
            stored[(channel, actor, target, day, bq.STORE_KIND[kind])] += n
        pairs = await store.pair_event_counts()
    finally:
        await store.close()
    edges = bq.edges_of(community, led)
    ours = Counter()
    cols = (edges.channel, edges.actor, edges.target, edges.day, edges.kind)
    for *key, n in zip(*(c.tolist() for c in cols), edges.n.tolist(), strict=True):
        ours[tuple(key)] += int(n)
    assert ours == stored
    assert any(k[4] == bq.STORE_KIND["thread_reply"] for k in ours)
    # Unreactions took something back: fewer reaction units than recorded reactions to others.
    recorded = int(((led.kind == KIND_REACTION) & (led.target != led.actor)).sum())
    assert int((led.kind == KIND_UNREACTION).sum()) > 0
    assert sum(n for k, n in ours.items() if k[4] == bq.STORE_KIND["reaction"]) < recorded
    assert len(pairs) > 0 and all(a != t and n >= 1 for a, t, n in pairs)


def test_control_ranks_the_community_without_its_manipulators(community):
    rows = bq.evaluate(community, "smoke", with_baselines=False, control=True)
    assert [q.method for q in rows] == ["Microvoice", bq.CONTROL]
    control = rows[1]
    assert control.manipulators == 0 and control.best == {}  # nobody of any attack left to list
    assert control.voices == rows[0].voices  # measured against the same genuine voices
    assert 0.0 <= control.p10 <= 1.0


def test_misplaced_names_who_took_the_places_and_the_voices_missed(community, led):
    voices = bq.genuine_voices(community, led)
    edges, facts, posts = bq.edges_of(community, led), bq.member_facts(community), bq.posts_of(community, led)
    engagers = bq.genuine_engagers(community, led)
    ordinary = sorted(m for m in community.labels["ordinary"] if m not in voices)
    k = min(10, len(voices))
    # A ranking that puts two ordinary members first, then every voice but the last one.
    ranked = [*ordinary[:2], *sorted(voices)[:-1]]
    lines = bq.misplaced(community, led, edges, facts, posts, TrustParams(), ranked, voices)
    taken = [line for line in lines if not line.startswith("missed")]
    missed = [line for line in lines if line.startswith("missed")]
    assert [line.split(" ", 1)[0] for line in taken] == ["#1", "#2"]
    assert f"{engagers.get(ordinary[0], 0)} genuine engagers" in taken[0]
    assert len(missed) == len(voices - set(ranked[:k]))
    assert any("not listed" in line for line in missed)  # the last voice is not in this ranking at all


def test_quality_metrics_are_sane(community):
    rows = bq.evaluate(community, "smoke")
    assert [q.method for q in rows] == list(bq.METHODS)
    manipulators = set().union(*(community.labels[r] for r in MANIPULATOR_ROLES))
    attacks = {*ATTACKS, "brand contact", "bot"}
    for q in rows:
        assert 0.0 <= q.p10 <= 1.0 and 0.0 <= q.p20 <= 1.0
        assert 0 <= q.manipulators <= bq.TOP
        assert q.manipulators == sum(q.leaked.values())
        assert set(q.leaked) <= set(q.best) <= attacks
        assert all(q.best[a] <= bq.TOP for a in q.leaked)
        assert q.members == len(community.members)
    by_method = {q.method: q for q in rows}
    mv = by_method["Microvoice"]
    assert mv.p10 > 0  # the ranking finds genuine voices at all
    assert "brand contact" not in mv.leaked and "bot" not in mv.leaked  # excluded / is_bot
    assert len(manipulators) > 0
    # The naive baselines are fooled: message count lists spammers and reply farmers.
    assert {"spam", "reply farming"} & set(by_method["message count"].leaked)
    voices = bq.genuine_voices(community, bq.ledger(community))
    assert community.labels["expert"] <= voices and not voices & manipulators
    lines = bq.quality_table(rows)
    assert len(lines) == 1 + len(rows) and ("PASS" in lines[1] or "FAIL" in lines[1])
    assert len(bq.sweep_table(rows)) == 1 + len(bq.METHODS)
    assert len(bq.attack_table(rows)) == 1 + len(attacks)
    # Every topic channel is ranked on its own too, as `/voices top` with a channel ranks it.
    topics = [c for c in community.channels if c.type in (CHANNEL_TEXT, CHANNEL_FORUM)]
    assert mv.channels == len(topics) > 0 and 0 <= mv.channels_leaked <= mv.channels
    assert (mv.channel_best == 0) == (mv.channels_leaked == 0)
    assert all(q.channels == 0 for q in rows[1:])
    assert len(bq.channel_table(rows)) == 2


def test_the_subreddit_view_shows_what_reddit_shows(community, led):
    """`--subreddit`: no reaction (Reddit shows no voter), no join date (but accounts' ages), records
    from the first day; the ranking still finds the voices of what it shows, and has no reactions to
    rank."""
    shown, facts = bq.subreddit_view(community, led)
    assert len(shown) == int((~np.isin(led.kind, (KIND_REACTION, KIND_UNREACTION))).sum()) > 0
    assert not np.isin(shown.kind, (KIND_REACTION, KIND_UNREACTION)).any()
    assert np.isnan(facts.joined_day).all() and not np.isnan(facts.account_created_day).any()
    assert (facts.records_from_day == led.ts_ms.min() // bq.DAY_MS).all()
    rows = bq.evaluate(community, "smoke", view="subreddit")
    assert [q.method for q in rows] == ["Microvoice", "message count", "plain TrustRank"]
    mv, _, plain = rows
    assert mv.p10 >= 0.5 and mv.manipulators == 0
    assert plain.p10 > 0  # the baseline's seeds come from the records too
    assert mv.voices == len(bq.genuine_voices(community, shown))


def test_reference_pagerank_is_a_distribution():
    pairs = np.array([[1, 2, 3], [2, 3, 1], [3, 1, 2], [4, 1, 1]], dtype=np.int64)
    x, steps = bq.reference_pagerank(pairs)
    assert steps > 1
    assert x.sum() == pytest.approx(1.0)
    assert (x > 0).all()


async def test_speed_part_runs_end_to_end_on_a_small_community(community, led):
    """The speed measurement's whole path (no cache): reference, cold and warm recompute, new events
    through Ingest and its graph hook, incremental recompute, and the cache consistency check."""
    speed = await bq.measure_speed(bq.QUICK[0], community, led, new_events=300, rounds=2, cache=False)
    assert speed.events == len(led) - 600 and speed.new_events == 300
    assert len(speed.rounds) == 2 and speed.incremental_seconds == pytest.approx(sum(speed.rounds) / 2)
    assert speed.in_place and speed.consistent and speed.same_ranking
    assert speed.scopes > 1 and speed.ranked > 0
    lines = bq.speed_table(speed)
    assert any("PASS" in line or "FAIL" in line for line in lines)


async def test_the_stored_demo_ranking_is_the_benchmarks_with_the_same_exclusions():
    """`make demo`'s community recorded in a store and ranked by `Voices.recompute`, its brand's
    staff excluded as the demo's brand contacts are, lists what `compute_scope` lists on the
    benchmark's aggregate of the same community: the two differed only because the stored copy
    ranked the brand's staff."""
    com = bq.simulate(7, members=200, days=7.0)
    led = bq.ledger(com)
    edges, posts = bq.edges_of(com, led), bq.posts_of(com, led)
    ranked = bq.microvoice(com, edges, bq.member_facts(com), posts)
    stored = [member for member, _ in await bq.demo_top(top=bq.DEPTH)]
    assert stored == ranked[: len(stored)] and len(stored) == min(bq.DEPTH, len(ranked))
