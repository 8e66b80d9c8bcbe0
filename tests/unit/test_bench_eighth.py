"""The keyboard server simulated message by message (`bench.trust_eighth`), built apart from the
ranking: deterministic, its message-level records adding up exactly to the daily rows the ranking
sees, its genuine voices labelled from the organic records alone, its attacks ranked."""

from __future__ import annotations

import numpy as np

from bench import trust_metrics
from bench.trust_eighth import check, model, runner
from bot.trust import KINDS

SIZE = 400


def test_the_same_size_and_seed_give_the_same_records() -> None:
    a, b = model.build_community(SIZE, 3), model.build_community(SIZE, 3)
    for col in ("actor", "target", "channel", "day", "kind", "n"):
        assert np.array_equal(getattr(a.edges, col), getattr(b.edges, col)), col
    assert np.array_equal(a.post_authors.id, b.post_authors.id)
    assert a.genuine == b.genuine
    other = model.build_community(SIZE, 4)
    assert len(other.edges) != len(a.edges) or not np.array_equal(other.edges.n, a.edges.n)


def test_messages_and_engagement_add_up_to_the_daily_rows() -> None:
    """Every engagement names a message it repeats the author, channel and day of; summed per
    (actor, target, channel, day, kind) the message-level rows are the daily rows, organic and
    under each attack."""
    comm = model.build_community(SIZE, 1)
    assert not check._consistent(comm.post_rows, comm.post_authors, comm.bots)
    assert check._same_edges(comm.post_rows.edges(), comm.edges)
    assert check._same_posts(comm.post_authors.posts(), comm.posts)
    for name, attack in runner.ATTACKS.items():
        result = attack(comm, 2, runner.attack_rng(SIZE, 1, name, 2))
        rows, messages = model.combine_posts(comm, result)
        data = runner.combine(comm, result)
        assert not check._consistent(rows, messages, comm.bots), name
        assert check._same_edges(rows.edges(), data.edges), name
        assert check._same_posts(messages.posts(), data.posts), name
        assert result.beneficiary in result.manipulators, name
        assert not result.manipulators & comm.genuine, name
        assert set(np.unique(data.edges.kind).tolist()) <= {
            KINDS.index(k) for k in ("reply", "reaction", "thread_reply", "mention")
        }


def test_most_messages_draw_little_and_a_few_draw_a_crowd() -> None:
    """Engagement per message is heavy-tailed, as on a real server."""
    comm = model.build_community(SIZE, 2)
    rows = comm.post_rows
    engaged = rows.target == rows.author  # a mention names someone else than the message's author
    pairs = np.unique(np.stack([rows.post[engaged], rows.actor[engaged]], axis=1), axis=0)
    _, drawn = np.unique(pairs[:, 0], return_counts=True)
    per_message = np.zeros(len(comm.post_authors))
    per_message[: len(drawn)] = np.sort(drawn)[::-1]
    assert np.mean(per_message <= 2) >= 0.7
    assert per_message.max() >= 20
    assert 5 <= len(comm.genuine) <= SIZE // 4


def test_evaluate_ranks_the_organic_server_then_every_attack() -> None:
    outcomes = runner.evaluate(SIZE, 1)
    assert len(outcomes) == 1 + 3 * len(runner.ATTACKS)
    assert outcomes[0].attack is None and outcomes[0].p10 >= 0.5
    for o in outcomes:
        assert o.best is None or 1 <= o.best <= trust_metrics.LIMIT
