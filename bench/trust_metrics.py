"""What the community models' runners share (`bench.trust_fourth`, `bench.trust_fifth`,
`bench.trust_sixth`): a community as the ranking sees it, one outcome of Microvoice on it, the measures
of a listing, and the plain PageRank baseline ranked beside it."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

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


def aggregate_edges(parts: Sequence[trust.Edges]) -> trust.Edges:
    """Rows of several sources as one, counts summed per (actor, target, channel, day, kind)."""
    cols = [
        np.concatenate([getattr(p, c) for p in parts]) for c in ("actor", "target", "channel", "day", "kind")
    ]
    n = np.concatenate([p.n for p in parts])
    keys = np.stack(cols, axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    total = np.zeros(len(uniq))
    np.add.at(total, inv.ravel(), n)
    return trust.Edges(uniq[:, 0], uniq[:, 1], uniq[:, 2], uniq[:, 3], uniq[:, 4], total)


def aggregate_posts(parts: Sequence[trust.Posts]) -> trust.Posts:
    """Posts of several sources as one, counts summed per (member, channel, day)."""
    keys = np.stack(
        [np.concatenate([getattr(p, c) for p in parts]) for c in ("member", "channel", "day")], axis=1
    )
    n = np.concatenate([p.n for p in parts])
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    total = np.zeros(len(uniq))
    np.add.at(total, inv.ravel(), n)
    return trust.Posts(uniq[:, 0], uniq[:, 1], uniq[:, 2], total)


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
    """The share of the first ten listed who are genuine voices (of as many as are listed)."""
    top = list(order[:10])
    return sum(m in genuine for m in top) / len(top) if top else 0.0


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
