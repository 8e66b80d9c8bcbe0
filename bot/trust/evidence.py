"""Evidence beyond the engagement pairs: standing the community built over time, and coordination.

Run once per ranking on the community-wide graph (`community_evidence`), before any scope is
solved:

- Earned seeds (`standing_of`): tenure and account age only make a member eligible to seed trust
  (`seed_weights`); the weight is the share of the periods since they arrived in which they were
  active, times the share in which others engaged with them, times how many distinct members did,
  and their posts' draw (like the listing's volume-neutrality). A long-joined account that was
  silent until last week has none of it, whatever its join date says; nobody's weight exceeds one.
- Coordination: an account whose engagement goes mostly to one member; an account whose engagement
  is largely exchange with partners who also exchange with each other (an insular group: pods,
  rings); accounts that were quiet for a long time and became active within a short span of each
  other around the same member. The first two discount the account's votes (`Evidence.keep`: the
  rest leaks to the seeds), its seed weight and its own listing (the group part there only as far
  as what the member received is exchange: `Evidence.own_keep`); the share of a member's engagement
  that comes from such accounts (`Evidence.coordinated`) discounts their listing and is shown in the
  explanation; trust from accounts that woke up together is taken off (`Evidence.woke`). A member
  in such a group who leaves most of what others give them unanswered keeps to the group and takes
  the rest's attention without taking part (`Evidence.apart`, a repost ring).
- Arrivals and favourites, against the usual member: the share of a member's engagers who first
  engaged them in their busiest week (`new_engager_burst`, from `FirstContacts`) or in their
  busiest three or six weeks beyond what the member's own activity then brings (`arrival_weeks`),
  and the share for whom the member is the one they engage most (`top_recipient`); each discounts
  the listing value. Where no join date is shown (Reddit), an account first seen a month or more
  into the history counts as silent since it began for the woke test (`unseen_silence_days`).

Nothing here reads a label: the patterns are measured from who engaged whom and when, against the
community's own norms where one is needed (the usual member's exchange, the average post's draw).
Guarantee: a function of the same rows and facts as the ranking, so a state updated in place and a
full recompute get the same evidence. Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bot.trust.crowds import CrowdDays
from bot.trust.listing import (
    appeal_factor,
    attention_of,
    member_draws,
    pairs_within,
    posts_counted,
    wide_engager_weight,
)
from bot.trust.params import MemberFacts, TrustParams
from bot.trust.prepare import BURST_DAYS, DatedDays, FirstContacts
from bot.trust.solver import (
    Evidence,
    ScopeGraph,
    Solved,
    member_rows,
    member_since,
    present_long_enough,
    seed_weights,
)

#: Pseudo-count (one reply's weight) added to an account's total engagement before taking shares of
#: it: an account that engaged once with one member is no evidence of concentration.
_PRIOR = 1.0
#: Accounts that became active within this many consecutive periods of each other are "together";
#: it takes at least `_TOGETHER_ACCOUNTS` of them.
_TOGETHER_PERIODS = 2
_TOGETHER_ACCOUNTS = 3


def _ramp(share: np.ndarray) -> np.ndarray:
    """0 up to one half, rising to 1 at all of it: "mostly" as a degree."""
    return np.clip(2.0 * share - 1.0, 0.0, 1.0)


@dataclass(frozen=True)
class Standing:
    """Per dense member: how much standing the community gave them over time (`earned`, in [0, 1]),
    and for members who were present but silent for `woke_quiet_share` of the time we can see, the
    period (counted back from today, 0 = the current one) in which they first became active
    (`woke`; -1 for everyone else). `periods` is how many periods the history holds."""

    earned: np.ndarray
    woke: np.ndarray
    periods: int


@dataclass(frozen=True)
class ActivityPeriods:
    """The activity per day binned into periods (see `standing_of`): the history's `span` in days
    (from its oldest active day to today), the period `length`, and per member and period whether
    they were active (`act`) and whether others engaged with them (`got`)."""

    span: int
    length: int
    act: np.ndarray
    got: np.ndarray

    @property
    def periods(self) -> int:
        return self.act.shape[1]


def history_span(active: np.ndarray, received: np.ndarray) -> int:
    """Days from the oldest day with any activity to today (1 when there is none)."""
    seen = np.flatnonzero(active.any(axis=0) | received.any(axis=0))
    return int(seen[-1]) + 1 if len(seen) else 1


def activity_periods(
    active: np.ndarray,
    received: np.ndarray,
    span: int,
    *,
    known: ActivityPeriods | None = None,
    rows: np.ndarray | None = None,
) -> ActivityPeriods:
    """`active` and `received` (members x age in days) binned into the periods of a history of
    `span` days. Given `known` (binned for the same span) and the `rows` whose activity changed
    since, only those rows are binned again (in place: `known` is returned)."""
    length = int(np.clip(span // 8, 1, 7))
    starts = np.arange(0, span, length)

    def binned(counts: np.ndarray) -> np.ndarray:
        # Counts are never negative, so a period is active when its sum is positive: one pass over
        # the days (no boolean copy, no padding). Days past `span` hold nothing.
        return np.add.reduceat(counts[:, :span], starts, axis=1) > 0

    if known is not None and known.span == span and rows is not None:
        if len(rows):
            known.act[rows] = binned(active[rows])
            known.got[rows] = binned(received[rows])
        return known
    return ActivityPeriods(span, length, binned(active), binned(received))


def standing_of(
    active: np.ndarray | ActivityPeriods,
    received: np.ndarray | None,
    since: np.ndarray,
    in_peers: np.ndarray,
    params: TrustParams,
    today: int,
    unseen: np.ndarray | None = None,
) -> Standing:
    """Earned standing from the activity per day (`active`: engagement given or posts written;
    `received`: engagement received from others; rows = dense members, columns = age in days), or
    from both already binned into periods (`ActivityPeriods` as `active`, `received` None).

    The history (from its oldest active day to today) is cut into periods: weeks once it holds eight
    of them, shorter periods (down to days) while it is younger, so "over time" means something in a
    community of any age. For each member, counting the periods since they arrived (or since the
    history starts): `presence` is the share in which they were active, `spread` the share in which
    others engaged with them, `breadth` min(1, distinct engagers / seed_full_engagers), and
    `earned` their product. A long-joined account that was silent until last week has neither
    presence nor spread, whatever its join date says.

    `unseen` (per member, optional): arrival known only as a first sighting (no join date, e.g.
    Reddit). Such an account first seen `params.unseen_silence_days` or more into the history may
    have been there, silent, since it began: for the woke test its silence counts from then.
    """
    if isinstance(active, ActivityPeriods):
        binned = active
    else:
        assert received is not None
        binned = activity_periods(active, received, history_span(active, received))
    span, length, periods = binned.span, binned.length, binned.periods
    act, got = binned.act, binned.got
    here = np.where(np.isnan(since), span - 1, np.clip(today - np.nan_to_num(since), 0, span - 1))
    available = here.astype(np.int64) // length + 1
    # Active in half of the periods is full presence: standing is not a reward for activity itself.
    presence = np.minimum(1.0, 2.0 * act.sum(axis=1) / available)
    spread = np.minimum(1.0, 2.0 * got.sum(axis=1) / available)
    breadth = np.minimum(1.0, in_peers / params.seed_full_engagers)
    # The oldest period with activity; silent before it for `woke_quiet_share` of the available periods.
    any_act = act.any(axis=1)
    oldest = np.where(any_act, periods - 1 - np.argmax(act[:, ::-1], axis=1), -1)
    if unseen is not None and params.unseen_silence_days > 0:
        watched = unseen & (span - 1 - here >= params.unseen_silence_days)
        available = np.where(watched, span - 1, here).astype(np.int64) // length + 1
    quiet = any_act & (available >= 3) & (available - 1 - oldest >= params.woke_quiet_share * available)
    return Standing(presence * spread * breadth, np.where(quiet, oldest, -1), periods)


#: With `group_usual_engaged`: where fewer than this share of the accounts that engage anyone are
#: engaged by `min_peers_listed` members, the usual member of the group tests is this far from the
#: bottom of the engaged ones.
_FEW_ENGAGED = 0.1
_USUAL_ENGAGED_QUANTILE = 0.1

#: Partners per account considered for insular groups (its strongest exchanges): a bound on the
#: work, far above the size of a group whose members all engage each other.
_GROUP_PARTNERS = 48


def _common_partners(links: sp.csr_array) -> sp.csr_array:
    """Per link (a, b) of a symmetric 0/1 matrix in canonical form: how many partners a and b
    share (links without any left out), as a matrix in canonical form.

    Either as rows of bits (one AND and bit count per link and 64 members) or as the sparse product
    links @ links masked by the links (one multiply-add per path of length two), whichever does
    less work: the bits while the group is small next to how linked its members are."""
    c = links.shape[0]
    words = (c + 63) // 64
    degree = np.diff(links.indptr).astype(np.int64)
    paths = int((degree * degree).sum())
    if not hasattr(np, "bitwise_count") or c * words > 1 << 23 or links.nnz * words > 2 * paths:
        shared = (links @ links).multiply(links).tocsr()
        shared.sum_duplicates()
        return shared
    row = np.repeat(np.arange(c, dtype=np.int64), degree)
    col = links.indices.astype(np.int64)
    bits = np.zeros(c * words, np.uint64)
    np.add.at(bits, row * words + (col >> 6), np.left_shift(np.uint64(1), (col & 63).astype(np.uint64)))
    bits = bits.reshape(c, words)
    counts = np.zeros(len(col), np.float32)
    step = max(1, (1 << 21) // words)  # a few MB of bits at a time
    for lo in range(0, len(col), step):
        hi = lo + step
        both = bits[row[lo:hi]] & bits[col[lo:hi]]
        counts[lo:hi] = np.bitwise_count(both).sum(axis=1, dtype=np.int64)
    shared = sp.csr_array((counts, col.copy(), links.indptr.copy()), shape=links.shape)
    shared.eliminate_zeros()
    return shared


def _insular(
    actor: np.ndarray,
    target: np.ndarray,
    matched: np.ndarray,
    candidate: np.ndarray,
    member_id: np.ndarray,
) -> np.ndarray:
    """Per member: the exchange (`matched` engagement per mutual pair) they have with partners who
    share their other partners, each partner weighted by the share of the member's other partners
    it is linked with too. Only `candidate` members (those with an exchange to examine) and their
    `_GROUP_PARTNERS` strongest exchanges take part; 0 for everyone else. Equal exchanges (to
    rounding: weights updated in place differ from rebuilt ones in the last bits) are ordered by
    partner id (`member_id` per local member), so which partners count never depends on how the
    graph was built; the sums run in (member, partner) order, whatever the order of the pairs."""
    m = len(member_id)
    both = candidate[actor] & candidate[target]
    a, t, v = actor[both], target[both], matched[both]
    if len(a) == 0:
        return np.zeros(m)
    # The candidates renumbered 0..c-1: every matrix below is c x c.
    cand = np.flatnonzero(candidate)
    c = len(cand)
    local = np.full(m, -1, np.int64)
    local[cand] = np.arange(c)
    a, t = local[a], local[t]
    # Only accounts with more exchanges than that need them ordered to keep the strongest.
    heavy = (np.bincount(a, minlength=c) > _GROUP_PARTNERS)[a]
    if heavy.any():
        h = np.flatnonzero(heavy)
        ha, ht, hv = a[h], t[h], v[h]
        order = np.lexsort((member_id[cand][ht], -np.round(hv, 9), ha))
        ha, ht, hv = ha[order], ht[order], hv[order]
        start = np.searchsorted(ha, ha, side="left")
        top = (np.arange(len(ha)) - start) < _GROUP_PARTNERS
        light = ~heavy
        a, t, v = (np.concatenate([x[light], y[top]]) for x, y in ((a, ha), (t, ht), (v, hv)))
    links = sp.csr_array((np.ones(len(a), np.float32), (a, t)), shape=(c, c))
    links.sum_duplicates()
    links = links.maximum(links.T).tocsr()
    links.sum_duplicates()
    links.data[:] = 1.0
    shared = _common_partners(links)  # per link: partners the two have in common
    degree = np.diff(links.indptr).astype(np.float64)
    exchange = sp.csr_array((v, (a, t)), shape=(c, c))
    exchange.sum_duplicates()
    closeness = np.asarray(exchange.multiply(shared).sum(axis=1)).ravel()
    out = np.zeros(m)
    out[cand] = np.divide(closeness, degree - 1.0, out=np.zeros(c), where=degree > 1)
    return out


#: A main recipient of an account, for the circle test (`_circle`), receives at least this share of
#: its engagement: at most 32 of them, so the work stays small whoever engages everyone.
_MAIN_SHARE = 1.0 / 32.0


#: `target_circle`: accounts engaging fewer distinct members than this are not measured; of those
#: engaging more, about `_TARGETS_FIRST` are looked at (chosen by a hash of their member id), and
#: about `_TARGETS_SAMPLE` where those already show `_TARGETS_REFINE` of their pairs linked ...
_TARGETS_MIN, _TARGETS_FIRST, _TARGETS_SAMPLE, _TARGETS_REFINE = 8, 6, 12, 0.5
#: ... and nothing is taken where the usual account's share is this or more.
_TARGETS_USUAL_MAX = 0.5


def _target_circle(g: ScopeGraph, member_id: np.ndarray) -> np.ndarray:
    """Per local member (`member_id` per local member): the share of pairs among the distinct
    members they engage who engaged each other, either way (pairs retracted to zero count as
    absent); nan for members who engage fewer than `_TARGETS_MIN`. Of the members an account
    engages, those whose draw (`member_draws`) is below `_TARGETS_FIRST` / engaged are looked at, then
    below `_TARGETS_SAMPLE` / engaged (the same and more) where the first look found
    `_TARGETS_REFINE` of their pairs linked: where it matters, the share rests on about 66 pairs.
    A ring's accounts engage only its members, who all engage each other; the members an account
    engages across a community mostly do not know each other."""
    m = g.n
    live = np.flatnonzero(g.weight > 0)
    x, y = g.actor[live].astype(np.int64), g.target[live].astype(np.int64)
    engaged = np.bincount(x, minlength=m)
    wide = engaged[x] >= _TARGETS_MIN
    if not wide.any():
        return np.full(m, np.nan)
    draw = member_draws(member_id)[y] * engaged[x]  # below k: among the k or so looked at
    keys = np.sort((np.minimum(x, y) << 32) | np.maximum(x, y))  # every live pair, unordered
    out = _linked_share(x, y, wide & (draw < _TARGETS_FIRST), keys, m)
    # Looked at again: where the first look found the share that matters, or too few members.
    refine = (out >= _TARGETS_REFINE) | (np.isnan(out) & (engaged >= _TARGETS_MIN))
    if refine.any():
        again = _linked_share(x, y, wide & refine[x] & (draw < _TARGETS_SAMPLE), keys, m)
        out[refine] = again[refine]
    return out


def _linked_share(x: np.ndarray, y: np.ndarray, chosen: np.ndarray, keys: np.ndarray, m: int) -> np.ndarray:
    """Per member (of `m`): the share of pairs among the members it engages in the `chosen` pairs
    (`x` engaging `y`) who engaged each other, either way: whose unordered pair key is among `keys`
    (sorted); nan without a pair."""
    actor, target = x[chosen], y[chosen]
    order = np.argsort(actor, kind="stable")
    actor, target = actor[order], target[order]
    first, second = pairs_within(actor, np.bincount(actor, minlength=m))  # of the same account
    a, b = target[first], target[second]
    asked = (np.minimum(a, b) << 32) | np.maximum(a, b)
    pairs = np.bincount(actor[first], minlength=m)
    # Looked up in ascending order: each binary search starts where the last one ended, in the same
    # part of the keys (with numpy's AVX2 sorts, bot/cpu.py, the sort costs less than it saves).
    by = np.argsort(asked)
    asked = asked[by]
    hit = keys[np.minimum(np.searchsorted(keys, asked), len(keys) - 1)] == asked
    linked = np.bincount(actor[first][by], weights=hit, minlength=m)  # whole counts: exact in any order
    return np.divide(linked, pairs, out=np.full(m, np.nan), where=pairs > 0)


def _circle(actor: np.ndarray, target: np.ndarray, w: np.ndarray, total: np.ndarray, m: int) -> np.ndarray:
    """Per member (of `m`): how much of their engagement goes round a closed circle. With each
    account's main recipients (`_MAIN_SHARE`) and its shares of its engagement (`total`, prior
    included), the sum over its main recipients b of its share to b times b's share to the account's
    other main recipients. A pod member gives most of its engagement to a few pod-mates, who give
    theirs to the same few: much of it. An expert's askers engage the expert, not the expert's other
    askers; a fan's favourite engages others than the fan's other favourites: little. Unlike the
    exchange test it needs no engagement back, so a young community's pods, whose members post at
    different rates and so answer each other unevenly, are seen too. Shares are compared rounded,
    so which pairs count never depends on how the graph was built."""
    share = w / total[actor]
    main = np.round(share, 9) >= _MAIN_SHARE
    if not main.any():
        return np.zeros(m)
    given = sp.csr_array((share[main], (actor[main], target[main])), shape=(m, m))
    given.sum_duplicates()
    mask = given.copy()
    mask.data[:] = 1.0
    # (given @ given)[a, c]: a's share to each b times b's share to c, kept where c is a main
    # recipient of a too (b's own share to itself is never there: no self-engagement).
    return np.asarray((given @ given).multiply(mask).sum(axis=1)).ravel()


def _beyond_usual(
    share: np.ndarray,
    engaging: np.ndarray,
    usual_max: float = 1.0 - 1e-9,
    expected: np.ndarray | None = None,
    quantile: float = 0.5,
) -> np.ndarray:
    """Per member: how far `share` (a share of their engagement) exceeds the community's usual one
    (its median `engaging` member's), as a share of the rest, from a quarter of it (0) to three
    quarters (1); nothing where the usual share is `usual_max` or more. `expected`: per member, a
    share that is no evidence for them whatever the usual one (nothing where it is 1)."""
    usual = float(np.quantile(share[engaging], quantile)) if engaging.any() else 0.0
    if usual >= usual_max:
        return np.zeros(len(share))
    bar = np.full(len(share), usual) if expected is None else np.maximum(usual, expected)
    room = 1.0 - bar
    beyond = np.divide(share - bar, room, out=np.zeros(len(share)), where=room > 1e-9)
    return np.clip(2.0 * np.clip(beyond, 0.0, 1.0) - 0.5, 0.0, 1.0)


def community_evidence(
    g: ScopeGraph,
    size: int,
    *,
    ids: np.ndarray,
    engaged_from: np.ndarray,
    excluded: np.ndarray,
    pinned: np.ndarray,
    members: MemberFacts,
    active: np.ndarray | None,
    received: np.ndarray | None,
    posts: np.ndarray | None,
    params: TrustParams,
    today: int,
    periods: ActivityPeriods | None = None,
    rows: np.ndarray | None = None,
    dated: DatedDays | None = None,
    contacts: FirstContacts | None = None,
    engager_days: np.ndarray | None = None,
    crowd_days: CrowdDays | None = None,
) -> Evidence:
    """Seeds and coordination evidence from the community-wide graph `g` (its transition prepared
    with `params`) and the activity per day; arrays of `size` (the dense id space). `periods`: the
    same activity already binned (`activity_periods`), when the caller keeps it up to date; `rows`:
    `member_rows(ids, members)`, when the caller keeps it; `engager_days` the distinct (engager,
    day) pairs each member received (`EngagerDays.values`), for `crowd_per_post`; `crowd_days` the
    state the shares of writers confined to crowd days are counted from (`CrowdDays.shares`)."""
    out_peers = g.scatter(g.out_deg, size)
    use_standing = params.earned_seeds and active is not None and received is not None
    if not (use_standing or params.coordination):
        return Evidence(seed_weights(ids, engaged_from, out_peers, excluded, pinned, members, params, today))
    row = member_rows(ids, members) if rows is None else rows
    tenure = member_since(ids, engaged_from, members, row, censored_days=params.censored_arrival_days)
    since = tenure[0]
    joined = np.full(len(ids), np.nan)  # the join date where the platform shows one
    joined[row >= 0] = members.joined_day[row[row >= 0]]
    standing = None
    if active is not None and received is not None:
        binned = periods if periods is not None else active
        unseen = np.isnan(joined) & np.isfinite(since)  # arrival: a first sighting (Reddit)
        standing = standing_of(binned, received, since, g.scatter(g.in_deg, size), params, today, unseen)
    earned = standing.earned if use_standing and standing is not None else None
    if not params.coordination:
        facts = (ids, engaged_from, out_peers, excluded, pinned, members, params, today)
        return Evidence(seed_weights(*facts, earned, tenure))
    # Per local member of the graph: how their own engagement is spread.
    m = g.n
    w = g.weight
    actor, target = g.actor, g.target
    total = np.bincount(actor, weights=w, minlength=m) + _PRIOR
    top = g.largest_per_actor(w)
    one = _ramp(top / total)  # mostly to one member
    # Insular groups (pods, rings): the part of an account's engagement that is exchange (met by as
    # much engagement back) with partners who exchange with each other too. An expert's engagement
    # is also largely exchange, with askers who answer back, but those askers do not engage each
    # other. Exchanges count from one reply's worth each way: a mutual reaction or two is no
    # partnership, and counting it would dilute a pod member's real partners among passing
    # acquaintances. Every account with such an exchange is examined, whatever share of its
    # engagement it is: a pod whose members otherwise engage the community as much as each other
    # is still a pod. (Pairs retracted to zero stay in a graph updated in place: they count as
    # absent everywhere.)
    mutual = np.flatnonzero(g.reverse >= 0)
    matched = np.minimum(w[mutual], w[g.reverse[mutual]])
    # What each member received as exchange (engagement met by as much back): their own group
    # discount applies that far (`group_discount_by_exchange`, below).
    exchanged = None
    if params.group_discount_by_exchange:
        exchanged = np.bincount(target[mutual], weights=matched, minlength=m)
    answered = None
    if params.apart_group:
        # What each member received from accounts they engaged in turn (`apart_group`, below).
        back = mutual[w[g.reverse[mutual]] > 0]
        answered = np.bincount(target[back], weights=w[back], minlength=m)
    strong = np.round(matched, 9) >= _PRIOR
    mutual, matched = mutual[strong], matched[strong]
    partnered = np.bincount(actor[mutual], minlength=m) > 0
    insular = _insular(actor[mutual], target[mutual], matched, partnered, g.gather(ids, -1)) / total
    # "Far more than with anyone else" needs someone else: measured beyond what is usual in this
    # community (its median member), so a small community where everyone talks with everyone is
    # not one suspicious group. From a quarter of the rest (0) to three quarters of it (1). With
    # `group_usual_engaged`, where fewer than one in ten of the accounts that engage anyone are
    # engaged by `min_peers_listed` members (a server where nearly everyone only reacts), the
    # usual is that of those engaged members, their tenth from the bottom: the few who post and
    # answer each other are the community's core, not a group apart from a median member who
    # engages nobody back; a pod is still a group unless it is nearly everyone so engaged.
    engaging = g.out_deg > 0
    usual_at = 0.5
    if params.group_usual_engaged:
        engaged = engaging & (g.in_deg >= params.min_peers_listed)
        if engaged.any() and engaged.sum() < _FEW_ENGAGED * engaging.sum():
            engaging, usual_at = engaged, _USUAL_ENGAGED_QUANTILE
    group = _beyond_usual(insular, engaging, quantile=usual_at)
    if params.circle_test:
        # A circle's engagement need not come back as exchange: the larger of the two, each against
        # the community's usual.
        circle = _circle(actor, target, w, total, m)
        group = np.maximum(group, _beyond_usual(circle, engaging, quantile=usual_at))
    if params.target_circle:
        # A large ring's accounts engage only its members, who all engage each other, each too
        # weakly for the tests above (`target_circle`): the share of the members an account engages
        # who engaged each other, from the first bound (0) to the second (1); nothing where the
        # usual account's share is `_TARGETS_USUAL_MAX` or more (everyone engages everyone).
        lo, full = params.target_circle
        among = _target_circle(g, g.gather(ids, -1))
        measured = ~np.isnan(among)
        among = np.nan_to_num(among)
        asked = engaging & measured
        if asked.any() and float(np.median(among[asked])) < _TARGETS_USUAL_MAX:
            group = np.maximum(group, np.clip((among - lo) / (full - lo), 0.0, 1.0))
    if params.group_by_engagement:
        # A group's quieter members: an account that posts little receives little, so its exchange
        # with the group is small however much it gives it. Whose engagement goes mostly to members
        # the test above found (weighted by how strongly) belongs to the group as far as that
        # share goes, on the same scale: from a quarter of its engagement (0) to three quarters (1).
        given = np.bincount(actor, weights=w * group[target], minlength=m) / total
        group = np.maximum(group, np.clip(2.0 * given - 0.5, 0.0, 1.0))
    suspicion = 1.0 - (1.0 - one) * (1.0 - group)
    got = np.bincount(target, weights=w, minlength=m)
    safe = np.where(got > 0, got, 1.0)
    # Sums over the pairs of suspicious actors only (the others add exact zeros): in pair order,
    # as a pass over every pair would add them.
    p = g.pairs_of((one > 0) | (group > 0))
    pw, pt, pa = w[p], target[p], actor[p]
    shares = [
        np.zeros(m),
        np.bincount(pt, weights=pw * one[pa], minlength=m) / safe,
        np.bincount(pt, weights=pw * group[pa], minlength=m) / safe,
    ]
    flagged = np.bincount(pt, weights=pw * suspicion[pa], minlength=m) / safe
    if standing is not None:
        # Accounts silent for a long time that became active within a short span of each other and
        # engage the same member: the largest such group's share of what the member received.
        woke = g.gather(standing.woke, -1)
        q = g.pairs_of(woke >= 0)
        q = q[w[q] > 0]
        key = target[q].astype(np.int64) * standing.periods + woke[actor[q]]
        cells = m * standing.periods
        mass = np.bincount(key, weights=w[q], minlength=cells).reshape(m, standing.periods)
        count = np.bincount(key, minlength=cells).reshape(m, standing.periods)
        span_mass, span_count = mass.copy(), count.copy()
        for shift in range(1, _TOGETHER_PERIODS):
            span_mass[:, :-shift] += mass[:, shift:]
            span_count[:, :-shift] += count[:, shift:]
        together = np.where(span_count >= _TOGETHER_ACCOUNTS, span_mass, 0.0).max(axis=1)
        shares[0] = np.minimum(1.0, together / safe)
    coordinated = 1.0 - (1.0 - flagged) * (1.0 - shares[0])
    keep_local = 1.0 - suspicion
    own_local = None
    if exchanged is not None:
        # The member's own group discount, on their listing, only as far as what they received is
        # exchange: an expert answering other experts and the same askers looks like a small group,
        # but much of what an expert receives is unsolicited; a pod member's is the pod's exchange.
        share = np.minimum(1.0, exchanged / safe)
        own_local = (1.0 - one) * (1.0 - group * share)

    def community(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(size, fill)
        out[g.members] = values[: len(g.members)]
        return out

    keep = community(keep_local, 1.0)
    said = None if posts is None else g.gather(posts)
    vouching = (present_long_enough(ids, engaged_from, members, params, today, tenure) | pinned) & ~excluded
    # Posters whose count sets the median of a post's draw: those who take part in the community's
    # engagement (a wave of accounts that each post once and nothing else sets nothing), and, once
    # the history is long enough for most members to have been here a while, who did not join in
    # its last weeks (a raid's or a newcomer wave's few posts set nothing either).
    settled = g.scatter(g.in_deg + g.out_deg, size) > 0
    began = engaged_from[np.isfinite(engaged_from)]
    if len(began) and today - float(began.min()) >= 2 * params.seed_min_tenure_days:
        settled &= ~(today - np.nan_to_num(joined, nan=-np.inf) < params.seed_min_tenure_days)
    said_total = None if posts is None else posts_counted(posts, settled)

    # Accounts that engage nearly everyone count for less in a post's draw (`wide_engagers`).
    wide = wide_engager_weight(g.out_deg, params)

    def draw_of(attention: np.ndarray, said: np.ndarray) -> np.ndarray | None:
        """Per local member: what their posts draw against an average post of the community."""
        return appeal_factor(attention, said, said, params, said_total)

    if earned is not None and said is not None:
        # Standing is being sought out, not volume: like the listing (`_appeal`), a member whose posts
        # draw less attention than an average post earns proportionally less.
        appeal = draw_of(attention_of(g, keep_local * wide, params), said)
        if appeal is not None:
            earned = earned * community(appeal, 0.0)
    facts = (ids, engaged_from, out_peers, excluded, pinned, members, params, today)
    seed = seed_weights(*facts, earned, tenure)
    seed = np.where(pinned, seed, seed * keep)
    draw = None
    if said is not None and params.community_draw_floor:
        # What a member's posts draw in the whole community, measured as its listing measures it
        # (attention from accounts present for a while, coordinated ones discounted, less what came
        # from accounts that woke up together): the draw floor applies to it in every scope.
        attention = attention_of(g, g.gather(vouching.astype(np.float64)) * keep_local * wide, params)
        local = draw_of(attention * (1.0 - shares[0]), said)
        draw = None if local is None else community(local, 1.0)
    day_share = day_excess = None
    if params.single_day and dated is not None:
        # The share of a member's engagement that came on their busiest day. Reactions are left
        # out (`DatedDays`): their day is when the bot saw them, and after a downtime, or in a
        # history replayed at once, that is one day for all of them.
        day_share = dated.busiest_share()
        day_excess = single_day_excess(day_share, g.scatter(g.in_deg, size), params)
    burst_share = burst_excess = weeks_share = weeks_excess = None
    windows = ((BURST_DAYS,) if params.new_engager_burst else ()) + tuple(7 * w for w in params.arrival_weeks)
    if windows and contacts is not None:
        # Engagers who mostly arrived in one week (`new_engager_burst`), or within a few weeks
        # (`arrival_weeks`).
        arrivals = contacts.arrivals(
            size, params.min_peers_listed, today - since, active, windows, params.returned_silence_days
        )
        engaging = arrivals.engagers >= params.min_peers_listed
        for days, share, expected in arrivals.windows:
            if days == BURST_DAYS and params.new_engager_burst:
                burst_share = share
                burst_excess = _beyond_usual(share, engaging, usual_max=0.5, expected=expected)
                continue
            # Beyond what the window would hold anyway, as a share of the rest (of half the
            # engagers at least: a member mostly active then is not judged on a handful), against
            # the usual member's.
            beyond = (share - expected) / np.maximum(1.0 - expected, 0.5)
            excess = _beyond_usual(np.clip(beyond, 0.0, 1.0), engaging, usual_max=0.5)
            if weeks_excess is None or weeks_share is None:
                weeks_share, weeks_excess = share, excess
            else:
                larger = excess > weeks_excess
                weeks_share = np.where(larger, share, weeks_share)
                weeks_excess = np.maximum(excess, weeks_excess)
        if burst_excess is not None and weeks_excess is not None:
            # One discount for engagers arriving together, the larger of the week's and the weeks'
            # (a crowd of one day is within a few weeks too).
            week_larger = burst_excess >= weeks_excess
            burst_excess, weeks_excess = (
                np.where(week_larger, burst_excess, 0.0),
                np.where(week_larger, 0.0, weeks_excess),
            )
    top_share = top_excess = None
    if params.top_recipient:
        # Engagers for whom the member is the one they engage most (`top_recipient`).
        top_local = top_recipient_share(g, w)
        top_share = community(top_local, 0.0)
        top_excess = community(_beyond_usual(top_local, g.in_deg >= params.min_peers_listed), 0.0)
    crowd = None
    if params.crowd_per_post and engager_days is not None and posts is not None:
        # Distinct (engager, day) pairs received per post (`crowd_per_post`).
        crowd = np.divide(engager_days, posts, out=np.zeros(size), where=posts > 0)
    apart = unanswered = None
    if answered is not None:
        # Keeping to a group and leaving the rest unanswered (`apart_group`): the insular-group
        # score times the share of what the member received from accounts they never engaged.
        left = np.clip(1.0 - answered / safe, 0.0, 1.0) * (got > 0)
        unanswered, apart = community(left, 0.0), community(group * left, 0.0)
    lone, usual_lone = None, 0.0
    if params.lone_engagers:
        # Distinct engagers who engage no one else in the community (`lone_engagers`), and the
        # share the usual member with `min_peers_listed` engagers has. (Pairs retracted to zero stay
        # in a graph updated in place: they count as absent.)
        only = (g.weight > 0) & (g.out_deg[g.actor] == 1)
        alone = np.bincount(g.target, weights=only, minlength=g.n)
        local = np.divide(alone, g.in_deg, out=np.zeros(g.n), where=g.in_deg > 0)
        candidates = g.in_deg >= params.min_peers_listed
        usual_lone = float(np.median(local[candidates])) if candidates.any() else 0.0
        lone = community(local, 0.0)
    drawn = None
    if crowd_days is not None and params.crowd_days:
        # Writers confined to the days a member's posts drew a crowd (`crowd_days`), against the
        # usual cell of the members with `min_peers_listed` distinct engagers.
        engaged = g.scatter(g.in_deg, size) >= params.min_peers_listed
        drawn = crowd_days.shares(engaged)[:size].copy()
    shown = community(coordinated, 0.0)
    return Evidence(
        seed_weight=seed,
        keep=keep,
        vouching=vouching.astype(np.float64),
        settled=settled,
        coordinated=shown,
        usual_coordinated=float(np.median(shown[settled])) if settled.any() else 0.0,
        woke=community(shares[0], 0.0),
        reason=community(np.argmax(np.stack(shares), axis=0).astype(np.float64), 0.0).astype(np.int8),
        devoted=community(shares[1], 0.0),
        own_keep=None if own_local is None else community(own_local, 1.0),
        draw=draw,
        day_share=day_share,
        day_excess=day_excess,
        burst_share=burst_share,
        burst_excess=burst_excess,
        top_share=top_share,
        top_excess=top_excess,
        weeks_share=weeks_share,
        weeks_excess=weeks_excess,
        crowd=crowd,
        lone=lone,
        usual_lone=usual_lone,
        apart=apart,
        unanswered=unanswered,
        drawn=drawn,
    )


#: An engager counts for the top-recipient test when it engages at least this many members: whoever
#: engages one or two members has an obvious favourite.
_TOP_MIN_TARGETS = 3


def top_recipient_share(g: ScopeGraph, w: np.ndarray) -> np.ndarray:
    """Per local member of `g` (weights `w` per pair): the share of their distinct engagers for whom
    they are the member engaged most, among engagers that engage at least `_TOP_MIN_TARGETS`
    members; an engager whose largest engagement goes to several members alike counts for each of
    them by its share. Weights are compared rounded, so which member is an engager's largest never
    depends on how the graph was built. (Pairs retracted to zero count as absent.)"""
    m = g.n
    actor, target = g.actor, g.target
    rounded = np.round(w, 9)
    present = rounded > 0
    largest = g.largest_per_actor(rounded)
    top = present & (rounded == largest[actor]) & (g.out_deg[actor] >= _TOP_MIN_TARGETS)
    tied = np.bincount(actor[top], minlength=m)
    credit = np.bincount(target[top], weights=1.0 / tied[actor[top]], minlength=m)
    return np.divide(credit, g.in_deg, out=np.zeros(m), where=g.in_deg > 0)


def single_day_excess(share: np.ndarray, in_deg: np.ndarray, params: TrustParams) -> np.ndarray:
    """Per member: the discount for engagement that came on a single day (`share`: of their
    engagement of the kinds whose day the platform states, `DatedDays.busiest_share`).

    Every member has a busiest day, and in a young community it is a large part of everyone's
    engagement: measured beyond the usual share (the median member engaged by at least
    `min_peers_listed` distinct members), as a share of the rest, on the insular-group test's scale
    (a quarter of it: 0, three quarters: 1). Members without such engagement (`share` 0: only
    reactions) have no busiest day and do not set the usual share. Where the usual member received
    half of their engagement or more on one day (a community a few days old), nothing is taken."""
    return _beyond_usual(share, (in_deg >= params.min_peers_listed) & (share > 0), usual_max=0.5)


def member_dependents(
    g: ScopeGraph, solved: Solved, member: int, params: TrustParams, min_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Local ids of the members of `g` who received at least `min_share` of their trust from
    `member` (a local id), and those shares, largest first."""
    d = params.damping
    x, scale = solved.x, solved.scale
    rows = np.flatnonzero((g.actor == member) & (g.vote > 0))
    if len(rows) == 0 or x[member] <= 0:
        return np.zeros(0, np.int64), np.zeros(0)
    received = g.pull(x * scale) * d  # everything passed on to each member
    target = g.target[rows].astype(np.int64)
    passed = d * x[member] * scale[member] * g.vote[rows]
    share = np.divide(passed, received[target], out=np.zeros(len(rows)), where=received[target] > 0)
    keep = share >= min_share
    order = np.argsort(-share[keep], kind="stable")
    return target[keep][order], np.minimum(share[keep][order], 1.0)
