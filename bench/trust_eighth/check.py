"""Sanity check of the post-level records: `python -m bench.trust_eighth.check [size] [seed]`.

For the organic server and every attack at every strength: the post-level rows summed per (actor,
target, channel, day, kind) are exactly the daily edges (organic, the attack's, and the combined rows
the ranking sees), the messages counted per (member, channel, day) are exactly the posts, message ids
are unique, every engagement names a known message whose author, channel and day it repeats, no row
is self-engagement or targets a bot, no engagement precedes its message, and each (post, target,
actor, kind, day) has one row."""

from __future__ import annotations

import sys

import numpy as np

from bench.trust_eighth.attacks import ATTACKS
from bench.trust_eighth.model import Messages, PostRows, build_community, combine_posts
from bench.trust_eighth.runner import attack_rng, combine
from bot import trust


def _same_edges(a: trust.Edges, b: trust.Edges) -> bool:
    cols = ("actor", "target", "channel", "day", "kind")
    if len(a) != len(b):
        return False
    return all(np.array_equal(getattr(a, c), getattr(b, c)) for c in cols) and np.allclose(a.n, b.n)


def _same_posts(a: trust.Posts, b: trust.Posts) -> bool:
    if len(a) != len(b):
        return False
    return all(
        np.array_equal(getattr(a, c), getattr(b, c)) for c in ("member", "channel", "day")
    ) and np.allclose(a.n, b.n)


def _consistent(rows: PostRows, msgs: Messages, bots: frozenset[int]) -> list[str]:
    bad = []
    if len(np.unique(msgs.id)) != len(msgs):
        bad.append("message ids not unique")
    order = np.argsort(msgs.id)
    pos = np.searchsorted(msgs.id, rows.post, sorter=order)
    pos = order[np.minimum(pos, len(msgs) - 1)]
    if not np.array_equal(msgs.id[pos], rows.post):
        bad.append("engagement names an unknown message")
    elif not (
        np.array_equal(msgs.author[pos], rows.author)
        and np.array_equal(msgs.channel[pos], rows.channel)
        and np.array_equal(msgs.day[pos], rows.post_day)
    ):
        bad.append("post attributes differ from the message table")
    if np.any(rows.actor == rows.target):
        bad.append("self-engagement")
    if np.any(np.isin(rows.target, np.array(sorted(bots), np.int64))):
        bad.append("engagement targets a bot")
    if np.any(rows.day < rows.post_day):
        bad.append("engagement before its message")
    if len(rows.summed()) != len(rows):
        bad.append("several rows for one (post, target, actor, kind, day)")
    return bad


def check(size: int, seed: int) -> bool:
    comm = build_community(size, seed)
    ok = True
    problems = _consistent(comm.post_rows, comm.post_authors, comm.bots)
    agree = _same_edges(comm.post_rows.edges(), comm.edges) and _same_posts(
        comm.post_authors.posts(), comm.posts
    )
    print(
        f"organic N={size} seed={seed}: rows {len(comm.post_rows)}, edges {len(comm.edges)}, "
        f"aggregate {'matches' if agree else 'DIFFERS'} {problems or ''}"
    )
    ok &= agree and not problems
    for name, attack in ATTACKS.items():
        for strength in (1, 2, 3):
            result = attack(comm, strength, attack_rng(size, seed, name, strength))
            rows, msgs = combine_posts(comm, result)
            data = combine(comm, result)
            problems = _consistent(rows, msgs, comm.bots)
            own = _same_edges(result.post_rows.edges(), result.edges)
            both = _same_edges(rows.edges(), data.edges) and _same_posts(msgs.posts(), data.posts)
            good = own and both and not problems
            ok &= good
            print(f"  {name:18s} s={strength}: {'ok' if good else 'FAIL'} {problems or ''}")
    return ok


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    sys.exit(0 if check(size, seed) else 1)
