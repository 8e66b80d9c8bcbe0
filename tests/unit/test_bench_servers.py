"""The Discord server models built apart from the ranking: the trading server (`bench.trust_sixth`)
and the creators' server (`bench.trust_seventh`). Deterministic, recorded as the Discord adapter
records a server, their genuine voices labelled from the organic records alone, their attacks ranked."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from bench import trust_metrics
from bench.trust_seventh import model as seventh_model
from bench.trust_seventh import runner as seventh_runner
from bench.trust_sixth import model as sixth_model
from bench.trust_sixth import runner as sixth_runner
from bot.trust import KINDS

DISCORD_KINDS = {KINDS.index(k) for k in ("reply", "reaction", "thread_reply", "mention")}


@dataclass(frozen=True)
class Server:
    model: ModuleType
    runner: ModuleType
    size: int
    days: tuple[int, int]  # the shortest and longest history it draws

    def build(self, seed: int) -> Any:
        return self.model.build_community(self.size, seed)


SERVERS = [
    pytest.param(Server(sixth_model, sixth_runner, 300, (120, 181)), id="sixth"),
    pytest.param(Server(seventh_model, seventh_runner, 400, (90, 181)), id="seventh"),
]


@pytest.mark.parametrize("server", SERVERS)
def test_the_same_size_and_seed_give_the_same_rows(server: Server) -> None:
    a, b = server.build(3), server.build(3)
    for col in ("actor", "target", "channel", "day", "kind", "n"):
        assert np.array_equal(getattr(a.edges, col), getattr(b.edges, col)), col
    for col in ("member", "channel", "day", "n"):
        assert np.array_equal(getattr(a.posts, col), getattr(b.posts, col)), col
    assert np.array_equal(a.facts.joined_day, b.facts.joined_day, equal_nan=True)
    assert a.genuine == b.genuine
    other = server.build(4)
    assert len(other.edges) != len(a.edges) or not np.array_equal(other.edges.n, a.edges.n)


def _check_contract(server: Server, data: trust_metrics.Data, start: int, today: int, bot: int) -> None:
    edges, posts, facts = data.edges, data.posts, data.facts
    assert len(edges) > 0 and len(posts) > 0
    # What a Discord server shows the bot: replies, reactions, thread messages and mentions, between two
    # different accounts, as daily counts.
    assert set(np.unique(edges.kind).tolist()) <= DISCORD_KINDS
    assert not np.any(edges.actor == edges.target)
    assert np.all(edges.n >= 1) and np.all(edges.n == np.round(edges.n))
    keys = np.stack([edges.actor, edges.target, edges.channel, edges.day, edges.kind], axis=1)
    assert len(np.unique(keys, axis=0)) == len(edges)
    base = server.model.CHANNEL_BASE
    channels = set(range(base, base + len(server.model.CHANNELS)))
    assert set(np.unique(edges.channel).tolist()) <= channels
    assert set(np.unique(posts.channel).tolist()) <= channels
    assert edges.day.min() >= start and edges.day.max() <= today
    assert posts.day.min() >= start and posts.day.max() <= today
    # Facts: Discord states every member's join and account creation day, and marks its bots.
    ids = set(facts.member_id.tolist())
    assert set(posts.member.tolist()) | set(edges.actor.tolist()) | set(edges.target.tolist()) <= ids
    assert np.all(np.isfinite(facts.joined_day)) and np.all(np.isfinite(facts.account_created_day))
    assert np.all(facts.account_created_day <= facts.joined_day)
    seen = np.isfinite(facts.first_seen_day)
    assert np.all(facts.first_seen_day[seen] >= start)
    assert facts.member_id[facts.is_bot].tolist() == [server.model.BASE_ID + bot]


@pytest.mark.parametrize("server", SERVERS)
def test_organic_and_attacked_rows_follow_what_discord_shows(server: Server) -> None:
    comm = server.build(2)
    assert server.days[0] <= comm.days <= server.days[1]
    assert comm.role[comm.bot] == server.model.BOT
    _check_contract(server, server.runner.combine(comm, None), comm.start, comm.today, comm.bot)
    attacks = server.runner.ATTACKS
    for i, name in enumerate(attacks):
        res = attacks[name](comm, 2, server.runner.attack_rng(server.size, 2, name, 2))
        assert not np.any(res.edges.actor == res.edges.target), name
        assert res.beneficiary in res.manipulators, name
        data = server.runner.combine(comm, res)
        # (an account an attack adds that never posts or engages is in no row, as in the store)
        assert res.beneficiary in set(data.facts.member_id.tolist()), name
        if i % 3 == 0:  # a third of the attacks is enough for the full check
            _check_contract(server, data, comm.start, comm.today, comm.bot)


@pytest.mark.parametrize("server", SERVERS)
def test_genuine_voices_are_present_members_and_no_manipulator(server: Server) -> None:
    for seed in (1, 2):
        comm = server.build(seed)
        assert 5 <= len(comm.genuine) <= server.size // 4
        idx = np.array(sorted(comm.genuine)) - server.model.BASE_ID
        assert np.all(np.isnan(comm.left[idx]))
        assert not np.any(comm.role[idx] == server.model.BOT)
        assert np.all(comm.last_active[idx] >= comm.days - 28)
        for name, attack in server.runner.ATTACKS.items():
            for strength in (1, 3):
                res = attack(comm, strength, server.runner.attack_rng(server.size, seed, name, strength))
                assert not res.manipulators & comm.genuine, (name, strength)


def test_moderators_announcements_make_no_voice_on_the_trading_server() -> None:
    """A moderator is a voice only by what ordinary members give them outside #announcements."""
    m = sixth_model
    comm = m.build_community(300, 1)
    mods = {int(m.BASE_ID + i) for i in np.flatnonzero(comm.role == m.MOD)}
    reach = comm.edges.channel == m.CHANNEL_BASE + m.CHANNELS.index("announcements")
    # Only moderators post there: whoever else is engaged there is a giveaway's winner they mention.
    others = reach & ~np.isin(comm.edges.target, list(mods))
    assert np.isin(comm.edges.actor[others], list(mods)).all()
    assert np.all(comm.edges.kind[others] == KINDS.index("mention"))
    for mod in mods & comm.genuine:
        elsewhere = (comm.edges.target == mod) & ~reach & (comm.edges.kind != KINDS.index("reaction"))
        assert len(np.unique(comm.edges.actor[elsewhere])) >= 10


def test_reactions_and_courtesy_under_uploads_make_no_voice_on_the_creators_server() -> None:
    """A voice is engaged by replies, thread posts or mentions outside #self-promo and the bot's
    channel (an expert's thanks are replies too): a star's fan reactions alone make none."""
    m = seventh_model
    comm = m.build_community(400, 1)
    uploads = [m.CHANNEL_BASE + m.CHANNELS.index(c) for c in ("self-promo", "stream-notifs")]
    said = (comm.edges.kind != KINDS.index("reaction")) & ~np.isin(comm.edges.channel, uploads)
    for voice in comm.genuine:
        assert len(np.unique(comm.edges.actor[said & (comm.edges.target == voice)])) >= 6


@pytest.mark.parametrize("server", SERVERS)
def test_evaluate_ranks_the_organic_server_then_every_attack(server: Server) -> None:
    outcomes = server.runner.evaluate(server.size, 1)
    attacks = server.runner.ATTACKS
    assert len(outcomes) == 1 + 3 * len(attacks)
    organic = outcomes[0]
    assert organic.attack is None and organic.strength == 0 and organic.best is None
    assert organic.p10 >= 0.5
    assert [(o.attack, o.strength) for o in outcomes[1:]] == [(a, s) for a in attacks for s in (1, 2, 3)]
    for o in outcomes:
        assert 0.0 <= o.p10 <= 1.0
        assert o.best is None or 1 <= o.best <= trust_metrics.LIMIT
