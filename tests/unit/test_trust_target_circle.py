"""A large like-for-like ring (`TrustParams.target_circle`): accounts that engage only the ring's
members, who all engage each other, are a group however weakly each pair is tied; the members an
account engages across a community mostly do not know each other; and the ranking kept in place
measures it as a full recompute does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from bot.trust import Edges, LiveTrust, MemberFacts, TrustParams, compute_all
from bot.trust.compute import _community
from bot.trust.evidence import _target_circle
from bot.trust.prepare import prepare
from tests.unit.test_trust_arrivals import TODAY as ARRIVALS_TODAY
from tests.unit.test_trust_arrivals import refreshed_equals_full

TODAY = ARRIVALS_TODAY  # `refreshed_equals_full` ranks as of that day
TOWN = tuple(range(1, 81))  # members present for a year
RING = tuple(range(500, 530))  # aged accounts that joined for the ring
BENEFICIARY = TOWN[0]
Row = tuple[int, int, int, int, str, int]  # (channel, actor, target, day, kind, n)
OFF = replace(TrustParams(), target_circle=())


def members(extra: Sequence[int] = RING) -> MemberFacts:
    ids = [*TOWN, *extra]
    return MemberFacts(
        member_id=np.array(ids, np.int64),
        joined_day=np.array([TODAY - 365.0] * len(TOWN) + [TODAY - 100.0] * len(extra)),
        account_created_day=np.full(len(ids), TODAY - 900.0),
        is_bot=np.zeros(len(ids), np.bool_),
    )


def town_rows(seed: int = 3) -> list[Row]:
    """Each town member replies to twelve others of its choosing, a week apart over three months:
    whom one member engages mostly do not engage each other."""
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for m in TOWN:
        others = [t for t in TOWN if t != m]
        for t in rng.choice(others, 12, replace=False):
            for week in range(0, 12, 3):
                rows.append((1, m, int(t), TODAY - 2 - 7 * week - int(rng.integers(0, 3)), "reply", 1))
    return rows


def ring_rows(ring: Sequence[int] = RING, days: int = 60) -> list[Row]:
    """For two months each ring account reacts to the posts of the next eight in a rota that turns
    every day, so every pair of them is tied by a reaction or two, and to the beneficiary's."""
    rows: list[Row] = []
    k = len(ring)
    for day in range(days):
        for i, a in enumerate(ring):
            for step in range(1, 9):
                if (i + step + day) % 4 == 0:
                    rows.append((2, a, ring[(i + step + day) % k], TODAY - day, "reaction", 1))
            rows.append((2, a, BENEFICIARY, TODAY - day, "reaction", 1))
    return rows


def evidence(rows: Sequence[Row], facts: MemberFacts, params: TrustParams) -> dict[int, float]:
    """Each member's `keep` (how far their engagement counts) in the whole community."""
    prep = prepare(Edges.from_rows(rows), facts, params, TODAY, by_channel=False)
    _, found = _community(prep, params)
    assert found.keep is not None
    return dict(zip(prep.ids.tolist(), found.keep.tolist(), strict=True))


def test_the_ring_accounts_engage_members_who_all_engage_each_other() -> None:
    rows = town_rows() + ring_rows()
    facts = members()
    prep = prepare(Edges.from_rows(rows), facts, TrustParams(), TODAY, by_channel=False)
    g, _ = _community(prep, TrustParams())
    among = _target_circle(g, g.gather(prep.ids, -1))
    by_member = g.scatter(among, len(prep.ids))
    place = {m: i for i, m in enumerate(prep.ids.tolist())}
    ring = np.array([by_member[place[m]] for m in RING])
    town = np.array([by_member[place[m]] for m in TOWN[1:]])
    assert ring.min() > 0.9
    assert np.median(town) < 0.4 and town.max() < 0.8
    # Fewer than eight members engaged: not measured.
    few = [(1, 900, t, TODAY - 1, "reply", 1) for t in TOWN[:5]]
    prep = prepare(Edges.from_rows(rows + few), members([*RING, 900]), TrustParams(), TODAY, by_channel=False)
    g, _ = _community(prep, TrustParams())
    local = g.local_of(int(np.flatnonzero(prep.ids == 900)[0]))
    assert np.isnan(_target_circle(g, g.gather(prep.ids, -1))[local])


def test_the_ring_counts_as_a_group_and_the_town_does_not() -> None:
    rows = town_rows() + ring_rows()
    facts = members()
    on, off = evidence(rows, facts, TrustParams()), evidence(rows, facts, OFF)
    assert all(on[m] < 0.5 for m in RING)
    assert all(off[m] > 0.5 for m in RING)  # too weakly tied for the exchange and circle tests
    assert all(on[m] == off[m] for m in TOWN)
    ranked = compute_all(Edges.from_rows(rows), facts, TrustParams(), today=TODAY, scopes={"all": None})
    plain = compute_all(Edges.from_rows(rows), facts, OFF, today=TODAY, scopes={"all": None})
    place = {r.member_id: r.rank for r in ranked["all"]}
    before = {r.member_id: r.rank for r in plain["all"]}
    assert before[BENEFICIARY] <= 2  # the ring carries them to the top
    assert place.get(BENEFICIARY, len(TOWN)) > 10


def test_a_community_where_everyone_engages_everyone_is_no_ring() -> None:
    """Twelve members who all reply to each other: the usual account's share is 1, nothing taken."""
    club = TOWN[:12]
    rows: list[Row] = [
        (1, a, b, TODAY - 2 - 7 * w, "reply", 1) for a in club for b in club if a != b for w in range(8)
    ]
    facts = members(())
    on, off = evidence(rows, facts, TrustParams()), evidence(rows, facts, OFF)
    assert on == off


def test_kept_in_place_equals_a_full_recompute() -> None:
    """The ring's last ten days arrive after the ranking state was built: the state updated in
    place ranks as a full recompute does."""
    rows = town_rows() + ring_rows()
    facts = members()
    before = [r for r in rows if r[3] < TODAY - 9]
    change = [r for r in rows if r[3] >= TODAY - 9]
    scopes: dict[str, set[int] | None] = {"all": None, "channel:2": {2}}
    params = TrustParams()
    live = LiveTrust(Edges.from_rows(before), facts, params, today=TODAY, scopes=scopes)
    live.rank(facts)
    full = refreshed_equals_full(live, change, rows, facts, params, scopes)
    assert BENEFICIARY not in [r.member_id for r in full["all"]][:10]


def test_the_bounds_are_checked() -> None:
    for bad in ((0.9, 0.8), (0.5,), (0.5, 1.5)):
        try:
            replace(TrustParams(), target_circle=bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")
