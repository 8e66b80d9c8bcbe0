"""Ranks organic and attacked communities with Microvoice, message count and plain PageRank.

For every (size, seed) the organic community is ranked once; every attack at every strength is
added to it and ranked again. Reported: precision at 10 against the organic genuine voices, and the
best rank any manipulator reached (only the top 200 count).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from bench.trust_fourth.attacks import ATTACKS, AttackResult
from bench.trust_fourth.model import Community, build_community
from bench.trust_metrics import (
    LIMIT,
    METHODS,
    Cell,
    Data,
    Outcome,
    Run,
    aggregate_edges,
    aggregate_posts,
    best_rank,
    fmt_rank,
    pagerank_order,
    precision_at_10,
    rank_microvoice,
)
from bot import trust

SHORT = {"microvoice": "MV", "messages": "MC", "pagerank": "PR"}


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The organic rows plus an attack's extra rows."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    facts = trust.MemberFacts(
        member_id=np.concatenate([comm.facts.member_id, attack.facts.member_id]),
        joined_day=np.concatenate([comm.facts.joined_day, attack.facts.joined_day]),
        account_created_day=np.concatenate(
            [comm.facts.account_created_day, attack.facts.account_created_day]
        ),
        left_day=np.concatenate([comm.facts.left_day, attack.facts.left_day]),
    )
    return Data(
        aggregate_edges([comm.edges, attack.edges]),
        aggregate_posts([comm.posts, attack.posts]),
        facts,
    )


def evaluate(
    size: int, seed: int, params: trust.TrustParams | None = None, *, departures: bool = True
) -> list[Outcome]:
    """The organic community of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`), drawn as `run` draws them (`departures`: see `build_community`)."""
    comm = build_community(size, seed, departures=departures)
    order, _ = rank_microvoice(combine(comm, None), comm.today, params)
    out = [Outcome(None, 0, precision_at_10(order, comm.genuine), None)]
    for name in ATTACKS:
        for strength in (1, 2, 3):
            rng = np.random.default_rng([seed, size, list(ATTACKS).index(name), strength, 44])
            res = ATTACKS[name](comm, strength, rng)
            order, _ = rank_microvoice(combine(comm, res), comm.today, params)
            out.append(
                Outcome(
                    name, strength, precision_at_10(order, comm.genuine), best_rank(order, res.manipulators)
                )
            )
    return out


def rank_messages(data: Data) -> list[int]:
    """Most posts first (ties by id)."""
    members, inv = np.unique(data.posts.member, return_inverse=True)
    totals = np.zeros(len(members))
    np.add.at(totals, inv.ravel(), data.posts.n)
    order = np.lexsort((members, -totals))
    return [int(m) for m in members[order][:LIMIT]]


def rank_pagerank(data: Data) -> list[int]:
    """Plain PageRank over all engagement (weighted by count), uniform teleport, dangling mass spread."""
    return pagerank_order(data.edges.actor, data.edges.target, data.edges.n, LIMIT)


def rank_all(data: Data, today: int) -> Run:
    mv, ranked = rank_microvoice(data, today)
    return Run({"microvoice": mv, "messages": rank_messages(data), "pagerank": rank_pagerank(data)}, ranked)


def run(
    sizes: Sequence[int],
    seeds: Sequence[int],
    attacks: Sequence[str],
    strengths: Sequence[int],
    why: bool = False,
    out: Callable[[str], None] = print,
    *,
    departures: bool = True,
) -> None:
    """Run everything and print the tables (`departures`: see `build_community`)."""
    t0 = time.perf_counter()
    organic: dict[int, dict[str, list[float]]] = {s: {m: [] for m in METHODS} for s in sizes}
    org_info: list[str] = []
    cells: dict[tuple[str, int, int], Cell] = {}
    why_lines: list[str] = []
    for size in sizes:
        for seed in seeds:
            comm = build_community(size, seed, departures=departures)
            base = rank_all(combine(comm, None), comm.today)
            for m in METHODS:
                organic[size][m].append(precision_at_10(base.orders[m], comm.genuine))
            org_info.append(
                f"  N={size} seed={seed}: history {comm.today - comm.start} days, "
                f"{len(comm.genuine)} genuine voices, "
                f"{int(comm.posts.n.sum())} posts, {int(comm.edges.n.sum())} engagements, "
                f"Microvoice lists {len(base.orders['microvoice'])}"
            )
            for name in attacks:
                for strength in strengths:
                    rng = np.random.default_rng([seed, size, list(ATTACKS).index(name), strength, 44])
                    res = ATTACKS[name](comm, strength, rng)
                    attacked = rank_all(combine(comm, res), comm.today)
                    cell = cells.setdefault((name, strength, size), Cell())
                    for m in METHODS:
                        cell.best[m].append(best_rank(attacked.orders[m], res.manipulators))
                        cell.p10[m].append(precision_at_10(attacked.orders[m], comm.genuine))
                    if why:
                        for pos, mid in enumerate(attacked.orders["microvoice"][:20]):
                            if mid not in res.manipulators:
                                continue
                            r = attacked.ranked[mid]
                            w = r.why or {}
                            who = "beneficiary" if mid == res.beneficiary else "helper"
                            org_rank = best_rank(base.orders["microvoice"], frozenset({mid}))
                            coordinated = w.get("coordinated")
                            coord = (
                                f"{coordinated:.3f}" if isinstance(coordinated, float) else str(coordinated)
                            )
                            appeal = w.get("appeal")
                            app = f"{appeal:.3f}" if isinstance(appeal, float) else str(appeal)
                            why_lines.append(
                                f"{name:17s} s={strength} N={size:<5d} seed={seed} {mid} {who:11s} "
                                f"rank={pos + 1:<3d} organic_rank={fmt_rank(org_rank):>3s} "
                                f"peers={r.distinct_peers:<4d} coordinated={coord} "
                                f"reason={w.get('coordinated_reason')} appeal={app}"
                            )
    out("Organic communities")
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
    header = (
        f"  {'attack':17s} {'s':>1s} {'N':>5s}  {'best MV':>9s} {'best MC':>9s} {'best PR':>9s}"
        f"  {'MV t20/t10':>10s} {'MC t20/t10':>10s} {'PR t20/t10':>10s}"
        f"  {'P@10 MV':>7s} {'MC':>5s} {'PR':>5s}"
    )
    out(header)
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
                out(
                    f"  {name:17s} {strength:>1d} {size:>5d}  {bests[0]:>9s} {bests[1]:>9s} {bests[2]:>9s}"
                    f"  {tops[0]:>10s} {tops[1]:>10s} {tops[2]:>10s}"
                    f"  {p10[0]:>7.2f} {p10[1]:>5.2f} {p10[2]:>5.2f}"
                )
    if why:
        out("")
        out("(c) Manipulators in Microvoice's top 20")
        for line in why_lines or ["  (none)"]:
            out("  " + line)
    out("")
    out(f"elapsed {time.perf_counter() - t0:.1f}s")
    sys.stdout.flush()
