"""Listing: a solved scope's members in order, with the numbers that explain their place.

`list_scope` turns a scope's trust vector into its listing: the breadth of each member's engagers
(established, uncoordinated members, each counted by its vote and by its trust up to a seed's
baseline), discounted when their trust arrives through few peers (diversity) or when their posts
draw less than an average post (volume-neutrality), then eligibility (`min_peers_listed` distinct
engagers, the confidence bar of `confident`, and posts that draw at least `listed_min_draw` of an
average post), order, trusted peers, top topics and trend.
A `Listing` keeps the result as columns and builds `Ranked` entries only when asked.

Guarantees: values closer than a millionth of the top value are ties ordered by member id, so the
order never depends on rounding or on whether the graph was updated in place; the top member has
score 1.0; nobody with fewer than `min_peers_listed` distinct engagers is listed, and the best-placed
eligible member always is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np
import scipy.sparse as sp

from bot.trust.params import COORDINATION_SHOWN, REASONS, Ranked, TrustParams
from bot.trust.solver import Evidence, ScopeGraph, Solved


class Listing(Sequence[Ranked]):
    """A scope's listed members, best first, kept as columns.

    Indexing or iterating yields `Ranked` entries (built on first use); `member_id`, `score`,
    `peers`, `trusted`, `topics`, `trend` (NaN: no previous score) and `pinned` are the columns the
    stored ranking is written from without building an entry per member.
    """

    def __init__(
        self,
        columns: Mapping[str, np.ndarray],
        topics: list[tuple[tuple[int, float], ...]],
        *,
        had_previous: bool,
        listed: int,
        scope_members: int,
        iterations: int,
        converged: bool,
        min_peers: int = 0,
        patterns: dict[int, tuple[float, int]] | None = None,
    ) -> None:
        self.member_id: np.ndarray = columns["member_id"]
        self.score: np.ndarray = columns["score"]
        self.peers: np.ndarray = columns["peers"]
        self.trusted: np.ndarray = columns["trusted"]
        self.trend: np.ndarray = columns["trend"]
        self.pinned: np.ndarray = columns["pinned"]
        self.coordinated: np.ndarray = columns["coordinated"]
        self.reason: np.ndarray = columns["reason"]
        self.topics = topics
        self.had_previous = had_previous
        #: The fewest distinct engagers a member other than the best-placed needed to be listed (the
        #: confidence bar's, or where the whole community's listing was filled up to
        #: `listed_min_depth`, the fewest of a member listed; never below `min_peers_listed`; 0 for an
        #: empty listing).
        self.min_peers = min_peers
        self._columns = columns
        self._facts = dict(
            listed=listed, scope_members=scope_members, iterations=iterations, converged=converged
        )
        self._entries: list[Ranked] | None = None
        #: The whole community's listing only: members it does not list whose engagement shows a
        #: pattern the explanation would name (at least `COORDINATION_SHOWN` of it), by member id:
        #: (that share, the largest pattern's index in `REASONS`). What `/voices member` tells a
        #: moderator about a member who is not listed.
        self.patterns: dict[int, tuple[float, int]] = patterns or {}

    @classmethod
    def empty(cls, patterns: dict[int, tuple[float, int]] | None = None) -> Listing:
        names = ("member_id", "score", "peers", "trusted", "effective", "received", "diversity", "appeal")
        none = {name: np.zeros(0) for name in (*names, "trust", "seed", "pinned", "trend", "coordinated")}
        none["reason"] = np.zeros(0, np.int8)
        return cls(
            none,
            [],
            had_previous=False,
            listed=0,
            scope_members=0,
            iterations=0,
            converged=True,
            patterns=patterns,
        )

    def __len__(self) -> int:
        return len(self.member_id)

    @overload
    def __getitem__(self, index: int) -> Ranked: ...

    @overload
    def __getitem__(self, index: slice) -> list[Ranked]: ...

    def __getitem__(self, index: int | slice) -> Ranked | list[Ranked]:
        return self.entries()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Listing):
            return self is other or self.entries() == other.entries()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def entries(self) -> list[Ranked]:
        """The listing as `Ranked` entries, each with its `why` record."""
        if self._entries is None:
            c = self._columns
            columns = zip(
                c["member_id"].tolist(),
                c["score"].tolist(),
                c["peers"].tolist(),
                c["trusted"].tolist(),
                c["effective"].round(3).tolist(),
                c["received"].tolist(),
                c["diversity"].round(4).tolist(),
                c["appeal"].round(4).tolist(),
                c["trust"].tolist(),
                c["seed"].tolist(),
                c["pinned"].tolist(),
                self.topics,
                c["trend"].tolist(),
                c["coordinated"].round(4).tolist(),
                c["reason"].tolist(),
                strict=True,
            )
            entries = []
            for rank, row in enumerate(columns, start=1):
                member, score, peers, trusted, eff, got, div, app, x, seed, pin, top, trend, co, why_co = row
                why: dict[str, Any] = {
                    "peers": peers,
                    "trusted_peers": trusted,
                    "effective_peers": eff,
                    "received_trust": got,
                    "diversity": div,
                    "appeal": app,
                    "trust": x,
                    "seed": seed,
                    "pinned": pin,
                    "top_topics": [list(t) for t in top],
                    "trend": None if math.isnan(trend) else trend,
                    "coordinated": co,
                    "coordinated_reason": REASONS[why_co],
                    "had_previous": self.had_previous,
                    "rank": rank,
                    **self._facts,
                }
                entries.append(Ranked(member, score, rank, peers, trusted, top, why["trend"], why))
            self._entries = entries
        return self._entries


def _top_topics(
    recv: sp.csr_array | np.ndarray,
    channel_ids: np.ndarray,
    codes: np.ndarray | None,
    listed: np.ndarray,
    max_topics: int,
) -> list[tuple[tuple[int, float], ...]]:
    """Largest channel shares of each listed member's received (decayed, kind-weighted) engagement
    inside the scope's channels (`codes`; None: all). `recv` is per (member, channel code), sparse or
    dense."""
    if max_topics == 0 or len(listed) == 0:
        return [()] * len(listed)
    columns = np.arange(recv.shape[1]) if codes is None else codes
    if isinstance(recv, np.ndarray):
        sub = recv[listed] if codes is None else recv[np.ix_(listed, codes)]
        top = np.argsort(-sub, axis=1, kind="stable")[:, :max_topics]  # ties: lower channel code first
        best = np.take_along_axis(sub, top, axis=1)
        totals = sub.sum(axis=1, keepdims=True)
        shares = np.round(np.divide(best, totals, out=np.zeros_like(best), where=totals > 0), 4)
        channels = channel_ids[columns[top]].tolist()
        counts = np.count_nonzero(best > 0, axis=1).tolist()  # largest first: the positive ones lead
        return [
            tuple(zip(cs[:k], ss[:k], strict=True))
            for cs, ss, k in zip(channels, shares.tolist(), counts, strict=True)
        ]
    sums = recv[listed]
    sums = sp.csr_array(sums if codes is None else sums[:, codes])
    sums.eliminate_zeros()
    sums.sort_indices()
    member_row = np.repeat(np.arange(len(listed)), np.diff(sums.indptr))
    totals = np.bincount(member_row, weights=sums.data, minlength=len(listed))
    order = np.lexsort((sums.indices, -sums.data, member_row))  # per member: largest first, ties by channel
    place = np.arange(len(order)) - sums.indptr[member_row[order]]
    best = order[place < max_topics]
    shares = np.round(sums.data[best] / totals[member_row[best]], 4)
    result: list[list[tuple[int, float]]] = [[] for _ in range(len(listed))]
    channels = channel_ids[columns[sums.indices[best]]]
    for row, channel, share in zip(
        member_row[best].tolist(), channels.tolist(), shares.tolist(), strict=True
    ):
        result[row].append((channel, share))
    return [tuple(r) for r in result]


def posts_counted(said: np.ndarray, settled: np.ndarray | None = None) -> float:
    """All posts of a scope for its average per-post draw, each member's counted up to the median
    poster's: a few prolific posters (spammers) must not make the average post theirs, which would
    set the yardstick they are measured by. Only the posts of `settled` members count (per member;
    None: every poster's) when any of them posted: those who take part in the community's
    engagement. A wave of accounts that each post once and do nothing else would otherwise bring the
    median down to one post, and with it every member's draw, emptying the listing."""
    posting = said > 0
    if settled is not None and (posting & settled).any():
        posting &= settled
    if not posting.any():
        return 0.0
    counts = said[posting]
    return float(np.minimum(counts, np.quantile(counts, 0.5)).sum())


def attention_of(g: ScopeGraph, weight: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per member of `g`: the attention their engagers give them, each engager's share of its own
    engagement times its `weight` (per local member). The share is that of its saturated,
    reciprocity-damped votes (the trust it passes on), or with `params.unsaturated_draw` of its
    engagement before saturation, reciprocity damping kept: saturation bounds what one engager adds
    to a member's trust, but it also makes the draw per post of a member whom the same engagers
    answer on every post fall with every post, which is volume-neutrality's job, done twice."""
    if not params.unsaturated_draw:
        return g.pull(g.scale() * weight)
    w, actor = g.weight, g.actor
    total = np.bincount(actor, weights=w, minlength=g.n)
    given = w * np.divide(weight, total, out=np.zeros(g.n), where=total > 0)[actor]
    rho = params.reciprocity_damping
    mutual = g.mutual()
    if rho > 0 and len(mutual.at):
        at = mutual.at
        forth, back = w[at], w[mutual.at[mutual.reverse]]
        ratio = np.divide(back, forth, out=np.zeros(len(at)), where=forth > 0)
        given[at] *= 1.0 - rho * np.minimum(ratio, 1.0)
    return np.bincount(g.target, weights=given, minlength=g.n)


def post_draw(
    got: np.ndarray,
    said: np.ndarray | None,
    posts_total: np.ndarray | None,
    said_total: float | None = None,
) -> np.ndarray | None:
    """What each member's posts draw against an average post of the scope (received per post / the
    scope's average; not capped), or None where posts are unknown or nobody posted or was engaged.
    `got` is the engagement each member received in the scope, `said` their posts there, and
    `said_total` all posts there (default: the sum of `said`). A member with posts elsewhere but none
    in the scope draws without bound (not affected); one with no recorded post at all draws 0:
    engagement with someone who posted nothing we recorded in the whole window is engagement with
    content we never saw, a bot's or webhook's messages (never recorded) or posts older than the
    window, and neither makes a current voice."""
    if said is None or posts_total is None:
        return None
    total = float(said.sum()) if said_total is None else said_total
    if total <= 0:
        return None
    average = float(got.sum()) / total
    if average <= 0:
        return None
    per_post = np.divide(got, said, out=np.full(len(got), np.inf), where=said > 0)
    per_post[posts_total <= 0] = 0.0
    return per_post / average


def appeal_factor(
    got: np.ndarray,
    said: np.ndarray | None,
    posts_total: np.ndarray | None,
    params: TrustParams,
    said_total: float | None = None,
) -> np.ndarray | None:
    """Volume-neutrality factor min(1, (received per post / the scope's average) ** appeal).

    Engagement scales with exposure: post ten times as much and you collect more replies and more
    distinct repliers by chance alone. What marks a voice people seek out is how much each of their
    posts draws, not how many they post, so a member whose posts draw less than an average post in
    the scope is discounted in proportion. Never a bonus (capped at 1); see `post_draw` for members
    without posts in the scope or at all.
    """
    draw = post_draw(got, said, posts_total, said_total) if params.appeal > 0 else None
    return None if draw is None else np.minimum(1.0, draw) ** params.appeal


def volume_factor(draw: np.ndarray, params: TrustParams) -> np.ndarray:
    """What volume-neutrality leaves of a member's listing value: min(1, draw / appeal_knee) ** appeal,
    so only posts drawing under `appeal_knee` of an average post are discounted."""
    return np.minimum(1.0, draw / params.appeal_knee) ** params.appeal


def wide_engager_weight(out_deg: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per member of a scope: how far it counts as an engager of any one member where engagers are
    counted (breadth, a post's draw here and in `community_evidence`, distinct peers). An account
    that engages more distinct members than the `wide_engagers` quantile of the scope's engaging
    accounts (a reply farmer, an account answering everyone for answers back) chooses nobody in
    particular: it counts as that many members' worth spread over all it engages (quantile /
    distinct targets), every other account fully."""
    weight = np.ones(len(out_deg))
    engaging = out_deg[out_deg > 0]
    if params.wide_engagers <= 0 or not len(engaging):
        return weight
    usual = float(np.quantile(engaging, params.wide_engagers))
    wide = out_deg > usual
    weight[wide] = usual / out_deg[wide]
    return weight


def new_account_share(g: ScopeGraph, vouching: np.ndarray, total: np.ndarray | None = None) -> np.ndarray:
    """Per member of `g`: the share of the engagement they received (decayed, kind-weighted, before
    saturation) that came from accounts not vouching (`vouching` 0: present, or on an account,
    for less than `seed_min_tenure_days`). `total`: the engagement each received, when known."""
    w = g.weight
    if total is None:
        total = np.bincount(g.target, weights=w, minlength=g.n)
    new = np.bincount(g.target, weights=w * (1.0 - vouching[g.actor]), minlength=g.n)
    return np.divide(new, total, out=np.zeros(g.n), where=total > 0)


def new_account_excess(share: np.ndarray, in_deg: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per member: how far `share`, the share of their engagement from new accounts
    (`new_account_share`), exceeds the usual one, that of the median member engaged by at least
    `min_peers_listed` distinct members (`in_deg`), as a share of the rest (0 at or below the usual
    share, 1 when all of it is new). In an established community one member fed by a crowd of
    fresh accounts (alts, bought accounts) stands out. In a young one, where new accounts give the
    usual member half of their engagement or more, a crowd of new accounts is no evidence: none is
    taken."""
    candidates = in_deg >= params.min_peers_listed
    usual = float(np.median(share[candidates])) if candidates.any() else 0.0
    if usual >= 0.5:
        return np.zeros(len(share))
    return np.clip((share - usual) / (1.0 - usual), 0.0, 1.0)


def unengaged_share(
    g: ScopeGraph,
    x: np.ndarray,
    vouching: np.ndarray,
    baseline: float,
    returned: np.ndarray | None,
    total: np.ndarray | None = None,
) -> np.ndarray:
    """Per member of `g`: the share of the engagement they received (decayed, kind-weighted, before
    saturation) that came from accounts the rest of the community gives no standing: each engager
    counted by how far its trust, less what this member itself passed to it (`returned`, per pair of
    `g.mutual()`; None when there are none), falls short of a seed's baseline (`baseline`; 1 with
    none of it, 0 from the baseline on). Accounts too new to vouch are left to
    `new_account_share`. An aged account that nobody but the member it serves engages (a
    sockpuppet kept for years, a bought account) holds no trust but what that member hands it, and
    counts fully here. `total`: the engagement each received, when known."""
    w = g.weight
    lacking = (vouching * (1.0 - np.minimum(1.0, x / baseline)))[g.actor]
    if returned is not None:  # where the member engaged the engager too, its own trust does not count
        mutual = g.mutual()
        a = mutual.actor
        held = np.maximum(x[a] - returned, 0.0)
        lacking[mutual.at] = vouching[a] * (1.0 - np.minimum(1.0, held / baseline))
    if total is None:
        total = np.bincount(g.target, weights=w, minlength=g.n)
    unengaged = np.bincount(g.target, weights=w * lacking, minlength=g.n)
    return np.divide(unengaged, total, out=np.zeros(g.n), where=total > 0)


def unengaged_excess(share: np.ndarray, in_deg: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per member: the discount for engagement from accounts without standing (`unengaged_share`).

    Every community has members nobody engages yet (lurkers who only react, newcomers asking their
    first question), and they give the usual member part of their engagement. Measured beyond that
    usual share (the median member engaged by at least `min_peers_listed` distinct members), as a
    share of the rest, on the insular-group test's scale: from a quarter of it (0) to three
    quarters (1). A genuine voice draws such accounts like anyone else; a member whom a crowd of
    accounts without standing keeps engaging stands out. Where they give the usual member
    `unengaged_usual_max` of their engagement or more (a young community, where hardly anyone has
    standing yet), nothing is taken."""
    candidates = in_deg >= params.min_peers_listed
    usual = float(np.median(share[candidates])) if candidates.any() else 0.0
    if usual >= params.unengaged_usual_max:
        return np.zeros(len(share))
    beyond = np.clip((share - usual) / (1.0 - usual), 0.0, 1.0)
    return np.clip(2.0 * beyond - 0.5, 0.0, 1.0)


#: The crowd test (`crowd_per_post`) measures against the established voices, and at least this
#: many of the best-valued members: in a small community the established voices are one or two, and
#: a bait poster far ahead of everyone would be its own yardstick.
_CROWD_YARDSTICK = 20
#: The draw floor's exemption (`draw_floor_below_voices`) still asks this share of the floor.
_EXEMPT_DRAW = 2.0 / 3.0
#: Members who fill a short listing below the confidence bar (`listed_min_depth`) have posts that
#: draw at least this share of an average post.
_FILL_DRAW = 0.5
#: The most members not listed whose pattern the whole community's listing keeps (`Listing.patterns`):
#: patterns are rare, and a moderator asks about the members whom many engage.
_PATTERNS_KEPT = 2000
#: ... and the patterns a member with the confidence bar's breadth in established engagers may show:
#: those of accounts the established count leaves out (woken together, devoted to the member, too new
#: to vouch, without standing), and engagers who engage no one else (an expert's newcomers who asked
#: once: the breadth is in the established engagers besides them). Patterns of exchange among the
#: engagers (a group, engagers who engage each other) and of their arrival (on one day, in one week,
#: within a few weeks) keep them out.
_COUNTED_OUT = np.array([REASONS.index(r) for r in ("woke", "one", "new", "unengaged", "lone")], np.int8)
#: The patterns that bar a member from a topic listing (`topic_max_coordinated`), and from the whole
#: community's (`community_max_coordinated`): accounts acting for the member.
_TOPIC_BARRED = np.array([REASONS.index(r) for r in ("woke", "one", "group", "new")], np.int8)
#: ... when their share is also at least this many times the community's usual one (the median
#: among the members who take part in it).
_TOPIC_BEYOND = 2.0
#: `closed_engagers`: the members of a scope whose engagers are looked at (the best-valued ones),
#: and about how many of each member's engagers (a sample chosen by a hash of the engager's id).
_CLOSED_CANDIDATES = 200
_CLOSED_SAMPLE = 24
#: ... and the least usual share: below it, engagers linked to each other are no evidence.
_CLOSED_FLOOR = 0.05
_HASH = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))


def member_draws(member_id: np.ndarray) -> np.ndarray:
    """A draw in [0, 1) per member from a hash of its member id: samples chosen by it never depend
    on how a graph was built."""
    with np.errstate(over="ignore"):
        mixed = member_id.astype(np.uint64) * _HASH[0]
        mixed ^= mixed >> np.uint64(29)
        mixed *= _HASH[1]
        mixed ^= mixed >> np.uint64(32)
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def pairs_within(group: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of positions in the same group, each once, for `group` sorted (`size`: the
    positions per group, `np.bincount(group)`): a position with each of its group's positions
    after it, as two aligned arrays of positions."""
    rank = np.arange(len(group)) - (np.cumsum(size) - size)[group]
    after = size[group] - 1 - rank
    first = np.repeat(np.arange(len(group)), after)
    block = np.cumsum(after) - after  # where each position's pairs start
    return first, first + 1 + np.arange(len(first)) - block[first]


def engager_links(
    g: ScopeGraph, ids: np.ndarray, members: np.ndarray, sample: int, links: ScopeGraph | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per member of `members` (local ids of `g`; `ids` their member ids per local member): how far
    the accounts engaging them engage each other, and the share of what they received that came
    from accounts engaging (or engaged by) another of their engagers. For the first, each engager
    counts by the share of the member's other engagers it engaged or was engaged by, weighted by
    what it gave the member. Of a member with more than `sample` engagers, about that many are
    looked at, chosen by a hash of the engager's member id (so the choice never depends on how the
    graph was built). 0 for members with fewer than two engagers looked at.

    Whether two engagers engaged each other is read from `links` (the community-wide graph, for a
    channel's `g`: members who trade engagement do it wherever they meet), or from `g` itself."""
    out, linked = np.zeros(len(members)), np.zeros(len(members))
    if not len(members):
        return out, linked
    place = np.full(g.n, -1, np.int64)
    place[members] = np.arange(len(members))
    at = np.flatnonzero(place[g.target] >= 0)
    at = at[g.weight[at] > 0]
    row = place[g.target[at]]
    count = np.bincount(row, minlength=len(members))
    many = count[row] > sample
    if many.any():
        # Of a member with more than `sample` engagers, those whose draw is below sample /
        # engagers are looked at.
        drawn = member_draws(ids)
        keep = np.ones(len(at), np.bool_)
        keep[many] = drawn[g.actor[at[many]]] < sample / count[row[many]]
        at, row = at[keep], row[keep]
    order = np.argsort(row, kind="stable")
    at, row = at[order], row[order]
    actor, weight = g.actor[at].astype(np.int64), g.weight[at]
    size = np.bincount(row, minlength=len(members))
    first, second = pairs_within(row, size)  # every pair of looked-at engagers of the same member
    # Which of those pairs engaged each other (either way): the scope's pairs among the engagers
    # looked at, as sorted keys of unordered pairs, and each pair looked up among them.
    read = g
    if links is not None and links is not g:  # the engagers as local ids of the graph links are read from
        read, actor = links, links.locals_of(g.members[actor])
    inside = np.zeros(read.n, np.bool_)
    inside[actor[actor >= 0]] = True
    among = read.pairs_of(inside)
    among = among[inside[read.target[among]] & (read.weight[among] > 0)]
    a, b = read.actor[among].astype(np.int64), read.target[among].astype(np.int64)
    keys = np.sort((np.minimum(a, b) << 32) | np.maximum(a, b))
    a, b = actor[first], actor[second]
    asked = (np.minimum(a, b) << 32) | np.maximum(a, b)
    hit = np.zeros(len(asked), np.bool_)
    if len(keys):
        hit = keys[np.minimum(np.searchsorted(keys, asked), len(keys) - 1)] == asked
    links = np.bincount(first[hit], minlength=len(row)) + np.bincount(second[hit], minlength=len(row))
    share = np.divide(links, size[row] - 1, out=np.zeros(len(row)), where=size[row] > 1)
    given = np.bincount(row, weights=weight, minlength=len(members))
    closed = np.bincount(row, weights=weight * share, minlength=len(members))
    np.divide(closed, given, out=out, where=given > 0)
    from_linked = np.bincount(row, weights=weight * (links > 0), minlength=len(members))
    np.divide(from_linked, given, out=linked, where=given > 0)
    return out, linked


def answering(g: ScopeGraph, in_deg: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per member: whether they engaged at least `draw_floor_engaged_back` of their engagers in turn
    (pairs retracted to zero count as absent): a helper answers, a regular in conversation answers,
    and a spammer whose posts many members answer answers nobody."""
    mutual = g.mutual()
    both = (g.weight[mutual.at] > 0) & (g.weight[mutual.at[mutual.reverse]] > 0)
    return np.bincount(mutual.target[both], minlength=g.n) >= params.draw_floor_engaged_back * in_deg


def established_voices(value: np.ndarray, eligible: np.ndarray, params: TrustParams) -> np.ndarray:
    """The scope's established voices (see `confident`): the eligible members whose listing value
    is at least half the top one, or at least the best `established_share` of the eligible."""
    values = value[eligible]
    top = float(values.max())
    k = len(values) - max(1, int(params.established_share * len(values)))  # the k-th best, from the top
    at_least = float(np.partition(values, k)[k])
    return eligible & (value >= min(0.5 * top, at_least))


def confident(
    value: np.ndarray, peers: np.ndarray, eligible: np.ndarray, params: TrustParams
) -> tuple[np.ndarray, int]:
    """Who carries enough evidence to be listed, measured against the scope's own established voices.

    In a small community the listing otherwise runs down to members whose standing rests on five to
    ten engagers, where a manipulator's real engagement (an alt owner's, a spammer's) is as large as a
    genuine member's and the order among them is noise. The established voices are the eligible
    members whose listing value is at least half the top one; a member is listed only with at least
    `listed_min_value` times their median value and `listed_min_peers` times their median number of
    distinct engagers. Relative bars scale with the community: a large community's established
    voices have hundreds of engagers and so do the members worth listing there. The established
    voices are also at least the best `established_share` of the eligible members: a community's
    star, far ahead of everyone else, would otherwise set both bars alone and cut the listing down
    to a handful. The best-placed member always passes. Also returns the fewest distinct engagers
    a member other than the best-placed needs (never fewer than `min_peers_listed`): what a member
    who is not listed is told it takes.
    """
    ok = np.ones(len(value), np.bool_)
    if not eligible.any() or (params.listed_min_value <= 0 and params.listed_min_peers <= 0):
        return ok, params.min_peers_listed
    established = established_voices(value, eligible, params)
    top = float(value[eligible].max())
    # Values within a millionth of the top one are ties (see the ordering below): so are the bars.
    ok &= value >= params.listed_min_value * float(np.median(value[established])) - 1e-6 * top
    fewest = params.listed_min_peers * float(np.median(peers[established]))
    ok &= peers >= fewest
    ok |= eligible & (value >= top)
    return ok, max(params.min_peers_listed, math.ceil(fewest))


def list_scope(
    g: ScopeGraph,
    solved: Solved,
    *,
    ids: np.ndarray,
    evidence: Evidence,
    pinned: np.ndarray,
    params: TrustParams,
    codes: np.ndarray | None,
    gone: np.ndarray | None = None,
    channel_ids: np.ndarray,
    recv: sp.csr_array | np.ndarray,
    posts_total: np.ndarray | None,
    said: np.ndarray | None,
    previous: Mapping[int, float] | None,
    limit: int | None,
    community: ScopeGraph | None = None,
) -> Listing:
    """Listing value, eligibility, order and explanation of every member of a solved scope.

    `codes` are the scope's channel codes (None: all), `channel_ids` the channel of each code,
    `recv` the received engagement per (member, channel code) for the topics, `posts_total` and
    `said` the decayed posts per member in total and inside the scope (None: unknown) for
    volume-neutrality, `community` the community-wide graph (for a channel or category: where
    `closed_engagers` reads whether engagers engage each other; None: the scope's own graph), `gone`
    per member whether they left the community (not listed; None: nobody did)."""
    n = g.n
    scale, x = solved.scale, solved.x
    # Community-wide per-member inputs, renumbered as the graph's members.
    said_total = None if said is None else posts_counted(said, evidence.settled)
    ids, seed_weight, pinned = g.gather(ids, -1), g.gather(evidence.seed_weight), g.gather(pinned, False)
    posts_total = None if posts_total is None else g.gather(posts_total)
    said = None if said is None else g.gather(said)
    # Trust each peer passes on, minus what the member itself had just passed to that peer: your own
    # trust coming straight back (a conversation partner, an alt you feed) is not recognition.
    # Summed with sparse products over all pairs (what each peer passes on, d * x_a * share_ab, and
    # its square), then corrected on the mutual pairs only, where the member's own trust comes back.
    d = params.damping
    xs = x * scale
    vouching = np.ones(n) if evidence.vouching is None else g.gather(evidence.vouching)
    keep = g.gather(evidence.keep, 1.0) if evidence.keep is not None else np.ones(n)
    # How far each counts where engagers are counted: coordinated accounts (`keep`) and accounts
    # that engage nearly everyone (`wide_engagers`) count for less.
    counted = keep * wide_engager_weight(g.out_deg, params)
    columns = [xs]
    # The trust a seed holds from its share of the teleport alone: what an engager needs to count
    # fully in breadth, and to have standing of its own (`unengaged_share`).
    voting = np.count_nonzero((seed_weight > 0) & (g.out_deg > 0))
    baseline = (1.0 - d) / max(voting, 1)
    if posts_total is not None and not params.unsaturated_draw:  # the attention each gives (below)
        columns.append(scale * vouching)
    if params.breadth:
        # Breadth: the engagers, each counted by its vote (saturated, reciprocity-damped), if present
        # for a while (`vouching`), not coordinated (`keep`), and holding at least the trust that a
        # seed's share of the teleport alone gives it (below that, in proportion: accounts no trusted
        # member engages count for nothing). Trust beyond that baseline adds nothing: a member is a
        # voice because many established members seek them out, not because one highly trusted
        # member does, which in a small community would let the few most trusted members decide.
        columns.append(vouching * counted * np.minimum(1.0, x / baseline))
    pulled = g.pull(np.column_stack(columns))
    received = pulled[:, 0] * d
    if posts_total is None:
        attention = g.got
    elif params.unsaturated_draw:
        attention = attention_of(g, vouching * counted, params)  # `keep` as `scale` holds it, and `wide`
    else:
        attention = pulled[:, 1]
    breadth = pulled[:, -1] if params.breadth else None
    squares = g.pull(xs * xs, squared=True) * (d * d)
    plain = received.copy()
    mutual = g.mutual()
    returned = None  # per mutual pair: the trust the target passed straight back to the actor
    if len(mutual):
        a = mutual.actor
        xa = x[a]
        share = g.vote[mutual.at] * scale[a]
        passed = d * xa * share
        returned = passed[mutual.reverse]
        kept = d * np.maximum(xa - returned, 0.0) * share
        received -= np.bincount(mutual.target, weights=passed - kept, minlength=n)
        squares -= np.bincount(mutual.target, weights=passed * passed - kept * kept, minlength=n)
        # What cancels out entirely must come out as zero, not as rounding dust.
        received[received <= plain * 1e-9] = 0.0
        squares[received <= 0] = 0.0
    effective = np.divide(received * received, squares, out=np.zeros(n), where=squares > 0)
    diversity = -np.expm1(-effective / params.diversity_scale)
    value = (received if breadth is None else breadth) * diversity
    # What a member's posts draw: the attention each engager gives them, i.e. its share of the
    # engager's (saturated) engagement, so an account that engages with everyone adds little to
    # anyone's draw; with the engager's coordination discount (`keep`), so engagement from
    # coordinated accounts adds little either; and only from accounts present for a while
    # (`vouching`): a batch of fresh accounts cannot make a member's posts look sought out.
    got = attention
    coordinated = np.zeros(n)
    reason = np.zeros(n, np.int8)
    # The share of what each member received from accounts that woke up together around them, and
    # the discount for accounts without standing (below): neither counts among distinct peers.
    woke = unengaged = np.zeros(n)
    if evidence.coordinated is not None and evidence.woke is not None and evidence.reason is not None:
        # Engagement from coordinated accounts does not count toward what a member's posts draw, and
        # trust that arrived from accounts that became active together is taken off.
        coordinated, reason = g.gather(evidence.coordinated), g.gather(evidence.reason)
        woke = g.gather(evidence.woke)
        got = got * (1.0 - woke)
        own = g.gather(evidence.own_keep, 1.0) if evidence.own_keep is not None else keep
        if params.breadth and params.coordinated_once:
            # Breadth counts each engager as far as it is kept (`counted`): engagement from
            # coordinated accounts is left out there already, and not taken off again by its share
            # (`coordinated_once`). What breadth does not leave out is: accounts that woke up
            # together around the member (they count by their standing), and, as evidence about the
            # member they serve, accounts devoted to them (below).
            value = value * (1.0 - woke) * own
        else:
            value = value * (1.0 - coordinated) * own
        if evidence.devoted is not None and params.devoted_weight > 1.0:
            # Engagement from accounts devoted to this member is taken off again from what remains
            # (`devoted_weight`): alts and boosters serve the member they engage.
            value = value * (1.0 - g.gather(evidence.devoted)) ** (params.devoted_weight - 1.0)
    total = None  # the engagement each member received, for the shares below
    if evidence.vouching is not None and (params.new_accounts or params.unengaged_accounts):
        total = np.bincount(g.target, weights=g.weight, minlength=n)
    if params.new_accounts and evidence.vouching is not None:
        # Engagement mostly from accounts too new to vouch, far beyond what is usual in the scope.
        share = new_account_share(g, vouching, total)
        excess = new_account_excess(share, g.in_deg, params)
        value = value * (1.0 - excess)
        # Shown like coordinated engagement (its share of what the member received) where the
        # excess alone is as large as an explanation speaks up for and it is the largest pattern.
        larger = (excess >= COORDINATION_SHOWN) & (share > coordinated)
        coordinated = np.where(larger, share, coordinated)
        reason = np.where(larger, np.int8(REASONS.index("new")), reason).astype(np.int8)
    if params.unengaged_accounts and evidence.vouching is not None:
        # Engagement mostly from accounts nobody else gives standing, far beyond the usual share.
        share = unengaged_share(g, x, vouching, baseline, returned, total)
        excess = unengaged = unengaged_excess(share, g.in_deg, params)
        value = value * (1.0 - excess)
        # Shown where nothing more specific is: accounts devoted to one member or in a group often
        # have no standing either, and the pattern they form says more than their standing does.
        shown = (excess >= COORDINATION_SHOWN) & (coordinated < COORDINATION_SHOWN)
        coordinated = np.where(shown, share, coordinated)
        reason = np.where(shown, np.int8(REASONS.index("unengaged")), reason).astype(np.int8)
    if evidence.day_share is not None and evidence.day_excess is not None:
        # Engagement that came on a single day, far beyond the usual share (`single_day`): shown
        # where the discount is as large as an explanation speaks up for and it is the largest
        # pattern.
        excess, share = g.gather(evidence.day_excess), g.gather(evidence.day_share)
        value = value * (1.0 - excess)
        larger = (excess >= COORDINATION_SHOWN) & (share > coordinated)
        coordinated = np.where(larger, share, coordinated)
        reason = np.where(larger, np.int8(REASONS.index("day")), reason).astype(np.int8)
    for name, share_of, excess_of, power in (
        ("burst", evidence.burst_share, evidence.burst_excess, 1.0),  # `new_engager_burst`
        ("top", evidence.top_share, evidence.top_excess, 1.0),  # `top_recipient`
        ("weeks", evidence.weeks_share, evidence.weeks_excess, params.arrival_weeks_power),  # `arrival_weeks`
    ):
        if share_of is not None and excess_of is not None:
            # Engagers that arrived in one week, or that engage this member more than anyone else,
            # far beyond the usual share: shown (as that share of the engagers) where the discount
            # is as large as an explanation speaks up for and it is the largest pattern. Each
            # discount is taken `power` times over (the weeks': `arrival_weeks_power`).
            excess, share = g.gather(excess_of), g.gather(share_of)
            value = value * (1.0 - excess) ** power
            larger = (excess >= COORDINATION_SHOWN) & (share > coordinated)
            coordinated = np.where(larger, share, coordinated)
            reason = np.where(larger, np.int8(REASONS.index(name)), reason).astype(np.int8)
    draw = post_draw(got, said, posts_total, said_total) if params.appeal > 0 else None
    appeal = None if draw is None else np.minimum(1.0, draw) ** params.appeal
    if draw is not None:
        # Discounted only below `appeal_knee` of an average post; the floors below measure the draw.
        value = value * volume_factor(draw, params)

    in_deg, out_deg = g.in_deg, g.out_deg
    # The distinct engagers present for a while and uncoordinated (`vouching`, `counted`), without
    # those that woke up together around the member, nor those without standing as far as they are
    # beyond the usual share (`unengaged_accounts`): a crowd of dormant or aged accounts is no crowd
    # of peers. (Pairs retracted to zero stay in a graph updated in place: they count as absent.)
    counts = (vouching * counted)[g.actor] * (g.weight > 0)
    established = np.bincount(g.target, weights=counts, minlength=n) * (1.0 - woke) * (1.0 - unengaged)
    if params.peers_exponent > 0:
        # Many distinct peers: breadth weighs each engager by its trust, so a member whom a few
        # highly trusted members engage can match one whom many established members do. The value
        # is also multiplied by the established engagers (above), to a small power: among members
        # of alike standing, the one more members seek out ranks higher.
        value = value * np.power(established, params.peers_exponent)
    if params.closed_engagers:
        # Engagers who engage each other far more than the usual well-placed member's engagers do (a
        # ring of members trading engagement, however much they also engage others): from
        # `closed_engagers[0]` times the usual (nothing taken) to `[1]` times (everything), among
        # the best-valued members (`_CLOSED_CANDIDATES`). In a channel or category, whether they
        # engage each other is read in the whole community (`community`): a ring trades engagement
        # wherever its members meet. Shown where the discount is as large as an explanation speaks
        # up for and it is the largest pattern.
        lo, full = params.closed_engagers
        ranked = np.flatnonzero((in_deg >= params.min_peers_listed) & (value > 0))
        if len(ranked) > _CLOSED_CANDIDATES:
            ranked = ranked[np.argpartition(-value[ranked], _CLOSED_CANDIDATES)[:_CLOSED_CANDIDATES]]
        if len(ranked):
            closed, linked = engager_links(g, ids, ranked, _CLOSED_SAMPLE, community)
            usual = max(float(np.median(closed)), _CLOSED_FLOOR)
            excess = np.clip((closed / usual - lo) / (full - lo), 0.0, 1.0)
            value[ranked] *= 1.0 - excess
            # Shown as the share of what the member received from engagers linked to another.
            larger = (excess >= COORDINATION_SHOWN) & (linked > coordinated[ranked])
            coordinated[ranked] = np.where(larger, linked, coordinated[ranked])
            reason[ranked] = np.where(larger, np.int8(REASONS.index("closed")), reason[ranked])
    active = int(np.count_nonzero((in_deg > 0) | (out_deg > 0)))
    eligible = (in_deg >= params.min_peers_listed) & (value > 0)
    away = None if gone is None else g.gather(gone, False)
    if away is not None and params.bars_among_present:
        # Who left or went idle is listed nowhere (below), nor one of the established voices the
        # bars and yardsticks are measured with (`bars_among_present`).
        eligible &= ~away
    if evidence.crowd is not None and params.crowd_per_post and eligible.any():
        # Posts that each draw a crowd far beyond what the established voices' posts draw
        # (`crowd_per_post`): distinct (engager, day) pairs per post, community-wide, against the
        # median of this scope's established voices and best-valued members (`_CROWD_YARDSTICK`)
        # who posted. Engagement bait ("react to vote",
        # "react to enter") brings most of the community to each of a few posts; a voice's posts
        # each draw their share of it. Shown where the discount is as large as an explanation
        # speaks up for and it is the largest pattern, as the part of a post's crowd beyond what a
        # voice's post draws.
        lo, full = params.crowd_per_post
        crowd = g.gather(evidence.crowd)
        voices = established_voices(value, eligible, params)
        best = np.flatnonzero(eligible)
        if len(best) > _CROWD_YARDSTICK:  # at least the best-valued few: one far ahead sets no median
            best = best[np.argpartition(-value[best], _CROWD_YARDSTICK)[:_CROWD_YARDSTICK]]
        voices[best] = True
        voices &= crowd > 0
        usual = float(np.median(crowd[voices])) if voices.any() else 0.0
        if usual > 0:
            # Not for a member the moderators pinned: they vouch that the crowd is the community's.
            excess = np.where(pinned, 0.0, np.clip((crowd / usual - lo) / (full - lo), 0.0, 1.0))
            value = value * (1.0 - excess)
            eligible &= value > 0
            share = 1.0 - np.minimum(1.0, usual / np.maximum(crowd, 1e-300))  # beyond a voice's post
            larger = (excess >= COORDINATION_SHOWN) & (share > coordinated)
            coordinated = np.where(larger, share, coordinated)
            reason = np.where(larger, np.int8(REASONS.index("crowd")), reason).astype(np.int8)
    if evidence.drawn is not None and params.crowd_days:
        # Members written to only on the days their posts drew a crowd (`crowd_days`): the share
        # of the members who wrote to them whose every reply, thread post or comment to them came
        # on such a day. "Reply to enter" brings many members to write once, on those days; the
        # members who write to a voice come back on other days. Shown as that share where the
        # discount is as large as an explanation speaks up for and it is the largest pattern. Not
        # for a member the moderators pinned.
        lo, full = params.crowd_days
        drawn = g.gather(evidence.drawn)
        excess = np.where(pinned, 0.0, np.clip((drawn - lo) / (full - lo), 0.0, 1.0))
        value = value * (1.0 - excess)
        eligible &= value > 0
        larger = (excess >= COORDINATION_SHOWN) & (drawn > coordinated)
        coordinated = np.where(larger, drawn, coordinated)
        reason = np.where(larger, np.int8(REASONS.index("drawn")), reason).astype(np.int8)
    if evidence.lone is not None and params.lone_engagers:
        # Engagers most of whom engage no one else in the community (`lone_engagers`): accounts that
        # come to one member's threads from elsewhere and take part in nothing else here. Measured
        # beyond the usual member's share, as a share of the rest: where engaging one member only
        # is the community's way (everyone asks the one helper), it is no one's pattern. Shown as
        # the share where the discount is as large as an explanation speaks up for and it is the
        # largest pattern. Not for a member the moderators pinned.
        lo, full = params.lone_engagers
        lone = g.gather(evidence.lone)
        usual = min(evidence.usual_lone, 1.0 - 1e-9)
        beyond = np.clip((lone - usual) / (1.0 - usual), 0.0, 1.0)
        excess = np.where(pinned, 0.0, np.clip((beyond - lo) / (full - lo), 0.0, 1.0))
        value = value * (1.0 - excess)
        eligible &= value > 0
        larger = (excess >= COORDINATION_SHOWN) & (lone > coordinated)
        coordinated = np.where(larger, lone, coordinated)
        reason = np.where(larger, np.int8(REASONS.index("lone")), reason).astype(np.int8)
    if evidence.apart is not None and evidence.unanswered is not None and params.apart_group:
        # Keeping to a group and leaving the rest unanswered (`apart_group`): an account whose own
        # engagement is exchange within a group that exchanges with each other, and who never
        # answers the members its posts draw, takes the community's attention without taking part
        # in it. Shown as the share of what the member received that went unanswered, where the
        # discount is as large as an explanation speaks up for and it is the largest pattern. Not
        # for a member the moderators pinned.
        lo, full = params.apart_group
        excess = np.where(pinned, 0.0, np.clip((g.gather(evidence.apart) - lo) / (full - lo), 0.0, 1.0))
        value = value * (1.0 - excess)
        eligible &= value > 0
        left = g.gather(evidence.unanswered)
        larger = (excess >= COORDINATION_SHOWN) & (left > coordinated)
        coordinated = np.where(larger, left, coordinated)
        reason = np.where(larger, np.int8(REASONS.index("apart")), reason).astype(np.int8)
    if draw is not None and params.voices_yardstick and codes is None and eligible.any():
        # Where the established voices' posts draw less than an average post, theirs is the
        # yardstick (`voices_yardstick`), for members whose engagement shows no pattern the
        # explanation names: a community where nearly everyone posting is genuine has members whose
        # few posts each draw much, and an expert's many answers, each thanked once, fall under the
        # draw floor against them. Where volume collectors post, they bring the average down below
        # the voices' draw and the yardstick stays the average. Value, floors and fill follow.
        voices_draw = float(np.median(draw[established_voices(value, eligible, params)]))
        if 0 < voices_draw < 1:
            # (Where a factor was 0, the draw stays 0: who is eligible does not change.)
            before = volume_factor(draw, params)
            draw = np.where(coordinated < COORDINATION_SHOWN, draw / voices_draw, draw)
            value = value * np.divide(volume_factor(draw, params), before, out=np.ones(n), where=before > 0)
            appeal = np.minimum(1.0, draw) ** params.appeal
    sure, min_peers = confident(value, in_deg, eligible, params)
    barring = codes is not None or params.community_max_coordinated
    if barring and params.topic_max_coordinated is not None:
        # In a channel or category, and with `community_max_coordinated` in the whole community,
        # whose engagement there came mostly from accounts acting for them is not listed
        # (`topic_max_coordinated`): among a topic's few members, or the members of a community
        # whose history is a day or two, a reaction ring's or a pod's member can be the best-placed,
        # whom the confidence bar always lets through. Only far beyond the community's usual share
        # (`_TOPIC_BEYOND` times `usual_coordinated`, the median among the members who take part in
        # it): a small community where everyone engages everyone is one group, and that is no one's
        # pattern. (A topic's own median would not do: a ring can be most of one.)
        bar = max(params.topic_max_coordinated, _TOPIC_BEYOND * evidence.usual_coordinated)
        barred = np.isin(reason, _TOPIC_BARRED) & (coordinated >= bar) & ~pinned  # a pin lifts it
        eligible &= ~barred
        sure &= ~barred
    # Below the confidence bar, kept aside to fill the whole community's listing up to
    # `listed_min_depth` (below): what they received shows no pattern the explanation names, and
    # their posts draw at least half of an average post. Or they have the breadth the confidence
    # bar asks for (`min_peers`) in established engagers alone (present for a while, uncoordinated,
    # neither woken together nor without standing): then a low draw (down to the listing's draw
    # floor, below) does not keep them out, nor a pattern whose engagers that count already leaves
    # out (`_COUNTED_OUT`). An expert who answers at length draws less per post than a member
    # posting now and then, and falls under the value bar a community's stars set; in a young
    # community, newcomers asking them their first question are accounts nobody engages yet.
    broad = established >= min_peers
    unsure = eligible & ~sure & ((coordinated < COORDINATION_SHOWN) | (broad & np.isin(reason, _COUNTED_OUT)))
    if appeal is not None:
        unsure &= (appeal >= _FILL_DRAW**params.appeal) | broad
    eligible &= sure
    if appeal is not None and params.listed_min_draw > 0 and eligible.any():
        # Whose posts draw far less than an average post is not listed, however many members
        # engage them: that engagement is what volume collects (spam, self-boosting). Except, in
        # the whole community, a member whose value, this low draw counted, still matches its
        # established voices (`draw_floor_below_voices`): a helper who answers every question
        # draws a thank-you now and then per answer, from most of the community. (A channel's few
        # established voices are no such yardstick: there the floor applies to everyone.)
        floor = params.listed_min_draw**params.appeal  # the floor is on the draw, not on its factor
        exempt = np.zeros(len(value), np.bool_)
        floor_each = np.full(n, floor)
        if codes is None:
            # Whom the floor spares or lowers (below) engages a share of their engagers in turn
            # (`draw_floor_engaged_back`): a helper answers, a regular in conversation answers, and a
            # spammer whose posts reach most members over months answers nobody.
            answers = answering(g, in_deg, params)
            if params.draw_floor_below_voices:
                voices = float(np.median(value[established_voices(value, eligible, params)]))
                exempt = (value >= voices) & (appeal >= _EXEMPT_DRAW * floor) & answers
            if params.draw_floor_reach is not None:
                # A member most of the community engages is held to a lower floor
                # (`draw_floor_reach`): in a few weeks, exposure brings a spammer's or a
                # broadcaster's posts some engagement from the few who answer anything, not from
                # most members. Engagers count as distinct peers do, so a crowd of fresh, woken or
                # coordinated accounts reaches nobody; the members who take part are counted
                # plainly, whatever their standing.
                reached = (established >= params.draw_floor_reach * active) & answers
                floor_each[reached] = (params.draw_floor_reached * params.listed_min_draw) ** params.appeal
        drawn = appeal >= floor_each
        if evidence.draw is not None:
            # Nor, in a channel or category, whose posts draw that little in the whole community: in
            # one channel a couple of engagers who engage little else there can make any member's
            # posts look sought out (a spammer's friends, an account that engages everyone). In the
            # whole community that draw is the member's own before the voices' yardstick: whom the
            # yardstick lifts over the floor must also answer their engagers (`answering`), as a
            # voice in conversation does and a spammer whose posts reach most members does not.
            community_drawn = g.gather(evidence.draw, 1.0) >= floor_each
            drawn &= (community_drawn | answers) if codes is None else community_drawn
        kept = drawn | exempt
        floored = eligible & ~kept  # listed by the confidence bar, left out by the floor alone
        eligible &= kept
        unsure &= kept
        if codes is None and params.fill_below_floor:
            # Whom the confidence bar lists and only the floor left out fills a short listing,
            # ordered by value like everyone listed (`fill_below_floor`), if their breadth is the
            # bar's in established engagers, they answer, no pattern is named, and their posts draw
            # what the floor's exemption asks: a small community's regular who posts all day and
            # whom a third of its members answer, where members with a handful of engagers filled it.
            unsure |= (
                floored
                & broad
                & answers
                & (coordinated < COORDINATION_SHOWN)
                & (appeal >= _EXEMPT_DRAW * floor)
            )
    if away is not None:
        # Who left the community is no voice of it, wherever their standing was earned; what they
        # gave while here still counts (above).
        eligible &= ~away
        unsure &= ~away
    short = params.listed_min_depth - int(np.count_nonzero(eligible))
    if codes is None and short > 0 and unsure.any():
        # The whole community's listing is not cut below `listed_min_depth` by the confidence
        # bar: the best-valued of the members it left out fill it up (ordered as the listing
        # orders, below: ties within a millionth of the top by member id).
        below = np.flatnonzero(unsure)
        key = np.round(value[below] * (1e6 / value[eligible | unsure].max()))
        filled = below[np.lexsort((ids[below], -key))[:short]]
        eligible[filled] = True
        # What a member needs at present (`Listing.min_peers`): as many engagers as the fewest
        # engaged of those listed.
        min_peers = min(min_peers, int(in_deg[filled].min()))
    # What a moderator is told about a member the whole community's listing leaves out.
    patterns: dict[int, tuple[float, int]] = {}
    if codes is None:
        patterns = _unlisted_patterns(eligible, away, in_deg, coordinated, reason, ids, params)
    listed = np.flatnonzero(eligible)
    n_listed = len(listed)
    if n_listed == 0 or limit == 0:
        return Listing.empty(patterns)
    # Order by value, then member id. Values closer than a millionth of the top one are ties: the
    # trust vector is only that precise (the iteration stops at an L1 change of `tol`), and the
    # order of equals must not depend on rounding (nor on whether they were updated in place).
    rank_key = np.round(value[listed] * (1e6 / value[listed].max()))
    if limit is not None and limit < n_listed:  # sort only what can make the cut (ties kept)
        cut = np.partition(rank_key, n_listed - limit)[n_listed - limit]
        keep = rank_key >= cut
        listed, rank_key = listed[keep], rank_key[keep]
    order = np.lexsort((ids[listed], -rank_key))
    listed = listed[order][:limit]
    # Trusted peers: engagers who are seeds or hold at least the average trust, for the listed only.
    trusted = ((seed_weight >= 0.5) | (x >= 1.0 / max(active, 1))).astype(np.float64)
    trusted_in = g.count_in(listed, trusted)
    member = ids[listed]
    if previous:
        before = np.array([previous.get(m, np.nan) for m in member.tolist()], np.float64)
        before[before <= 0] = np.nan
    else:
        before = np.full(len(listed), np.nan)
    score = np.minimum(value[listed] / value[listed[0]], 1.0)  # ties at the top: 1 too
    columns = {
        "member_id": member,
        "score": score,
        "peers": in_deg[listed],
        "trusted": trusted_in.round().astype(np.int64),
        "effective": effective[listed],
        "received": received[listed],
        "diversity": diversity[listed],
        "appeal": appeal[listed] if appeal is not None else np.ones(len(listed)),
        "trust": x[listed],
        "seed": seed_weight[listed] > 0,
        "pinned": pinned[listed],
        "trend": score / before - 1.0,
        # Rounded as the entries show it, so a stored explanation's percentage is the entry's.
        "coordinated": coordinated[listed].round(4),
        "reason": reason[listed],
    }
    return Listing(
        columns,
        _top_topics(recv, channel_ids, codes, g.members[listed], params.max_topics),
        had_previous=previous is not None,
        listed=n_listed,
        scope_members=active,
        iterations=solved.iterations,
        converged=solved.converged,
        min_peers=min_peers,
        patterns=patterns,
    )


def _unlisted_patterns(
    eligible: np.ndarray,
    away: np.ndarray | None,
    in_deg: np.ndarray,
    coordinated: np.ndarray,
    reason: np.ndarray,
    ids: np.ndarray,
    params: TrustParams,
) -> dict[int, tuple[float, int]]:
    """Members the listing leaves out, present and with the distinct engagers a listing asks at
    least, whose engagement shows a pattern the explanation would name: by member id, (its share,
    its index in `REASONS`). The most engaged first, at most `_PATTERNS_KEPT` of them."""
    shown = ~eligible & (in_deg >= params.min_peers_listed) & (coordinated >= COORDINATION_SHOWN) & (ids >= 0)
    if away is not None:
        shown &= ~away
    who = np.flatnonzero(shown)
    if len(who) > _PATTERNS_KEPT:
        who = who[np.argsort(-in_deg[who], kind="stable")[:_PATTERNS_KEPT]]
    return {
        int(m): (round(float(c), 4), int(r))
        for m, c, r in zip(ids[who].tolist(), coordinated[who].tolist(), reason[who].tolist(), strict=True)
    }
