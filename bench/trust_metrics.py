"""What the community models' runners share (`bench.trust_fourth`, `bench.trust_fifth`,
`bench.trust_sixth`): a community as the ranking sees it, one outcome of Microvoice on it, the measures
of a listing, the message-count and plain PageRank baselines ranked beside it, and the red-team run
that ranks a model's organic and attacked communities and prints the tables (`red_team`)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from bot import trust

#: How deep each ranking is read (a manipulator beyond it counts as not listed).
LIMIT = 200
METHODS = ("microvoice", "messages", "pagerank")


@dataclass(frozen=True)
class Data:
    """One community as the ranking sees it."""

    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts


@dataclass(frozen=True)
class Outcome:
    """Microvoice on one community: organic (`attack` None) or under one attack at one strength."""

    attack: str | None
    strength: int
    p10: float
    best: int | None  # the best rank any manipulator reached (None: not listed)


def _summed(cols: list[np.ndarray], n: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows with equal integer keys (`cols`) as one, in key order, counts `n` summed. Each column is coded so
    that its order is kept, by its offset from its least value, or by the rank of its value for the
    widest columns until the codes fit one integer together; one sort of that packed integer then finds
    the distinct keys (several times faster than sorting rows). Keys too wide even so are sorted as
    rows."""
    lows = [int(c.min()) if len(c) else 0 for c in cols]
    codes = [(c - lo).astype(np.int64) for c, lo in zip(cols, lows, strict=True)]
    bounds = [int(code.max()) + 1 if len(code) else 1 for code in codes]
    ranked: set[int] = set()
    while math.prod(bounds) >= 2**62 and len(ranked) < len(cols):
        widest = max((i for i in range(len(cols)) if i not in ranked), key=lambda i: bounds[i])
        values, code = np.unique(cols[widest], return_inverse=True)
        codes[widest], bounds[widest] = code.ravel().astype(np.int64), max(1, len(values))
        ranked.add(widest)
    if math.prod(bounds) < 2**62:
        key = np.zeros(len(n), np.int64)
        for code, bound in zip(codes, bounds, strict=True):
            key = key * bound + code
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
        keys = [col[first] for col in cols]
    else:
        rows, inv = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
        keys = [rows[:, i] for i in range(len(cols))]
    total = np.zeros(len(keys[0]))
    np.add.at(total, inv.ravel(), n)
    return keys, total


def aggregate_edges(parts: Sequence[trust.Edges]) -> trust.Edges:
    """Rows of several sources as one, counts summed per (actor, target, channel, day, kind), in that
    order."""
    cols = [
        np.concatenate([getattr(p, c) for p in parts]) for c in ("actor", "target", "channel", "day", "kind")
    ]
    keys, total = _summed(cols, np.concatenate([p.n for p in parts]))
    return trust.Edges(*keys, total)


def aggregate_posts(parts: Sequence[trust.Posts]) -> trust.Posts:
    """Posts of several sources as one, counts summed per (member, channel, day), in that order."""
    cols = [np.concatenate([getattr(p, c) for p in parts]) for c in ("member", "channel", "day")]
    keys, total = _summed(cols, np.concatenate([p.n for p in parts]))
    return trust.Posts(*keys, total)


def facts_from(
    edges: trust.Edges,
    posts: trust.Posts,
    known: Mapping[int, tuple[float, float, float]],
    bots: frozenset[int],
) -> trust.MemberFacts:
    """MemberFacts for everyone in the rows, as a Discord server's store holds them: join, creation and
    leave days from `known` (NaN for whom it does not hold), first seen at their first message or
    engagement given (a member only ever engaged is first seen NaN), `bots` marked."""
    ids = np.unique(np.concatenate([posts.member, edges.actor, edges.target]))
    first = np.full(len(ids), np.inf)
    for who, day in ((posts.member, posts.day), (edges.actor, edges.day)):
        np.minimum.at(first, np.searchsorted(ids, who), day.astype(np.float64))
    first[np.isinf(first)] = np.nan
    nan3 = (math.nan, math.nan, math.nan)
    table = np.array([known.get(int(m), nan3) for m in ids], dtype=np.float64).reshape(-1, 3)
    return trust.MemberFacts(
        member_id=ids,
        joined_day=table[:, 0],
        account_created_day=table[:, 1],
        is_bot=np.isin(ids, np.array(sorted(bots), np.int64)),
        first_seen_day=first,
        left_day=table[:, 2],
    )


def server_data(comm: Any, attack: Any, bots: frozenset[int]) -> Data:
    """What the ranking sees of a Discord server model's community (`edges`, `posts`, `facts`, and
    `known_facts()`: each organic account's join, creation and leave days) with an attack's rows and
    the facts of the accounts it adds, if any: rows summed per key, every member's facts as the store
    would hold them (`facts_from`)."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    edges = aggregate_edges([comm.edges, attack.edges])
    posts = aggregate_posts([comm.posts, attack.posts])
    known = comm.known_facts()
    f = attack.facts
    for m, j, c, left in zip(f.member_id, f.joined_day, f.account_created_day, f.left_day, strict=True):
        known[int(m)] = (float(j), float(c), float(left))
    return Data(edges, posts, facts_from(edges, posts, known, bots))


def pagerank_order(
    actor: np.ndarray,
    target: np.ndarray,
    n: np.ndarray,
    limit: int,
    damping: float = 0.85,
    tol: float = 1e-10,
) -> list[int]:
    """Plain PageRank over engagement counts (`n` per actor -> target row), uniform teleport,
    dangling mass spread; the best `limit` members, ties by id."""
    nodes, inv = np.unique(np.concatenate([actor, target]), return_inverse=True)
    inv = inv.ravel()
    n_nodes = len(nodes)
    src, dst = inv[: len(actor)], inv[len(actor) :]
    w = sparse.csr_matrix((n, (src, dst)), shape=(n_nodes, n_nodes))
    out = np.asarray(w.sum(axis=1)).ravel()
    dangling = out == 0
    scale = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out))
    transition = sparse.diags(scale) @ w
    rank = np.full(n_nodes, 1.0 / n_nodes)
    for _ in range(200):
        new = damping * (transition.T @ rank) + (damping * rank[dangling].sum() + 1 - damping) / n_nodes
        if np.abs(new - rank).sum() < tol:
            rank = new
            break
        rank = new
    order = np.lexsort((nodes, -rank))
    return [int(m) for m in nodes[order][:limit]]


def precision_at_10(order: Sequence[int], genuine: frozenset[int]) -> float:
    """The share of the first k places that genuine voices hold, k being ten or, where the community
    has fewer genuine voices, as many as it has (the issue's definition; the simulator's and the
    third model's too). A listing shorter than k counts its empty places as misses: a short listing
    of voices only leaves out the other voices."""
    k = max(1, min(10, len(genuine)))
    return sum(m in genuine for m in order[:k]) / k


def best_rank(order: Sequence[int], members: frozenset[int]) -> int | None:
    """The best place any of `members` holds (1-based; None: none listed)."""
    for i, m in enumerate(order):
        if m in members:
            return i + 1
    return None


def rank_microvoice(
    data: Data, today: int, params: trust.TrustParams | None = None
) -> tuple[list[int], dict[int, trust.Ranked]]:
    """Microvoice's whole-community listing (default parameters unless `params`)."""
    chosen = params or trust.TrustParams()
    ranked = trust.compute_scope(data.edges, data.facts, chosen, today=today, limit=LIMIT, posts=data.posts)
    return [r.member_id for r in ranked], {r.member_id: r for r in ranked}


def without(data: Data, members: Collection[int]) -> Data:
    """`data` with every engagement to or from `members` and every post of theirs left out."""
    gone = np.asarray(sorted(members), np.int64)
    e, p = data.edges, data.posts
    keep = ~(np.isin(e.actor, gone) | np.isin(e.target, gone))
    edges = trust.Edges(e.actor[keep], e.target[keep], e.channel[keep], e.day[keep], e.kind[keep], e.n[keep])
    said = ~np.isin(p.member, gone)
    posts = trust.Posts(p.member[said], p.channel[said], p.day[said], p.n[said])
    return Data(edges, posts, data.facts)


def rank_alone(data: Data, today: int, member: int, manipulators: Collection[int]) -> int | None:
    """Where Microvoice places `member` once the other manipulators and all their engagement are
    gone: what the member's own posts draw from genuine members alone (None: not in the top
    `LIMIT`). A manipulator still in the top 20 then is listed for engagement the community really
    gave, which no test of the accounts acting for them can take away."""
    order, _ = rank_microvoice(without(data, set(manipulators) - {member}), today)
    return best_rank(order, frozenset({member}))


def rank_messages(data: Data) -> list[int]:
    """Most posts first, ties by id; accounts the facts mark as bots left out, as any ranking would
    that knows which account is machinery."""
    members, inv = np.unique(data.posts.member, return_inverse=True)
    totals = np.zeros(len(members))
    np.add.at(totals, inv.ravel(), data.posts.n)
    keep = ~np.isin(members, _bots(data))
    members, totals = members[keep], totals[keep]
    order = np.lexsort((members, -totals))
    return [int(m) for m in members[order][:LIMIT]]


def rank_pagerank(data: Data) -> list[int]:
    """Plain PageRank over engagement counts (all kinds alike), uniform teleport, dangling mass
    spread; bots left out."""
    e, bots = data.edges, _bots(data)
    keep = ~(np.isin(e.actor, bots) | np.isin(e.target, bots))
    return pagerank_order(e.actor[keep], e.target[keep], e.n[keep], LIMIT)


def _bots(data: Data) -> np.ndarray:
    return data.facts.member_id[data.facts.is_bot]


def rank_all(data: Data, today: int) -> Run:
    """Every method's listing of one community, and Microvoice's entries."""
    mv, ranked = rank_microvoice(data, today)
    return Run({"microvoice": mv, "messages": rank_messages(data), "pagerank": rank_pagerank(data)}, ranked)


@dataclass
class Run:
    """The rankings of one community (organic or attacked), by method."""

    orders: dict[str, list[int]]
    ranked: dict[int, trust.Ranked]


@dataclass
class Cell:
    """One attack x strength x size over the seeds."""

    best: dict[str, list[int | None]] = field(default_factory=lambda: {m: [] for m in METHODS})
    p10: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})


def fmt_rank(r: int | None) -> str:
    return "-" if r is None else str(r)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def command_line(
    prog: str, doc: str | None, attacks: Collection[str], sizes: list[int], argv: list[str] | None
) -> tuple[argparse.ArgumentParser, Callable[[], argparse.Namespace]]:
    """A model's command line: `--sizes`, `--seeds`, `--attacks`, `--strengths`, `--why`. Returns the
    parser (to add to) and a function that parses `argv` and checks the attacks and strengths, with
    the attacks chosen as the list `attack_names`."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--sizes", type=_ints, default=sizes)
    parser.add_argument("--seeds", type=_ints, default=[1, 2])
    parser.add_argument(
        "--attacks", default="all", help="all, or a comma-separated list of " + ", ".join(attacks)
    )
    parser.add_argument("--strengths", type=_ints, default=[1, 2, 3])
    parser.add_argument("--why", action="store_true", help="explain manipulators in Microvoice's top 20")

    def parse() -> argparse.Namespace:
        args = parser.parse_args(argv)
        chosen = args.attacks.split(",") if args.attacks != "all" else list(attacks)
        args.attack_names = [a.strip() for a in chosen if a.strip()]
        unknown = [a for a in args.attack_names if a not in attacks]
        if unknown:
            parser.error(f"unknown attacks: {', '.join(unknown)}")
        if any(s not in (1, 2, 3) for s in args.strengths):
            parser.error("strengths are 1, 2 or 3")
        return args

    return parser, parse


def attack_streams(attacks: Collection[str], tag: int) -> Callable[[int, int, str, int], np.random.Generator]:
    """A model's `attack_rng`: each attack's own random stream for (size, seed, attack, strength), so a
    run's numbers do not depend on which other attacks run beside it; `tag` keeps the models' streams
    apart."""
    names = list(attacks)

    def attack_rng(size: int, seed: int, name: str, strength: int) -> np.random.Generator:
        return np.random.default_rng([seed, size, names.index(name), strength, tag])

    return attack_rng


@dataclass(frozen=True)
class Model:
    """What `red_team` needs of a community model. `build(size, seed)` returns its organic community
    (with `genuine`, `today`); `combine(community, attack or None)` what the ranking sees; `attacks`
    each attack by name, called as `attack(community, strength, rng)` and returning a result with
    `manipulators` and `beneficiary`; `attack_rng(size, seed, name, strength)` the attack's own random
    stream; `describe(community, organic run)` the organic community in one line."""

    kind: str  # what its communities are called in the output ("subreddits", "servers")
    build: Callable[[int, int], Any]
    combine: Callable[[Any, Any], Data]
    attacks: Mapping[str, Callable[[Any, int, np.random.Generator], Any]]
    attack_rng: Callable[[int, int, str, int], np.random.Generator]
    describe: Callable[[Any, Run], str]


def outcomes(model: Model, size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """The organic community of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`), drawn as `red_team` draws them: what a sweep measures."""
    comm = model.build(size, seed)
    order, _ = rank_microvoice(model.combine(comm, None), comm.today, params)
    out = [Outcome(None, 0, precision_at_10(order, comm.genuine), None)]
    for name, attack in model.attacks.items():
        for strength in (1, 2, 3):
            result = attack(comm, strength, model.attack_rng(size, seed, name, strength))
            order, _ = rank_microvoice(model.combine(comm, result), comm.today, params)
            best = best_rank(order, result.manipulators)
            out.append(Outcome(name, strength, precision_at_10(order, comm.genuine), best))
    return out


def why_line(
    attack: str,
    strength: int,
    size: int,
    seed: int,
    result: Any,
    organic: Run,
    place: int,
    r: trust.Ranked,
    alone: int | None = None,
) -> str:
    """One manipulator in Microvoice's top 20: who, where (before the attack, and `alone`: without
    the other manipulators, `rank_alone`), and why."""
    w = r.why or {}
    who = "beneficiary" if r.member_id == result.beneficiary else "helper"
    before = best_rank(organic.orders["microvoice"], frozenset({r.member_id}))
    coordinated, appeal = w.get("coordinated"), w.get("appeal")
    coord = f"{coordinated:.3f}" if isinstance(coordinated, float) else str(coordinated)
    app = f"{appeal:.3f}" if isinstance(appeal, float) else str(appeal)
    return (
        f"{attack:18s} s={strength} N={size:<5d} seed={seed} {r.member_id} {who:11s} "
        f"rank={place:<3d} organic_rank={fmt_rank(before):>3s} alone={fmt_rank(alone):>3s} "
        f"peers={r.distinct_peers:<4d} trusted={r.trusted_peers:<4d} coordinated={coord} "
        f"reason={w.get('coordinated_reason')} appeal={app}\n      why={w}"
    )


def red_team_command(
    model: Model, prog: str, doc: str | None, sizes: list[int], argv: list[str] | None
) -> None:
    """A model's `python -m` entry: parse `command_line` (default `sizes`) and run `red_team`."""
    _, parse = command_line(prog, doc, model.attacks, sizes, argv)
    args = parse()
    red_team(model, args.sizes, args.seeds, args.attack_names, args.strengths, why=args.why)


def red_team(
    model: Model,
    sizes: Sequence[int],
    seeds: Sequence[int],
    attacks: Sequence[str],
    strengths: Sequence[int],
    why: bool = False,
    out: Callable[[str], None] = print,
) -> None:
    """Rank every organic community of `sizes` x `seeds` and each attack at each strength added to it,
    by every method, and print (a) organic P@10, (b) per attack, strength and size the best rank any
    manipulator reached per seed, the runs with one in the top 20 / top 10 and the mean P@10, and
    with `why` (c) every manipulator in Microvoice's top 20 with its explanation and where it stands
    without the other manipulators (`rank_alone`)."""
    started = time.perf_counter()
    organic: dict[int, dict[str, list[float]]] = {s: {m: [] for m in METHODS} for s in sizes}
    described: list[str] = []
    cells: dict[tuple[str, int, int], Cell] = {}
    why_lines: list[str] = []
    for size in sizes:
        for seed in seeds:
            comm = model.build(size, seed)
            base = rank_all(model.combine(comm, None), comm.today)
            for m in METHODS:
                organic[size][m].append(precision_at_10(base.orders[m], comm.genuine))
            described.append(f"  N={size} seed={seed}: {model.describe(comm, base)}")
            for name in attacks:
                for strength in strengths:
                    result = model.attacks[name](comm, strength, model.attack_rng(size, seed, name, strength))
                    data = model.combine(comm, result)
                    attacked = rank_all(data, comm.today)
                    cell = cells.setdefault((name, strength, size), Cell())
                    for m in METHODS:
                        cell.best[m].append(best_rank(attacked.orders[m], result.manipulators))
                        cell.p10[m].append(precision_at_10(attacked.orders[m], comm.genuine))
                    if why:
                        why_lines += [
                            why_line(
                                name,
                                strength,
                                size,
                                seed,
                                result,
                                base,
                                place,
                                attacked.ranked[mid],
                                rank_alone(data, comm.today, mid, result.manipulators),
                            )
                            for place, mid in enumerate(attacked.orders["microvoice"][:20], start=1)
                            if mid in result.manipulators
                        ]
    out(f"Organic {model.kind}")
    for line in described:
        out(line)
    out("")
    out("(a) Organic P@10 (mean over seeds)")
    out(f"  {'N':>6s} " + " ".join(f"{m:>11s}" for m in METHODS))
    for size in sizes:
        out(f"  {size:>6d} " + " ".join(f"{np.mean(organic[size][m]):>11.2f}" for m in METHODS))
    out("")
    out(
        "(b) Attacks: best manipulator rank per seed (MV / MC / PR; '-' = not in top 200), "
        f"runs with a manipulator in top 20 / top 10 (of {len(seeds)}), mean P@10"
    )
    out(
        f"  {'attack':18s} {'s':>1s} {'N':>5s}  {'best MV':>9s} {'best MC':>9s} {'best PR':>9s}"
        f"  {'MV t20/t10':>10s} {'MC t20/t10':>10s} {'PR t20/t10':>10s}"
        f"  {'P@10 MV':>7s} {'MC':>5s} {'PR':>5s}"
    )
    for name in attacks:
        for strength in strengths:
            for size in sizes:
                cell = cells[(name, strength, size)]
                bests = [",".join(fmt_rank(r) for r in cell.best[m]) for m in METHODS]
                tops = [
                    f"{sum(1 for r in cell.best[m] if r is not None and r <= 20)}/"
                    f"{sum(1 for r in cell.best[m] if r is not None and r <= 10)}"
                    for m in METHODS
                ]
                p10 = [np.mean(cell.p10[m]) for m in METHODS]
                listed = any(r is not None and r <= 20 for r in cell.best["microvoice"])
                out(
                    f"  {name:18s} {strength:>1d} {size:>5d}  {bests[0]:>9s} {bests[1]:>9s} {bests[2]:>9s}"
                    f"  {tops[0]:>10s} {tops[1]:>10s} {tops[2]:>10s}"
                    f"  {p10[0]:>7.2f} {p10[1]:>5.2f} {p10[2]:>5.2f}" + ("  <- MV top 20" if listed else "")
                )
    if why:
        out("")
        out("(c) Manipulators in Microvoice's top 20")
        for line in why_lines or ["(none)"]:
            out("  " + line)
    out("")
    out(f"elapsed {time.perf_counter() - started:.1f}s")
    sys.stdout.flush()
