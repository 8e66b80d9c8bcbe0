"""Seeds and solver: who hands out trust, and how much trust each member of a scope holds.

A scope's engagement pairs become a `ScopeGraph`: saturated, reciprocity-damped votes kept
transposed for the power iteration, updatable in place when some pairs' weights change. Trust
enters only at the seeds (`seed_weights`: established or pinned members) and `solve` runs the
personalized PageRank `x = d * P^T x + (1 - d * |P^T x|) * s` on the graph (`power_iteration`).

Guarantees: whatever is not passed along an edge returns to the seeds, so a group no seed engages
with holds exactly zero trust; the result is the unique fixed point up to `TrustParams.tol`, so
starting from a previous solution (warm) or updating the graph in place instead of rebuilding it
changes the number of iterations, not the answer. Pure numpy/scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot.trust.ids import IdIndex, sorted_unique
from bot.trust.params import MemberFacts, TrustParams


@dataclass(frozen=True)
class Pairs:
    """Pairs of one scope: canonical CSR order (by actor, then target), weights summed over rows."""

    actor: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    indptr: np.ndarray


def pairs_from_sorted(n: int, actor: np.ndarray, target: np.ndarray, weight: np.ndarray) -> Pairs:
    """Sum adjacent rows of the same (actor, target); input must be sorted by actor then target."""
    if len(actor):
        start = np.empty(len(actor), np.bool_)
        start[0] = True
        np.not_equal(actor[1:], actor[:-1], out=start[1:])
        start[1:] |= target[1:] != target[:-1]
        heads = np.flatnonzero(start)
        if len(heads) < len(actor):
            weight = np.add.reduceat(weight, heads)
            actor, target = actor[heads], target[heads]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(actor, minlength=n), out=indptr[1:])
    return Pairs(actor=actor, target=target, weight=weight, indptr=indptr)


def member_rows(ids: np.ndarray, members: MemberFacts) -> np.ndarray:
    """Per dense member: its row in `members` (-1 when not known there)."""
    return IdIndex(members.member_id).lookup(ids) if len(members.member_id) else np.full(len(ids), -1)


def members_gone(
    ids: np.ndarray, members: MemberFacts, today: int, row: np.ndarray | None = None
) -> np.ndarray:
    """Per dense member: whether they left the community by the end of `today` (`MemberFacts.left_day`).
    `row`: `member_rows(ids, members)`, when already known."""
    row = member_rows(ids, members) if row is None else row
    gone = np.zeros(len(ids), np.bool_)
    known = row >= 0
    gone[known] = members.left_day[row[known]] < today + 1  # NaN (still here) compares False
    return gone


def members_idle(active: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per dense member (rows of `active`: counts of their own activity per age in days, 0 = today):
    whether they did nothing in the `TrustParams.idle_days` days up to the community's latest
    activity (all False when that is 0, or nobody did anything). Counted from the latest activity,
    not from today: a community gone quiet, or records that stopped for a while (a Reddit stream
    without credentials, a bot offline), do not empty every listing."""
    days = math.ceil(params.idle_days)
    if days <= 0 or active.shape[1] == 0:
        return np.zeros(active.shape[0], np.bool_)
    busy = np.flatnonzero(active.any(axis=0))
    if len(busy) == 0:
        return np.zeros(active.shape[0], np.bool_)
    latest = int(busy[0])
    return ~(active[:, latest : latest + days] > 0).any(axis=1)


def members_away(
    gone: np.ndarray, active: np.ndarray, pinned: np.ndarray, params: TrustParams, *, posts_count: bool
) -> np.ndarray:
    """Per dense member: not listed in any scope: left (`gone`, `members_gone`) or, where posts count
    (without them a member's own activity is not known), idle (`members_idle`) and not pinned."""
    return gone | (members_idle(active, params) & ~pinned) if posts_count else gone


def member_since(
    ids: np.ndarray,
    engaged_from: np.ndarray,
    members: MemberFacts,
    row: np.ndarray | None = None,
    *,
    censored_days: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per dense member: the day they arrived (the earliest of the join date, the store's first
    sighting and the first engagement in the data; NaN when unknown; -inf when it is before the
    records, see below) and their account's creation day (NaN when unknown or impossible).
    `row`: `member_rows(ids, members)`, when already known.

    A member without a join date first seen within `censored_days` of the day the records could
    first show them (`MemberFacts.records_from_day`) arrived at some unknown time before: a
    subreddit read since last week shows its regulars from the first day, as if they had all just
    come."""
    row = member_rows(ids, members) if row is None else row
    known = row >= 0

    def fact(column: np.ndarray) -> np.ndarray:
        out = np.full(len(ids), np.nan)
        out[known] = column[row[known]]
        return out

    since = np.fmin(np.fmin(engaged_from, fact(members.first_seen_day)), fact(members.joined_day))
    created = fact(members.account_created_day)
    # An account cannot be younger than the member's presence in the community: a creation date more
    # than a day after the member was already here is not a real one (e.g. ids minted by a test
    # platform) and says nothing about the account's age.
    created[created > since + 1.0] = np.nan
    if censored_days > 0:
        records = fact(members.records_from_day)
        before = np.isnan(fact(members.joined_day)) & (since <= records + censored_days)
        since[before] = -np.inf
    return since, created


def present_long_enough(
    ids: np.ndarray,
    engaged_from: np.ndarray,
    members: MemberFacts,
    params: TrustParams,
    today: int,
    tenure: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Per dense member: present for `seed_min_tenure_days` on an account at least as old (when its
    age is known; see `member_since`). `tenure` is `member_since`'s result when already known."""
    if tenure is None:
        tenure = member_since(ids, engaged_from, members, censored_days=params.censored_arrival_days)
    since, created = tenure
    account_age = np.where(np.isnan(created), np.inf, today - created)
    return (today - since >= params.seed_min_tenure_days) & (account_age >= params.seed_min_tenure_days)


def seed_weights(
    ids: np.ndarray,
    engaged_from: np.ndarray,
    out_peers: np.ndarray,
    excluded: np.ndarray,
    pinned: np.ndarray,
    members: MemberFacts,
    params: TrustParams,
    today: int,
    earned: np.ndarray | None = None,
    tenure: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Teleport weight per dense member: `earned` (default 1) for established members,
    `pinned_seed_weight` if pinned.

    Established means long enough in the community (by join date or first activity, whichever is
    earlier), on an account at least as old (when known and possible: a creation date after the
    member was already present is ignored), and having engaged with at least
    `seed_min_peers` distinct members in the window. First activity is the earlier of the first
    engagement in the data (`engaged_from`: tenure evidence for members whose join date is unknown,
    as on Reddit, or who left and rejoined) and the store's own first sighting
    (`MemberFacts.first_seen_day`, which covers history older than the window). Being established
    only makes a member eligible: `earned` (see `bot.trust.evidence.standing_of`) is what the
    community's engagement over time gave them.
    """
    established = (
        present_long_enough(ids, engaged_from, members, params, today, tenure)
        & (out_peers >= params.seed_min_peers)
        & ~excluded
    )
    weight = np.where(established, 1.0 if earned is None else earned, 0.0)
    weight[pinned] = params.pinned_seed_weight
    return weight


def _reverse_positions(pairs: Pairs, n: int) -> tuple[np.ndarray, sp.csr_array]:
    """For each pair a->b, the position of b->a in `pairs` (-1 when b never engaged a); and the
    transposed pattern (rows = targets) whose data are positions in `pairs`, for the power iteration.

    Done with sparse algebra (linear merges in C) rather than a per-pair search: the transposed
    matrix carries 1-based positions; multiplying it by the all-ones matrix of the scope keeps only
    mutual pairs, and adding that to the all-ones matrix puts every value back in `pairs` order.
    """
    m = len(pairs.actor)
    ones = sp.csr_array((np.ones(m), pairs.target, pairs.indptr), shape=(n, n))
    positions = sp.csr_array((np.arange(1.0, m + 1.0), pairs.target, pairs.indptr), shape=(n, n))
    by_target = positions.T.tocsr()
    aligned = (ones + by_target.multiply(ones)).tocsr()
    aligned.sort_indices()
    if aligned.nnz != m:  # pragma: no cover - the mutual pattern is a subset by construction
        raise RuntimeError("reciprocity alignment failed")
    by_target.data -= 1.0
    return aligned.data.astype(np.int64) - 2, by_target


_PAIR_SHIFT = 32  # pair key = actor << 32 | target (dense ids are < 2**31)
_INDEX = np.int32  # dense ids and pair positions kept per pair (< 2**31: half the memory of int64)


class ScopeGraph:
    """The engagement pairs of one scope, ready for the power iteration, and updatable in place.

    The pairs built at once are kept in CSR order (by actor, then target) with their transposed
    matrix; pairs that appear later are appended after them ("extra" pairs, a small second matrix)
    instead of re-sorting millions of rows. Once `transition` has run, a change of some pairs'
    weights (`add`) updates the transition shares, the transposed matrix and the degree counts of
    only the pairs it affects, and `x` keeps the last trust vector so the next power iteration
    starts from it.

    Members are numbered locally: a topic's graph often involves a fifth of the community, and
    every vector of the iteration and the listing is as long as this numbering (`n`, including
    spare slots for members who appear later). `members` maps local to community-wide dense ids;
    `add` takes community-wide ids, every per-member array here is local (`gather`, `scatter`).
    """

    def __init__(self, pairs: Pairs, n: int) -> None:
        present = np.diff(pairs.indptr) > 0
        present[pairs.target] = True
        members = np.flatnonzero(present)
        used = len(members)
        self.n = used + max(64, used // 16)
        self._used = used
        self._members = np.full(self.n, -1, np.int64)
        self._members[:used] = members
        self._local = np.full(len(pairs.indptr) - 1, -1, _INDEX)  # community-wide -> local
        self._local[members] = np.arange(used)
        indptr = np.concatenate([pairs.indptr[members], np.full(self.n - used + 1, pairs.indptr[-1])])
        pairs = Pairs(self._local[pairs.actor], self._local[pairs.target], pairs.weight, indptr)
        n = self.n
        self.base = len(pairs.actor)
        reverse, by_target = _reverse_positions(pairs, n)
        # Pair columns live in buffers with room for pairs added later; the attributes are views.
        room = self.base + max(1024, self.base // 16)
        self._buffers: dict[str, np.ndarray] = {}
        for name, values, dtype in (
            ("actor", pairs.actor, _INDEX),
            ("target", pairs.target, _INDEX),
            ("weight", pairs.weight, np.float64),
            ("reverse", reverse, _INDEX),
            ("vote", None, np.float64),
        ):
            buffer = np.zeros(room, dtype)
            if values is not None:
                buffer[: self.base] = values
            self._buffers[name] = buffer
        self._size = 0
        self._resize(self.base)
        self._keys = (pairs.actor.astype(np.int64) << _PAIR_SHIFT) | pairs.target  # ascending: CSR order
        # Pairs added after the build: their keys sorted, and their positions in that order.
        self._extra_keys = np.zeros(0, np.int64)
        self._extra_pos = np.zeros(0, np.int64)
        self.x: np.ndarray | None = None
        # The votes of the base pairs transposed (rows = targets), placed through `_slot`.
        positions = by_target.data.astype(np.int64)
        self._base_t = sp.csr_array(
            (np.zeros(len(positions)), by_target.indices, by_target.indptr), shape=(n, n)
        )
        # ... their squares (for the listing's effective number of peers), and whether each is
        # present (weight > 0; for counting trusted peers), with the same structure.
        self._base_t2 = sp.csr_array(
            (np.zeros(len(positions)), by_target.indices, by_target.indptr), shape=(n, n)
        )
        self._base_p = sp.csr_array(
            (np.zeros(len(positions), np.float32), by_target.indices, by_target.indptr), shape=(n, n)
        )
        self._slot = np.empty(self.base, _INDEX)
        self._slot[positions] = np.arange(len(positions))
        # The same for pairs added later, over the targets they reach only (built on demand).
        self._extra_t: _ExtraVotes | None = None
        self._mutual: MutualPairs | None = None  # pairs whose reverse pair exists (built on demand)
        # Valid once `transition` ran with `_params`; `add` keeps them up to date from then on.
        self._params: TrustParams | None = None
        self._row_total = np.zeros(0)
        self.in_deg = np.zeros(0, np.int64)  # distinct engagers (pairs with weight > 0) per member
        self.out_deg = np.zeros(0, np.int64)  # distinct members engaged per member
        self.got = np.zeros(0)  # engagement weight received per member

    def __len__(self) -> int:
        return self._size

    @property
    def members(self) -> np.ndarray:
        """Community-wide dense id of each local member in use."""
        return self._members[: self._used]

    def gather(self, values: np.ndarray, fill: Any = 0) -> np.ndarray:
        """A community-wide per-member array as a local one (`fill` in the spare slots)."""
        out = np.full(self.n, fill, values.dtype)
        out[: self._used] = values[self._members[: self._used]]
        return out

    def scatter(self, values: np.ndarray, size: int) -> np.ndarray:
        """A local per-member array as a community-wide one of `size` (zero elsewhere)."""
        out = np.zeros(size, values.dtype)
        out[self._members[: self._used]] = values[: self._used]
        return out

    def largest_per_actor(self, values: np.ndarray) -> np.ndarray:
        """Per local member, the largest of `values` (one per pair) over the pairs they are the actor
        of (0 without any); the built pairs are in actor order, so that is one segmented pass."""
        out = np.zeros(self.n)
        base = self.base
        if base:
            actor = self.actor[:base]
            heads = np.flatnonzero(np.r_[True, actor[1:] != actor[:-1]])
            out[actor[heads]] = np.maximum.reduceat(values[:base], heads)
        if len(self.actor) > base:
            np.maximum.at(out, self.actor[base:], values[base:])
        return np.maximum(out, 0.0)

    def pairs_of(self, chosen: np.ndarray) -> np.ndarray:
        """Positions, ascending, of the pairs whose actor is `chosen` (a mask over local members):
        ranges of the built pairs (in actor order) and a scan of the pairs added since, so the cost
        follows the pairs found, not the graph."""
        base = self.base
        parts = []
        actors = np.flatnonzero(chosen).astype(np.int64)
        if base and len(actors):
            lo = np.searchsorted(self._keys, actors << _PAIR_SHIFT)
            hi = np.searchsorted(self._keys, (actors + 1) << _PAIR_SHIFT)
            counts = hi - lo
            ends = np.cumsum(counts)
            parts.append(np.repeat(lo - (ends - counts), counts) + np.arange(int(ends[-1])))
        if len(self.actor) > base:
            parts.append(np.flatnonzero(chosen[self.actor[base:]]) + base)
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def locals_of(self, members: np.ndarray) -> np.ndarray:
        """The local ids of community-wide dense ids (-1 where not in this graph)."""
        members = np.asarray(members, np.int64)
        out = np.full(len(members), -1, np.int64)
        known = (members >= 0) & (members < len(self._local))
        out[known] = self._local[members[known]]
        return out

    def local_of(self, member: int) -> int:
        """The local id of a community-wide dense id (-1 when not in this graph)."""
        return int(self._local[member]) if 0 <= member < len(self._local) else -1

    def _localize(self, members: np.ndarray) -> np.ndarray:
        """Local ids of community-wide dense ids, giving members new to this graph a spare slot."""
        local = self._local[members].astype(np.int64)
        missing = local < 0
        if missing.any():
            fresh = sorted_unique(members[missing])
            if self._used + len(fresh) > self.n:
                self._grow(self._used + len(fresh))
            slots = np.arange(self._used, self._used + len(fresh))
            self._members[slots] = fresh
            self._local[fresh] = slots
            self._used += len(fresh)
            local[missing] = self._local[members[missing]]
        return local

    def _grow(self, needed: int) -> None:
        """More local slots: every per-member array and the matrices' shape grow (rare: the spare
        slots of a scope ran out)."""
        old, n = self.n, max(needed, self.n + self.n // 4)
        self.n = n
        self._members = np.concatenate([self._members, np.full(n - old, -1, np.int64)])
        for name in ("_row_total", "got", "in_deg", "out_deg", "x"):
            values = getattr(self, name)
            if values is not None and len(values) == old:
                setattr(self, name, np.concatenate([values, np.zeros(n - old, values.dtype)]))
        for name in ("_base_t", "_base_t2", "_base_p"):
            m = getattr(self, name)
            indptr = np.concatenate([m.indptr, np.full(n - old, m.indptr[-1], m.indptr.dtype)])
            setattr(self, name, sp.csr_array((m.data, m.indices, indptr), shape=(n, n)))
        self._extra_t = None

    def _resize(self, size: int) -> None:
        """Make the pair columns `size` long (new pairs start zeroed), growing the buffers if needed."""
        if size > len(self._buffers["actor"]):
            room = size + max(1024, size // 4)
            for name, old in self._buffers.items():
                grown = np.zeros(room, old.dtype)
                grown[: self._size] = old[: self._size]
                self._buffers[name] = grown
        self._size = size
        views = {name: buffer[:size] for name, buffer in self._buffers.items()}
        self.actor, self.target, self.weight = views["actor"], views["target"], views["weight"]
        self.reverse, self.vote = views["reverse"], views["vote"]

    @property
    def extra_pairs(self) -> int:
        return len(self.actor) - self.base

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """Positions of pair keys, -1 when absent."""
        found = np.full(len(keys), -1, np.int64)
        if self.base:
            pos = np.minimum(np.searchsorted(self._keys, keys), self.base - 1)
            hit = self._keys[pos] == keys
            found[hit] = pos[hit]
        if len(self._extra_keys):
            missing = np.flatnonzero(found < 0)
            extra = self._extra_keys
            pos = np.minimum(np.searchsorted(extra, keys[missing]), len(extra) - 1)
            hit = extra[pos] == keys[missing]
            found[missing[hit]] = self._extra_pos[pos[hit]]
        return found

    def add(self, actor: np.ndarray, target: np.ndarray, delta: np.ndarray) -> None:
        """Add `delta` to the weight of each (actor, target) pair (community-wide dense ids),
        creating new pairs."""
        if len(actor) == 0:
            return
        actor, target = self._localize(actor), self._localize(target)
        keys, inverse = np.unique((actor << _PAIR_SHIFT) | target, return_inverse=True)
        delta = np.bincount(inverse.ravel(), weights=delta, minlength=len(keys))
        pos = self._find(keys)
        new = pos < 0
        if new.any():
            fresh = keys[new]
            start = len(self.actor)
            pos[new] = np.arange(start, start + len(fresh))
            merged = np.concatenate([self._extra_keys, fresh])
            order = np.argsort(merged, kind="stable")
            self._extra_keys = merged[order]
            self._extra_pos = np.concatenate([self._extra_pos, pos[new]])[order]
            f_actor, f_target = fresh >> _PAIR_SHIFT, fresh & ((1 << _PAIR_SHIFT) - 1)
            back = self._find((f_target << _PAIR_SHIFT) | f_actor)
            self._resize(start + len(fresh))
            self.actor[start:], self.target[start:], self.reverse[start:] = f_actor, f_target, back
            mutual = back >= 0
            self.reverse[back[mutual]] = pos[new][mutual]
            became = np.concatenate([pos[new][mutual], back[mutual]])  # both directions: now mutual
            if self._mutual is not None and len(became) and not self._mutual.extend(self, became):
                self._mutual = None
            self._extra_t = None  # rebuilt with the new pairs when next needed
        before = self.weight[pos]
        self.weight[pos] += delta
        # Retractions can leave rounding dust where a weight should be exactly zero (and a weight is
        # never negative: a retraction cannot take back more than was counted).
        dust = pos[self.weight[pos] < 1e-12]
        self.weight[dust] = 0.0
        if self._params is None:
            self._extra_t = None
        else:
            self._update(pos, before)

    def _update(self, pos: np.ndarray, before: np.ndarray) -> None:
        """Bring the cached votes and counts up to date after the weights at `pos` changed.

        Only the changed pairs and their reverses (whose reciprocity ratio moved) are touched: the
        actor's row total is a separate vector, applied at multiplication time."""
        assert self._params is not None
        n = self.n
        after = self.weight[pos]
        was, now = before > 0, after > 0
        self.in_deg += np.bincount(self.target[pos], weights=now.astype(np.int64) - was, minlength=n).astype(
            np.int64
        )
        self.out_deg += np.bincount(self.actor[pos], weights=now.astype(np.int64) - was, minlength=n).astype(
            np.int64
        )
        self.got += np.bincount(self.target[pos], weights=after - before, minlength=n)
        old_sat = -np.expm1(-before / self._params.saturation)
        new_sat = -np.expm1(-after / self._params.saturation)
        self._row_total += np.bincount(self.actor[pos], weights=new_sat - old_sat, minlength=n)
        actors = self.actor[pos]
        dust = actors[np.abs(self._row_total[actors]) < 1e-12]
        self._row_total[dust] = 0.0  # retracted rows: rounding dust, not a total
        back = self.reverse[pos]
        touched = sorted_unique(np.concatenate([back[back >= 0], pos]))
        self.vote[touched] = self._votes(touched)
        built = touched[touched < self.base]
        votes = self.vote[built]
        slots = self._slot[built]
        self._base_t.data[slots] = votes
        self._base_t2.data[slots] = votes * votes
        self._base_p.data[slots] = votes > 0
        extra = self._extra_t
        if extra is not None:  # the pairs added later, where built
            later = touched[touched >= self.base]
            votes, slots = self.vote[later], extra.slot[later - self.base]
            extra.votes.data[slots] = votes
            extra.squared.data[slots] = votes * votes
            extra.present.data[slots] = votes > 0

    def _votes(self, q: np.ndarray) -> np.ndarray:
        """Unnormalized votes of the pairs at positions `q` (see `transition`)."""
        assert self._params is not None
        return self._damped(q, -np.expm1(-self.weight[q] / self._params.saturation))

    def _damped(self, q: np.ndarray, vote: np.ndarray) -> np.ndarray:
        """`vote`, the saturated weights of the pairs at positions `q`, reciprocity-damped in place."""
        assert self._params is not None
        rho = self._params.reciprocity_damping
        w = self.weight
        back = self.reverse[q]
        mutual = (back >= 0) & (w[q] > 0)
        if rho > 0 and mutual.any():
            ratio = w[back[mutual]] / w[q[mutual]]
            vote[mutual] *= 1.0 - rho * np.minimum(ratio, 1.0)
        return vote

    def transition(self, params: TrustParams) -> None:
        """Prepare the transition: the share of an actor's trust passed to a target is
        vote_ab / total_a (rows sum to <= 1), kept as the votes and the actors' totals (`scale`).

        Saturation makes a pair's weight concave and bounded in its volume: vote = 1 - exp(-w / s).
        Reciprocity damping removes a fraction rho * min(1, w_ba / w_ab) of a->b: engagement that
        merely answers engagement received (reply-backs, trading, rings) is weak evidence, while
        unsolicited engagement keeps full weight. The row is normalized by the *undamped* saturated
        total, so the damped part is not handed to the actor's other targets: it leaks back to the
        seeds, which is what stops a ring from recirculating its own trust.
        """
        if self._params != params:
            n, w = self.n, self.weight
            present = w > 0
            self._params = params
            sat = -np.expm1(-w / params.saturation)
            # (As floats even without pairs: numpy counts an empty input as integers, and the totals
            # are updated in place as pairs arrive.)
            self._row_total = np.bincount(self.actor, weights=sat, minlength=n).astype(np.float64)
            self.vote[:] = self._damped(np.arange(len(w)), sat)  # `sat` is not needed after this
            self._extra_t = None
            self._base_t.data[self._slot] = self.vote[: self.base]
            np.square(self._base_t.data, out=self._base_t2.data)
            self._base_p.data[:] = self._base_t.data > 0
            self.in_deg = np.bincount(self.target, weights=present, minlength=n).astype(np.int64)
            self.out_deg = np.bincount(self.actor, weights=present, minlength=n).astype(np.int64)
            self.got = np.bincount(self.target, weights=w, minlength=n).astype(np.float64)

    def scale(self) -> np.ndarray:
        """1 / an actor's saturated total (0 for members who engaged nobody): share = vote * scale."""
        total = self._row_total
        return np.divide(1.0, total, out=np.zeros(len(total)), where=total > 0)

    def _extra(self) -> _ExtraVotes | None:
        if not self.extra_pairs:
            return None
        if self._extra_t is None:
            b = self.base
            rows, row_of = np.unique(self.target[b:], return_inverse=True)
            row_of = row_of.ravel()
            actor = self.actor[b:]
            order = np.lexsort((actor, row_of))  # CSR order: by target row, then actor
            slot = np.empty(len(order), np.int64)
            slot[order] = np.arange(len(order))
            indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=len(rows)))])
            indices = actor[order]
            vote = self.vote[b:][order]
            shape = (len(rows), self.n)
            self._extra_t = _ExtraVotes(
                rows,
                slot,
                sp.csr_array((vote, indices, indptr), shape=shape),
                sp.csr_array((vote * vote, indices, indptr), shape=shape),
                sp.csr_array(((vote > 0).astype(np.float32), indices, indptr), shape=shape),
            )
        return self._extra_t

    def pull(self, v: np.ndarray, *, squared: bool = False) -> np.ndarray:
        """V^T v: per member, the sum over the pairs engaging them of vote * v[actor] (of vote^2 *
        v[actor] when `squared`). With v = scale * x this is P^T x."""
        y = (self._base_t2 if squared else self._base_t) @ v
        extra = self._extra()
        if extra is not None:
            y[extra.rows] += (extra.squared if squared else extra.votes) @ v
        return y

    def count_in(self, members: np.ndarray, counted: np.ndarray) -> np.ndarray:
        """Per member in `members`: how many of the actors engaging them (pairs with weight > 0)
        are `counted` (a 0/1 vector)."""
        flags = counted.astype(np.float32)  # sums of 0/1 in float32 are exact below 2**24
        got = self._base_p @ flags
        extra = self._extra()
        if extra is not None:
            got[extra.rows] += extra.present @ flags
        return got[members].astype(np.float64)

    def mutual(self) -> MutualPairs:
        """The pairs whose reverse pair exists: positions, actors, targets, and for each the index
        of its reverse pair in the same arrays."""
        if self._mutual is None:
            at = np.flatnonzero(self.reverse >= 0)
            index = np.full(len(self.reverse), -1, np.int64)
            index[at] = np.arange(len(at))
            self._mutual = MutualPairs(at, self.actor[at], self.target[at], index[self.reverse[at]])
        return self._mutual


@dataclass(frozen=True)
class _ExtraVotes:
    """Votes of the pairs added after a graph was built, transposed, over the targets they reach."""

    rows: np.ndarray  # dense ids of those targets (the matrices' rows)
    slot: np.ndarray  # where each added pair (position - base) sits in the matrices' data
    votes: sp.csr_array
    squared: sp.csr_array
    present: sp.csr_array  # 1 where the weight is > 0 (float32)


class MutualPairs:
    """The pairs of a graph whose reverse pair exists: positions, actors, targets, and for each the
    index of its reverse pair in the same arrays. Kept in buffers with room for pairs that become
    mutual later."""

    def __init__(self, at: np.ndarray, actor: np.ndarray, target: np.ndarray, reverse: np.ndarray) -> None:
        self._size = len(at)
        room = self._size + max(1024, self._size // 8)
        self._columns = []
        for values in (at, actor, target, reverse):
            buffer = np.zeros(room, _INDEX)
            buffer[: self._size] = values
            self._columns.append(buffer)
        self._views()

    def _views(self) -> None:
        self.at, self.actor, self.target, self.reverse = (c[: self._size] for c in self._columns)

    def __len__(self) -> int:
        return self._size

    def extend(self, g: ScopeGraph, positions: np.ndarray) -> bool:
        """Add the pairs at `positions`, which just became mutual together with their reverses (all
        of them in `positions`); False if one is missing (then the caller rebuilds)."""
        positions = sorted_unique(positions)
        reverse = g.reverse[positions]
        where = np.searchsorted(positions, reverse)
        if not np.array_equal(positions[np.minimum(where, len(positions) - 1)], reverse):
            return False
        start, end = self._size, self._size + len(positions)
        if end > len(self._columns[0]):
            room = end + max(1024, end // 4)
            grown = [np.zeros(room, _INDEX) for _ in self._columns]
            for new, old in zip(grown, self._columns, strict=True):
                new[:start] = old[:start]
            self._columns = grown
        for column, values in zip(
            self._columns, (positions, g.actor[positions], g.target[positions], start + where), strict=True
        ):
            column[start:end] = values
        self._size = end
        self._views()
        return True


def power_iteration(
    pull: Callable[[np.ndarray], np.ndarray],
    scale: np.ndarray,
    seeds: np.ndarray,
    params: TrustParams,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, int, bool]:
    """Stationary trust: x = d * P^T x + (1 - d * |P^T x|) * s, s the normalized seed vector.

    Whatever is not passed along an edge (teleport, dangling members, leaked reciprocity) returns to
    the seeds, never uniformly to everyone: that is what keeps a seedless ring at zero. P^T x is
    computed as V^T (scale * x) (`pull`, e.g. `ScopeGraph.pull`). `start` (the previous solution, after
    the graph changed a little) only shortens the iteration: the fixed point is unique, and the
    stopping rule is the same.
    """
    s = seeds / seeds.sum()
    x = s.copy() if start is None or len(start) != len(s) else start.copy()
    d = params.damping
    for step in range(1, params.max_iter + 1):
        y = pull(x * scale)
        y *= d
        y += (1.0 - y.sum()) * s
        change = float(np.abs(y - x).sum())
        x = y
        if change < params.tol:
            return x, step, True
    return x, params.max_iter, False


@dataclass(frozen=True)
class Evidence:
    """What a ranking run uses beyond the engagement pairs, per dense member (community-wide).

    `seed_weight` is the teleport weight; `keep` the share of a member's votes that passes trust on
    (1 - how strongly their engagement pattern looks coordinated; the rest returns to the seeds), and
    of their own listing value; `vouching` 1 for members whose attention counts toward what a post
    draws (present, on an account as old, for `seed_min_tenure_days`), else 0; `coordinated` the
    share of the engagement a member received that comes from coordinated accounts (shown; breadth
    leaves it out through the engagers' `keep`, and it is taken off the listing value by its share
    only without `coordinated_once`), `woke` the share from accounts that became active together
    (taken off the listing value and what their posts draw), `devoted` the share from accounts
    devoted mostly to that member (part of `coordinated`, taken off again `devoted_weight - 1`
    times), `reason` the index in REASONS of the
    largest of the three patterns; `own_keep` the discount of a member's own listing value when it
    differs from `keep` (`group_discount_by_exchange`; None: `keep`); `draw` what a member's posts
    draw community-wide (the whole community's volume-neutrality factor; None without posts);
    `day_share` the share of the engagement a member received that came on their busiest day and
    `day_excess` the discount it earns (`single_day`; None when off); `burst_share` the share of a
    member's distinct engagers who first engaged them in their busiest week and `burst_excess` its
    discount (`new_engager_burst`); `top_share` the share of a member's distinct engagers for whom
    they are the one engaged most and `top_excess` its discount (`top_recipient`); `weeks_share` the
    share of a member's distinct engagers who first engaged them in their busiest window of a few
    weeks and `weeks_excess` its discount (`arrival_weeks`); `crowd` the distinct (engager, day)
    pairs a member received per post, both decayed (`crowd_per_post`; 0 without posts; None when
    off); `lone` the share of a member's distinct engagers who engage no one else in the community
    (`lone_engagers`; None when off), `usual_lone` that share for the usual member with
    `min_peers_listed` engagers; `apart` a member's insular-group score times the share of what
    they received from members they never engaged in turn, `unanswered` that share (`apart_group`;
    None when off); `drawn` the share of the members who wrote to a member who did so only on the
    days the member's posts drew a crowd (`crowd_days`; None when off). All but `seed_weight` are
    None when coordination evidence is off.
    """

    seed_weight: np.ndarray
    keep: np.ndarray | None = None
    vouching: np.ndarray | None = None
    coordinated: np.ndarray | None = None
    woke: np.ndarray | None = None
    reason: np.ndarray | None = None
    devoted: np.ndarray | None = None
    own_keep: np.ndarray | None = None
    draw: np.ndarray | None = None
    day_share: np.ndarray | None = None
    day_excess: np.ndarray | None = None
    burst_share: np.ndarray | None = None
    burst_excess: np.ndarray | None = None
    top_share: np.ndarray | None = None
    top_excess: np.ndarray | None = None
    weeks_share: np.ndarray | None = None
    weeks_excess: np.ndarray | None = None
    crowd: np.ndarray | None = None
    lone: np.ndarray | None = None
    usual_lone: float = 0.0
    apart: np.ndarray | None = None
    unanswered: np.ndarray | None = None
    drawn: np.ndarray | None = None
    #: The median of `coordinated` among the members who take part (`settled`): the community's usual
    #: share, which a topic listing's bar on accounts acting for a member must exceed twice over.
    usual_coordinated: float = 0.0
    #: Per dense member: a poster whose post count sets the median of a post's draw (`posts_counted`):
    #: engaging or engaged by someone and, in a history twice `seed_min_tenure_days` long, not joined
    #: in its last `seed_min_tenure_days`. None: every poster.
    settled: np.ndarray | None = None


@dataclass
class Solved:
    """A scope's power iteration: what the listing needs from it."""

    scale: np.ndarray  # 1 / each actor's saturated total, as in `ScopeGraph.scale`
    x: np.ndarray
    iterations: int
    converged: bool


def solve(
    g: ScopeGraph,
    seed_weight: np.ndarray,
    params: TrustParams,
    *,
    warm: bool,
    keep: np.ndarray | None = None,
) -> Solved | None:
    """Trust of a scope's graph; None when no seed votes in it (then there is no trust to hand out:
    ranking the scope anyway, as plain PageRank, would reward whoever generates most engagement).
    `keep` (community-wide, see `bot.trust.evidence.Evidence`) scales each member's votes; the rest
    leaks to the seeds."""
    g.transition(params)
    seeds = np.where(g.out_deg > 0, g.gather(seed_weight), 0.0)  # seeds who vote in this scope
    if seeds.sum() <= 0:
        return None
    scale = g.scale()
    if keep is not None:
        scale *= g.gather(keep, 1.0)
    x, iterations, converged = power_iteration(g.pull, scale, seeds, params, g.x if warm else None)
    g.x = x
    return Solved(scale, x, iterations, converged)
