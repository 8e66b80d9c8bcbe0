"""Ranks organic and attacked marketplace servers with Microvoice, message count and plain PageRank.

For every (size, seed) the organic server is ranked once; every attack at every strength is added to
it and ranked again. Reported: precision at 10 against the organic genuine voices, and the best rank
any manipulator reached (only the top 200 count). Message count and PageRank leave the price bot
out, as any ranking would that knows which account is machinery (Discord marks bots). Every member's
facts are what the store would hold: Discord join, account creation and leave days, first seen at
their first message or engagement in the combined records.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from bench.trust_metrics import (
    LIMIT,
    METHODS,
    Cell,
    Data,
    Outcome,
    Run,
    best_rank,
    fmt_rank,
    pagerank_order,
    precision_at_10,
    rank_microvoice,
)
from bench.trust_sixth.attacks import ATTACKS, AttackResult
from bench.trust_sixth.model import ATTACK_BASE, BASE_ID, CHANNEL_BASE, Community, build_community, facts_for
from bot import trust


def _member_code(ids: np.ndarray) -> np.ndarray:
    """Member ids as small codes (organic: index; added accounts: 100000 + their number)."""
    return np.where(ids >= ATTACK_BASE, 100_000 + ids - ATTACK_BASE, ids - BASE_ID)


def _summed(
    codes: list[tuple[np.ndarray, int]], cols: list[np.ndarray], n: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows with equal keys as one, counts summed, on one packed integer key per row (`codes`: each
    key column as small non-negative integers and its bound): what `aggregate_edges` and
    `aggregate_posts` do, several times faster on communities of thousands."""
    key = np.zeros(len(n), np.int64)
    for code, bound in codes:
        key = key * bound + code
    packed, first, inv = np.unique(key, return_index=True, return_inverse=True)
    total = np.zeros(len(packed))
    np.add.at(total, inv.ravel(), n)
    return [col[first] for col in cols], total


def merge_edges(parts: list[trust.Edges], start: int) -> trust.Edges:
    """`aggregate_edges` for this model's ids, channels and days (from `start`)."""
    cols = [
        np.concatenate([getattr(p, c) for p in parts]) for c in ("actor", "target", "channel", "day", "kind")
    ]
    codes = [
        (_member_code(cols[0]), 1 << 18),
        (_member_code(cols[1]), 1 << 18),
        (cols[2] - CHANNEL_BASE, 16),
        (cols[3] - start, 512),
        (cols[4], 8),
    ]
    out, n = _summed(codes, cols, np.concatenate([p.n for p in parts]))
    return trust.Edges(*out, n)


def merge_posts(parts: list[trust.Posts], start: int) -> trust.Posts:
    """`aggregate_posts` for this model's ids, channels and days (from `start`)."""
    cols = [np.concatenate([getattr(p, c) for p in parts]) for c in ("member", "channel", "day")]
    codes = [(_member_code(cols[0]), 1 << 18), (cols[1] - CHANNEL_BASE, 16), (cols[2] - start, 512)]
    out, n = _summed(codes, cols, np.concatenate([p.n for p in parts]))
    return trust.Posts(*out, n)


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The organic rows plus an attack's rows, and every member's facts as the store would hold them."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    edges = merge_edges([comm.edges, attack.edges], comm.start)
    posts = merge_posts([comm.posts, attack.posts], comm.start)
    known = comm.known_facts()
    f = attack.facts
    for m, j, c, left in zip(f.member_id, f.joined_day, f.account_created_day, f.left_day, strict=True):
        known[int(m)] = (float(j), float(c), float(left))
    return Data(edges, posts, facts_for(edges, posts, known, frozenset({BASE_ID + comm.bot})))


def attack_rng(size: int, seed: int, name: str, strength: int) -> np.random.Generator:
    return np.random.default_rng([seed, size, list(ATTACKS).index(name), strength, 66])


def evaluate(size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """The organic server of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`), drawn as `run` draws them."""
    comm = build_community(size, seed)
    order, _ = rank_microvoice(combine(comm, None), comm.today, params)
    out = [Outcome(None, 0, precision_at_10(order, comm.genuine), None)]
    for name in ATTACKS:
        for strength in (1, 2, 3):
            res = ATTACKS[name](comm, strength, attack_rng(size, seed, name, strength))
            order, _ = rank_microvoice(combine(comm, res), comm.today, params)
            out.append(
                Outcome(
                    name, strength, precision_at_10(order, comm.genuine), best_rank(order, res.manipulators)
                )
            )
    return out


def _bots(data: Data) -> np.ndarray:
    return data.facts.member_id[data.facts.is_bot]


def rank_messages(data: Data) -> list[int]:
    """Most messages first, ties by id; the bot left out."""
    members, inv = np.unique(data.posts.member, return_inverse=True)
    totals = np.zeros(len(members))
    np.add.at(totals, inv.ravel(), data.posts.n)
    keep = ~np.isin(members, _bots(data))
    members, totals = members[keep], totals[keep]
    order = np.lexsort((members, -totals))
    return [int(m) for m in members[order][:LIMIT]]


def rank_pagerank(data: Data) -> list[int]:
    """Plain PageRank over engagement counts (all kinds alike), uniform teleport, dangling mass
    spread; the bot left out."""
    e = data.edges
    keep = ~(np.isin(e.actor, _bots(data)) | np.isin(e.target, _bots(data)))
    return pagerank_order(e.actor[keep], e.target[keep], e.n[keep], LIMIT)


def rank_all(data: Data, today: int) -> Run:
    mv, ranked = rank_microvoice(data, today)
    return Run({"microvoice": mv, "messages": rank_messages(data), "pagerank": rank_pagerank(data)}, ranked)


def _why_line(
    name: str, strength: int, comm: Community, res: AttackResult, base: Run, pos: int, r: trust.Ranked
) -> str:
    w = r.why or {}
    who = "beneficiary" if r.member_id == res.beneficiary else "helper"
    org_rank = best_rank(base.orders["microvoice"], frozenset({r.member_id}))
    coordinated = w.get("coordinated")
    coord = f"{coordinated:.3f}" if isinstance(coordinated, float) else str(coordinated)
    appeal = w.get("appeal")
    app = f"{appeal:.3f}" if isinstance(appeal, float) else str(appeal)
    return (
        f"{name:18s} s={strength} N={comm.size:<5d} seed={comm.seed} {r.member_id} {who:11s} "
        f"rank={pos + 1:<3d} organic_rank={fmt_rank(org_rank):>3s} "
        f"peers={r.distinct_peers:<4d} trusted={r.trusted_peers:<4d} coordinated={coord} "
        f"reason={w.get('coordinated_reason')} appeal={app}\n      why={w}"
    )


def run(
    sizes: Sequence[int],
    seeds: Sequence[int],
    attacks: Sequence[str],
    strengths: Sequence[int],
    why: bool = False,
    out: Callable[[str], None] = print,
) -> None:
    """Run everything and print the tables."""
    t0 = time.perf_counter()
    organic: dict[int, dict[str, list[float]]] = {s: {m: [] for m in METHODS} for s in sizes}
    org_info: list[str] = []
    cells: dict[tuple[str, int, int], Cell] = {}
    why_lines: list[str] = []
    for size in sizes:
        for seed in seeds:
            comm = build_community(size, seed)
            base = rank_all(combine(comm, None), comm.today)
            for m in METHODS:
                organic[size][m].append(precision_at_10(base.orders[m], comm.genuine))
            counts = comm.counts
            org_info.append(
                f"  N={size} seed={seed}: history {comm.days} days, "
                f"{len(comm.facts.member_id)} accounts seen, {counts['residents']} residents, "
                f"{len(comm.genuine)} genuine voices ({counts['broad']} broad, {counts['experts']} experts, "
                f"{counts['traders']} traders), {int(comm.posts.n.sum())} messages, "
                f"{int(comm.edges.n.sum())} engagements, Microvoice lists {len(base.orders['microvoice'])}"
            )
            for name in attacks:
                for strength in strengths:
                    res = ATTACKS[name](comm, strength, attack_rng(size, seed, name, strength))
                    attacked = rank_all(combine(comm, res), comm.today)
                    cell = cells.setdefault((name, strength, size), Cell())
                    for m in METHODS:
                        cell.best[m].append(best_rank(attacked.orders[m], res.manipulators))
                        cell.p10[m].append(precision_at_10(attacked.orders[m], comm.genuine))
                    if why:
                        for pos, mid in enumerate(attacked.orders["microvoice"][:20]):
                            if mid in res.manipulators:
                                why_lines.append(
                                    _why_line(name, strength, comm, res, base, pos, attacked.ranked[mid])
                                )
    out("Organic servers")
    for line in org_info:
        out(line)
    out("")
    out("(a) Organic P@10 (mean over seeds)")
    out(f"  {'N':>6s} " + " ".join(f"{m:>11s}" for m in METHODS))
    for size in sizes:
        out(f"  {size:>6d} " + " ".join(f"{np.mean(organic[size][m]):>11.2f}" for m in METHODS))
    out("")
    n_runs = len(seeds)
    out(
        "(b) Attacks: best manipulator rank per seed (MV / MC / PR; '-' = not in top 200), "
        f"runs with a manipulator in top 20 / top 10 (of {n_runs}), mean P@10"
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
                flag = (
                    "  <- MV top 20"
                    if any(r is not None and r <= 20 for r in cell.best["microvoice"])
                    else ""
                )
                out(
                    f"  {name:18s} {strength:>1d} {size:>5d}  {bests[0]:>9s} {bests[1]:>9s} {bests[2]:>9s}"
                    f"  {tops[0]:>10s} {tops[1]:>10s} {tops[2]:>10s}"
                    f"  {p10[0]:>7.2f} {p10[1]:>5.2f} {p10[2]:>5.2f}{flag}"
                )
    if why:
        out("")
        out("(c) Manipulators in Microvoice's top 20")
        for line in why_lines or ["(none)"]:
            out("  " + line)
    out("")
    out(f"elapsed {time.perf_counter() - t0:.1f}s")
    sys.stdout.flush()
