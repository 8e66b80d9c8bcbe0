"""What the community models' runners measure a listing by, and the plain PageRank baseline they
rank beside Microvoice (`bench.trust_fourth`, `bench.trust_fifth`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


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
