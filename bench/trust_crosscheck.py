"""A second community model, built apart from the simulator, to check the trust ranking in general.

`python -m bench.trust_quality` measures the ranking on the simulator's communities, whose attacks
the defences were chosen against. This model is built differently, so that a defence tuned to the
simulator's shapes rather than to the patterns themselves shows up here:

- Members have a posting rate (heavy-tailed: a few post many times a day), an appeal (what a post of
  theirs draws on average), an engagement rate and a circle of friends who engage their posts far
  more than others do (genuine close groups, which must not look like pods). Experts (one in forty)
  are members whose posts draw four times as much, around most days, posting at least every other.
- Every post draws a Poisson number of engagements (replies, reactions, messages in threads) in
  proportion to its author's appeal; engagers come from the author's friends or, weighted by
  engagement rate, from the members who follow the post's channel. Authors answer some replies.
- Manipulations the simulator does not have, each in its own shape: a click farm (aged, always
  active accounts serving a few customers under a spread of camouflage engagement), a brigade
  (accounts that joined days ago, old accounts among them), a slow ring (aged members trading a
  third of their engagement, the rest spread like anyone's), dormant accounts that wake up one by one
  over a week around one member, a sockpuppet owner whose accounts post and engage like members, and
  a cross-channel spammer.

The genuine voices are defined as in `bench.trust_quality` (`genuine_voices`' rule): the experts,
and every member who is no manipulator and whom at least as many distinct genuine members engage
as the median expert. Printed: per size, P@10 and manipulators in the top 20, next to message count
and a plain TrustRank; per attack, the best rank any of its manipulators reached.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench.trust_quality import TARGET_P10, TOP, plain_ranking, voices_by_rule
from bot import trust

#: Kind codes of `trust.KINDS`.
REPLY, REACTION, THREAD_REPLY = (trust.KINDS.index(k) for k in ("reply", "reaction", "thread_reply"))
TODAY = 20_000  # the last simulated day (days since 1970-01-01)
ATTACKS = ("click farm", "brigade", "slow ring", "staggered wake-up", "sockpuppets", "cross-channel spam")


@dataclass(frozen=True)
class Community:
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    experts: frozenset[int]
    attack: dict[int, str]  # manipulator -> its attack
    organic: Community | None = None  # the same community before any attack


@dataclass
class _Rows:
    """Engagement and posts as they are generated, one row per event."""

    actor: list[np.ndarray]
    target: list[np.ndarray]
    channel: list[np.ndarray]
    day: list[np.ndarray]
    kind: list[np.ndarray]
    p_member: list[np.ndarray]
    p_channel: list[np.ndarray]
    p_day: list[np.ndarray]

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [], [], [], [], [])

    def engage(
        self, actor: np.ndarray, target: np.ndarray, channel: np.ndarray, day: np.ndarray, kind: np.ndarray
    ) -> None:
        keep = actor != target
        for col, v in zip(
            (self.actor, self.target, self.channel, self.day, self.kind),
            (actor, target, channel, day, kind),
            strict=True,
        ):
            col.append(np.asarray(v, np.int64)[keep])
        said = keep & (kind != REACTION)  # replies and messages in threads are posts too
        self.post(actor[said], channel[said], day[said])

    def post(self, member: np.ndarray, channel: np.ndarray, day: np.ndarray) -> None:
        self.p_member.append(np.asarray(member, np.int64))
        self.p_channel.append(np.asarray(channel, np.int64))
        self.p_day.append(np.asarray(day, np.int64))


def _kinds(rng: np.random.Generator, n: int, reply: float = 0.35, thread: float = 0.1) -> np.ndarray:
    u = rng.random(n)
    return np.where(u < reply, REPLY, np.where(u < reply + thread, THREAD_REPLY, REACTION)).astype(np.int64)


def _pick(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    """`n` indices drawn with the weights whose cumulative sum is `cum`."""
    return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)


def simulate(members: int, days: int, seed: int, strength: float) -> Community:
    rng = np.random.default_rng(seed)
    s = strength
    scale = (members / 200) ** 0.5  # attacks grow with the community, more slowly than it
    sizes = {  # the accounts each attack adds to the community
        "click farm": round((6 + 10 * s) * scale),
        "brigade": round((10 + 20 * s) * scale),
        "staggered wake-up": round((8 + 10 * s) * scale),
        "sockpuppets": round((5 + 8 * s) * scale),
        "cross-channel spam": 1,
    }
    n = members
    total = n + sum(sizes.values())
    ids = np.arange(1, total + 1, dtype=np.int64) * 7919 + 10_000_000
    first_day = TODAY - days + 1
    rate = np.minimum(rng.lognormal(-1.6, 1.3, total), 12.0)  # posts per active day
    present = rng.beta(2.0, 2.0, total)  # the share of days a member is around
    appeal = rng.lognormal(0.0, 0.5, total)
    engaging = rng.lognormal(0.0, 0.9, total)
    engaging[n:] = 0.0  # added accounts engage only as their attack says
    n_channels = max(3, n // 60)
    channels = np.arange(1, n_channels + 1, dtype=np.int64) * 101 + 5_000_000
    home = rng.integers(0, n_channels, total)  # each member's main channel (and a second, less)
    second = rng.integers(0, n_channels, total)
    experts = rng.choice(np.flatnonzero(rate[:n] >= np.median(rate[:n])), max(3, n // 40), replace=False)
    appeal[experts] *= 4.0  # an expert's posts draw four times as much, and experts are around
    present[experts] = np.maximum(present[experts], 0.7)
    rate[experts] = np.maximum(rate[experts], 0.5)
    # Friends: members placed on a ring, each befriending a few of the nearest.
    friends = [(np.arange(i - 4, i + 5) % n)[rng.random(9) < 0.45] for i in range(n)]
    friends = [f[f != i] for i, f in enumerate(friends)]
    joined = TODAY - rng.uniform(0, 720, total)
    late = rng.random(n) < 0.12
    joined[:n][late] = rng.uniform(first_day, TODAY, int(late.sum()))
    created = joined - rng.uniform(0, 1500, total)
    rows = _Rows.empty()
    attack: dict[int, str] = {}
    taken = np.zeros(total, bool)
    taken[experts] = True
    taken[n:] = True
    start = n

    def added(name: str) -> np.ndarray:
        nonlocal start
        out = np.arange(start, start + sizes[name])
        start += sizes[name]
        return out

    def choose(k: int, among: np.ndarray) -> np.ndarray:
        pool = among[~taken[among]]
        out = rng.choice(pool, min(k, len(pool)), replace=False)
        taken[out] = True
        return out

    def label(who: np.ndarray, name: str) -> None:
        attack.update(dict.fromkeys(ids[who].tolist(), name))

    # --- organic posting and engagement, day by day
    follows = np.zeros((n_channels, total))
    follows[home, np.arange(total)] += 1.0
    follows[second, np.arange(total)] += 0.4
    follow_cum = np.cumsum(follows * engaging, axis=1)
    for day in range(first_day, TODAY + 1):
        here = (rng.random(total) < present) & (joined <= day)
        here[n:] = False
        count = rng.poisson(rate * here)
        author = np.repeat(np.arange(total), count)
        if len(author) == 0:
            continue
        channel = np.where(rng.random(len(author)) < 0.75, home[author], second[author])
        rows.post(ids[author], channels[channel], np.full(len(author), day))
        draws = rng.poisson(1.2 * appeal[author])
        post = np.repeat(np.arange(len(author)), draws)
        target = author[post]
        by_friend = rng.random(len(post)) < 0.35
        actor = np.empty(len(post), np.int64)
        for c in np.unique(channel[post[~by_friend]]):
            at = np.flatnonzero(~by_friend & (channel[post] == c))
            actor[at] = _pick(rng, follow_cum[c], len(at))
        for i in np.flatnonzero(by_friend):
            f = friends[target[i]]
            actor[i] = f[rng.integers(len(f))] if len(f) else _pick(rng, follow_cum[channel[post[i]]], 1)[0]
        ok = (joined[actor] <= day) & (actor != target)
        actor, target, post = actor[ok], target[ok], post[ok]
        kind = _kinds(rng, len(post))
        c = channels[channel[post]]
        rows.engage(ids[actor], ids[target], c, np.full(len(post), day), kind)
        back = (kind == REPLY) & (rng.random(len(post)) < 0.3)  # authors answer some replies
        rows.engage(
            ids[target[back]],
            ids[actor[back]],
            c[back],
            np.full(int(back.sum()), day),
            np.full(int(back.sum()), REPLY),
        )

    organic = Community(*_assemble(rows, ids, joined, created, experts), attack={})
    # Who an attack serves: a member who posts, but whom too few members engage to be a voice (at
    # most half as many distinct members as engage the median expert).
    engaged = distinct_engagers(organic.edges)
    peers = np.array([engaged.get(m, 0) for m in ids.tolist()])
    bar = float(np.median(peers[experts]))
    served = np.flatnonzero((rate[:n] > np.quantile(rate[:n], 0.4)) & (peers[:n] <= 0.5 * bar) & ~taken[:n])
    all_days = np.arange(first_day, TODAY + 1)

    def their_posts(m: int, k: int) -> np.ndarray:
        """Days of up to `k` engagements with member `m`'s posts (spread over the days they posted)."""
        mine = organic.posts.day[organic.posts.member == ids[m]]
        return rng.choice(mine, k) if len(mine) else rng.choice(all_days, k)

    def camouflage(actor: int, k: int, day_lo: int = first_day) -> None:
        """`k` engagements spread over the community's posts, as a member's would be."""
        pick = rng.integers(0, len(organic.posts.member), k)
        day = np.maximum(organic.posts.day[pick], day_lo)
        rows.engage(
            np.full(k, ids[actor]),
            organic.posts.member[pick],
            organic.posts.channel[pick],
            day,
            _kinds(rng, k),
        )

    def boost(actors: np.ndarray, target: int, per_actor: int, day_lo: int = first_day) -> None:
        for a in actors:
            d = their_posts(target, per_actor)
            d = np.maximum(d, day_lo)
            rows.engage(
                np.full(per_actor, ids[a]),
                np.full(per_actor, ids[target]),
                np.full(per_actor, channels[home[target]]),
                d,
                _kinds(rng, per_actor),
            )

    # Click farm: aged accounts, present every day, each serving a few customers among camouflage.
    farm = added("click farm")
    customers = choose(round(3 * scale), served)
    joined[farm] = TODAY - rng.uniform(200, 700, len(farm))
    created[farm] = joined[farm] - 30
    for a in farm:
        rows.post(
            np.full(days // 3, ids[a]), np.full(days // 3, channels[home[a]]), rng.choice(all_days, days // 3)
        )
        for cst in customers:
            boost(np.array([a]), cst, max(2, round(days * 0.4 * s)))
        camouflage(a, round(days * 1.2))
    label(farm, "click farm")
    label(customers, "click farm")
    # Brigade: accounts that joined in the last days (some on old accounts) engage one member.
    brigade = added("brigade")
    brigade_target = choose(1, served)[0]
    joined[brigade] = TODAY - rng.uniform(0, 4, len(brigade))
    created[brigade] = np.where(rng.random(len(brigade)) < 0.5, joined[brigade] - 800, joined[brigade])
    boost(brigade, brigade_target, 3, day_lo=TODAY - 3)
    label(brigade, "brigade")
    label(np.array([brigade_target]), "brigade")
    # Slow ring: aged members trading a third of their engagement, the rest spread like anyone's.
    ring = choose(round((6 + 6 * s) * scale), served)
    joined[ring] = np.minimum(joined[ring], TODAY - 200)
    for a in ring:
        mates = ring[ring != a]
        for b in mates:
            boost(np.array([a]), b, max(1, round(days * 0.08 * (0.5 + s))))
        camouflage(a, round(days * 0.25 * len(mates) * (0.5 + s)))
    label(ring, "slow ring")
    # Staggered wake-up: long-joined silent accounts waking one by one over a week around one member.
    sleepers = added("staggered wake-up")
    woken_target = choose(1, served)[0]
    joined[sleepers] = TODAY - rng.uniform(300, 900, len(sleepers))
    created[sleepers] = joined[sleepers] - 100
    wake = TODAY - rng.integers(0, min(7, days), len(sleepers))
    for a, w in zip(sleepers, wake, strict=True):
        boost(np.array([a]), woken_target, 4, day_lo=int(w))
        camouflage(a, 3, day_lo=int(w))
    label(sleepers, "staggered wake-up")
    label(np.array([woken_target]), "staggered wake-up")
    # Sockpuppets: an ordinary member's aged accounts, posting and engaging like members, half of it
    # on the owner's posts.
    owner = choose(1, served)[0]
    socks = added("sockpuppets")
    joined[socks] = TODAY - rng.uniform(100, 400, len(socks))
    created[socks] = joined[socks] - 10
    for a in socks:
        k = max(2, round(days * 0.5))
        rows.post(np.full(k, ids[a]), np.full(k, channels[home[owner]]), rng.choice(all_days, k))
        boost(np.array([a]), owner, k)
        camouflage(a, k)
    label(socks, "sockpuppets")
    label(np.array([owner]), "sockpuppets")
    # Cross-channel spam: one account posting many times a day in every channel; a few answer.
    spammer = added("cross-channel spam")[0]
    k = round(days * (20 + 30 * s))
    spam_day = rng.choice(all_days, k)
    spam_channel = rng.choice(channels, k)
    rows.post(np.full(k, ids[spammer]), spam_channel, spam_day)
    hit = rng.random(k) < 0.15
    who = _pick(rng, np.cumsum(engaging), int(hit.sum()))
    rows.engage(
        ids[who],
        np.full(len(who), ids[spammer]),
        spam_channel[hit],
        spam_day[hit],
        _kinds(rng, len(who), reply=0.5),
    )
    label(np.array([spammer]), "cross-channel spam")

    edges, posts, facts, expert_ids = _assemble(rows, ids, joined, created, experts)
    return Community(edges, posts, facts, expert_ids, attack, organic=organic)


def _assemble(
    rows: _Rows, ids: np.ndarray, joined: np.ndarray, created: np.ndarray, experts: np.ndarray
) -> tuple[trust.Edges, trust.Posts, trust.MemberFacts, frozenset[int]]:
    cat = np.concatenate
    actor, target, channel, day, kind = (
        cat(c) for c in (rows.actor, rows.target, rows.channel, rows.day, rows.kind)
    )
    key = np.stack([actor, target, channel, day, kind], axis=1)
    uniq, n = np.unique(key, axis=0, return_counts=True)
    edges = trust.Edges(*(uniq[:, i] for i in range(5)), n.astype(np.int64))
    p = np.stack([cat(rows.p_member), cat(rows.p_channel), cat(rows.p_day)], axis=1)
    pu, pn = np.unique(p, axis=0, return_counts=True)
    posts = trust.Posts(pu[:, 0], pu[:, 1], pu[:, 2], pn.astype(np.float64))
    facts = trust.MemberFacts(
        member_id=ids,
        joined_day=np.floor(joined),
        account_created_day=np.floor(created),
        is_bot=np.zeros(len(ids), bool),
    )
    return edges, posts, facts, frozenset(ids[experts].tolist())


def subreddit_view(com: Community) -> Community:
    """The community as a subreddit shows it (`bench.trust_quality.subreddit_view`): no reactions, no
    join dates, accounts' ages kept, every member's records starting on the first day."""
    e = com.edges
    said = e.kind != REACTION
    edges = trust.Edges(e.actor[said], e.target[said], e.channel[said], e.day[said], e.kind[said], e.n[said])
    unknown = np.full(len(com.facts.member_id), np.nan)
    start = float(min(e.day.min(), com.posts.day.min()))
    facts = replace(com.facts, joined_day=unknown, records_from_day=np.full(len(unknown), start))
    organic = None if com.organic is None else subreddit_view(com.organic)
    return replace(com, edges=edges, facts=facts, organic=organic)


def distinct_engagers(edges: trust.Edges, without: Collection[int] = ()) -> dict[int, int]:
    """Member -> how many distinct accounts (none of `without`) engaged them."""
    ok = ~np.isin(edges.actor, np.fromiter(without, np.int64, len(without))) & (edges.actor != edges.target)
    pairs = np.unique(np.stack([edges.target[ok], edges.actor[ok]], axis=1), axis=0)
    who, count = np.unique(pairs[:, 0], return_counts=True)
    return dict(zip(who.tolist(), count.tolist(), strict=True))


def genuine_voices(com: Community) -> frozenset[int]:
    """The benchmark's genuine-voice rule (`bench.trust_quality.voices_by_rule`) on this model's rows."""
    return voices_by_rule(distinct_engagers(com.edges, com.attack), com.experts, com.attack)


@dataclass(frozen=True)
class Run:
    members: int
    days: int
    seed: int
    strength: float
    method: str
    p10: float
    manipulators: int
    best: dict[str, int]
    lifted: int = 0  # Microvoice: manipulators in the top 20 who are not there before the attacks
    channels: int = 0  # Microvoice: channels ranked on their own ...
    channels_leaked: int = 0  # ... of which with a manipulator in their top 20 ...
    channels_lifted: int = 0  # ... who is not there before the attacks


def channel_tops(com: Community, params: trust.TrustParams) -> dict[str, set[int]]:
    """Every channel ranked on its own, as `/voices top` with a channel ranks it: its top 20."""
    scopes = {f"channel:{c}": {c} for c in np.unique(com.posts.channel).tolist()}
    ranked = trust.compute_all(
        com.edges, com.facts, params, today=TODAY, scopes=scopes, limit=TOP, posts=com.posts
    )
    return {scope: {r.member_id for r in listing} for scope, listing in ranked.items()}


def microvoice(com: Community, params: trust.TrustParams) -> list[int]:
    ranked = trust.compute_scope(com.edges, com.facts, params, today=TODAY, limit=200, posts=com.posts)
    return [r.member_id for r in ranked]


def rankings(com: Community, params: trust.TrustParams) -> dict[str, list[int]]:
    said: Counter[int] = Counter()
    for m, k in zip(com.posts.member.tolist(), com.posts.n.tolist(), strict=True):
        said[m] += k
    return {
        "Microvoice": microvoice(com, params),
        "message count": [m for m, _ in said.most_common(200)],
        "plain TrustRank": plain_ranking(TODAY, com.edges, com.facts),
    }


def evaluate(
    members: int, days: int, seed: int, strength: float, params: trust.TrustParams, view: str = "discord"
) -> list[Run]:
    """Every method's ranking of one community (Microvoice first), and Microvoice's channel listings.
    A manipulator counts as lifted by its attack where the ranking of the same community before any
    attack does not hold it in the same top 20."""
    com = simulate(members, days, seed, strength)
    if view == "subreddit":
        com = subreddit_view(com)
    assert com.organic is not None
    voices = genuine_voices(com)
    k = max(1, min(10, len(voices)))
    out = []
    ranked = rankings(com, params)
    for method, top in ranked.items():
        best: dict[str, int] = {}
        for rank, m in enumerate(top, start=1):
            if m in com.attack:
                best.setdefault(com.attack[m], rank)
        out.append(
            Run(
                members,
                days,
                seed,
                strength,
                method,
                p10=sum(m in voices for m in top[:k]) / k,
                manipulators=sum(m in com.attack for m in top[:TOP]),
                best=best,
            )
        )
    before = set(microvoice(com.organic, params)[:TOP])
    listed = {m for m in ranked[METHODS[0]][:TOP] if m in com.attack}
    channels, channels_before = channel_tops(com, params), channel_tops(com.organic, params)
    found = {scope: {m for m in top if m in com.attack} for scope, top in channels.items()}
    out[0] = replace(
        out[0],
        lifted=len(listed - before),
        channels=len(channels),
        channels_leaked=sum(map(bool, found.values())),
        channels_lifted=sum(bool(f - channels_before.get(scope, set())) for scope, f in found.items()),
    )
    return out


#: Community sizes and the look-back lengths their runs cycle through.
SIZES = ((200, (14, 30)), (500, (30,)), (2_000, (30,)), (5_000, (30,)))
STRENGTHS = (0.3, 0.6, 1.0)
METHODS = ("Microvoice", "message count", "plain TrustRank")
FIRST_SEED = 70_001


def runs(
    seeds: int, *, max_members: int | None = None, seed_offset: int = 0
) -> list[tuple[int, int, int, float]]:
    """(members, days, seed, strength) of every run: `seeds` per size, cycling through the look-back
    lengths and the attack strengths."""
    out = []
    for members, lengths in SIZES:
        if max_members is not None and members > max_members:
            continue
        for k in range(seeds):
            seed = FIRST_SEED + members + k + seed_offset
            out.append((members, lengths[k % len(lengths)], seed, STRENGTHS[k % len(STRENGTHS)]))
    return out


def table(results: Sequence[Run]) -> list[str]:
    lines = [
        f"  {'members':>7}  {'method':<16} {'runs':>5} {'PASS':>5} {'min P@10':>9} {'mean P@10':>10}"
        f" {'runs with manip@20':>19}"
    ]
    for members, _ in SIZES:
        for method in METHODS:
            rs = [r for r in results if r.members == members and r.method == method]
            if not rs:
                continue
            p = np.array([r.p10 for r in rs])
            passed = sum(r.p10 >= TARGET_P10 and r.manipulators == 0 for r in rs)
            leaks = sum(r.manipulators > 0 for r in rs)
            lines.append(
                f"  {members:>7,}  {method:<16} {len(rs):>5} {passed:>5} {p.min():>9.2f}"
                f" {p.mean():>10.2f} {leaks:>19}"
            )
    return lines


def attack_table(results: Sequence[Run]) -> list[str]:
    """Per attack and method: the best rank any of its manipulators reached, and in how many runs one
    was in the top 20."""
    lines = ["  best rank reached by  " + "".join(f"{m:>24}" for m in METHODS)]
    for name in ATTACKS:
        cells = []
        for method in METHODS:
            ranks = [r.best.get(name, 10**6) for r in results if r.method == method]
            best = min(ranks, default=10**6)
            shown = str(best) if best <= 200 else ">200"
            cells.append(f"{shown:>6} ({sum(x <= TOP for x in ranks)}/{len(ranks)} in top 20)")
        lines.append(f"  {name:<20}" + "".join(f"{c:>24}" for c in cells))
    return lines


def lifted_table(results: Sequence[Run]) -> list[str]:
    """Per size, Microvoice's whole-community and channel listings: those with a manipulator in the
    top 20, and of them those where the attack lifted it there (the same community before any attack
    does not hold it in that top 20)."""
    lines = [
        f"  {'members':>7}  {'manip@20':>8} {'lifted':>6}  {'channels':>8}"
        f" {'with manip@20':>13} {'lifted':>6}"
    ]
    for members, _ in SIZES:
        rs = [r for r in results if r.members == members and r.method == METHODS[0]]
        if rs:
            lines.append(
                f"  {members:>7,}  {sum(r.manipulators for r in rs):>8} {sum(r.lifted for r in rs):>6}"
                f"  {sum(r.channels for r in rs):>8} {sum(r.channels_leaked for r in rs):>13}"
                f" {sum(r.channels_lifted for r in rs):>6}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description="The trust ranking on a second, independently built community model."
    )
    ap.add_argument("--seeds", type=int, default=20, help="random seeds per community size")
    ap.add_argument("--max-members", type=int, default=None, help="only communities up to this size")
    ap.add_argument("--seed-offset", type=int, default=0, help="add N to every community's random seed")
    ap.add_argument("--subreddit", action="store_true", help="every community as a subreddit shows it")
    args = ap.parse_args(argv)
    params = trust.TrustParams()
    view = "subreddit" if args.subreddit else "discord"
    started = time.perf_counter()
    results: list[Run] = []
    for members, days, seed, strength in runs(
        args.seeds, max_members=args.max_members, seed_offset=args.seed_offset
    ):
        results += evaluate(members, days, seed, strength, params, view)
    shown = "as subreddits show them" if view == "subreddit" else "as Discord servers record them"
    print(
        f"\nCross-check on a second community model (bench/trust_crosscheck.py), {shown}:"
        f" {len(results) // len(METHODS)} communities, targets P@10 >= {TARGET_P10} and no manipulator"
        " in the top 20"
    )
    print("\n".join(table(results)))
    print()
    print("\n".join(attack_table(results)))
    print(
        "\n  Microvoice's listings (whole community: manipulators in the top 20; channels: listings with one)"
    )
    print("\n".join(lifted_table(results)))
    print(f"  (took {time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
