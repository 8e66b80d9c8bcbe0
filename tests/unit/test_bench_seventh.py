"""The creator-collective model (`bench.trust_seventh`): deterministic, recorded as the Discord adapter
records a server, its genuine voices labelled from the organic records alone, and its attacks ranked."""

from __future__ import annotations

import numpy as np

from bench import trust_metrics
from bench.trust_seventh import runner
from bench.trust_seventh.attacks import ATTACKS
from bench.trust_seventh.model import BASE_ID, BOT, CHANNEL_BASE, CHANNELS, build_community
from bot.trust import KINDS

SIZE = 400
DISCORD_KINDS = {KINDS.index(k) for k in ("reply", "reaction", "thread_reply", "mention")}


def test_the_same_size_and_seed_give_the_same_rows() -> None:
    a, b = build_community(SIZE, 3), build_community(SIZE, 3)
    for col in ("actor", "target", "channel", "day", "kind", "n"):
        assert np.array_equal(getattr(a.edges, col), getattr(b.edges, col)), col
    for col in ("member", "channel", "day", "n"):
        assert np.array_equal(getattr(a.posts, col), getattr(b.posts, col)), col
    assert np.array_equal(a.facts.joined_day, b.facts.joined_day, equal_nan=True)
    assert a.genuine == b.genuine
    other = build_community(SIZE, 4)
    assert len(other.edges) != len(a.edges) or not np.array_equal(other.edges.n, a.edges.n)


def _check_contract(data: trust_metrics.Data, start: int, today: int, bot: int) -> None:
    edges, posts, facts = data.edges, data.posts, data.facts
    assert len(edges) > 0 and len(posts) > 0
    # What a Discord server shows the bot: replies, reactions, thread messages and mentions, between two
    # different accounts, as daily counts.
    assert set(np.unique(edges.kind).tolist()) <= DISCORD_KINDS
    assert not np.any(edges.actor == edges.target)
    assert np.all(edges.n >= 1) and np.all(edges.n == np.round(edges.n))
    keys = np.stack([edges.actor, edges.target, edges.channel, edges.day, edges.kind], axis=1)
    assert len(np.unique(keys, axis=0)) == len(edges)
    channels = set(range(CHANNEL_BASE, CHANNEL_BASE + len(CHANNELS)))
    assert set(np.unique(edges.channel).tolist()) <= channels
    assert set(np.unique(posts.channel).tolist()) <= channels
    assert edges.day.min() >= start and edges.day.max() <= today
    assert posts.day.min() >= start and posts.day.max() <= today
    # Facts: Discord states every member's join and account creation day; nothing engages the bot's
    # machinery into a voice (it is marked as a bot).
    ids = set(facts.member_id.tolist())
    assert set(posts.member.tolist()) | set(edges.actor.tolist()) | set(edges.target.tolist()) <= ids
    assert np.all(np.isfinite(facts.joined_day)) and np.all(np.isfinite(facts.account_created_day))
    assert np.all(facts.account_created_day <= facts.joined_day)
    seen = np.isfinite(facts.first_seen_day)
    assert np.all(facts.first_seen_day[seen] >= start)
    assert facts.member_id[facts.is_bot].tolist() == [BASE_ID + bot]


def test_organic_and_attacked_rows_follow_what_discord_shows() -> None:
    comm = build_community(SIZE, 2)
    assert 90 <= comm.days <= 181
    assert comm.role[comm.bot] == BOT
    _check_contract(runner.combine(comm, None), comm.start, comm.today, comm.bot)
    for i, name in enumerate(ATTACKS):
        res = ATTACKS[name](comm, 2, runner.attack_rng(SIZE, 2, name, 2))
        assert not np.any(res.edges.actor == res.edges.target), name
        assert res.beneficiary in res.manipulators, name
        data = runner.combine(comm, res)
        # (an imported fan who never posts or engages is in no row, as in the store)
        assert res.beneficiary in set(data.facts.member_id.tolist()), name
        if i % 3 == 0:  # a third of the attacks is enough for the full check
            _check_contract(data, comm.start, comm.today, comm.bot)


def test_genuine_voices_are_present_members_and_no_manipulator() -> None:
    for seed in (1, 2):
        comm = build_community(SIZE, seed)
        assert 5 <= len(comm.genuine) <= SIZE // 4
        idx = np.array(sorted(comm.genuine)) - BASE_ID
        assert np.all(np.isnan(comm.left[idx]))
        assert not np.any(comm.role[idx] == BOT)
        assert np.all(comm.last_active[idx] >= comm.days - 28)
        for name, attack in ATTACKS.items():
            for strength in (1, 3):
                res = attack(comm, strength, runner.attack_rng(SIZE, seed, name, strength))
                assert not res.manipulators & comm.genuine, (name, strength)


def test_reactions_and_courtesy_under_uploads_make_no_voice() -> None:
    """A voice is engaged by replies, thread posts or mentions outside #self-promo and the bot's
    channel (an expert's thanks are replies too): a star's fan reactions alone make none."""
    comm = build_community(SIZE, 1)
    courtesy = np.isin(
        comm.edges.channel, [CHANNEL_BASE + CHANNELS.index(c) for c in ("self-promo", "stream-notifs")]
    )
    said = (comm.edges.kind != KINDS.index("reaction")) & ~courtesy
    for voice in comm.genuine:
        assert len(np.unique(comm.edges.actor[said & (comm.edges.target == voice)])) >= 6


def test_evaluate_ranks_the_organic_server_then_every_attack() -> None:
    outcomes = runner.evaluate(SIZE, 1)
    assert len(outcomes) == 1 + 3 * len(ATTACKS)
    organic = outcomes[0]
    assert organic.attack is None and organic.strength == 0 and organic.best is None
    assert organic.p10 >= 0.5
    assert [(o.attack, o.strength) for o in outcomes[1:]] == [(a, s) for a in ATTACKS for s in (1, 2, 3)]
    for o in outcomes:
        assert 0.0 <= o.p10 <= 1.0
        assert o.best is None or 1 <= o.best <= trust_metrics.LIMIT
