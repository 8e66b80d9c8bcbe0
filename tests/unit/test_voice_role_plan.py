"""The trusted-voice role's plan as hypothesis properties: whatever the ranking, the holders and the
exclusions, after one sync nobody excluded holds the role, everyone the bar lets in holds it, every
holder is within the hysteresis bound, and a second sync on the same ranking changes nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.trust.voice_role import KEEP_FACTOR, Ranked, VoiceRoleRule, explain_role, plan_role

ROLE, OLD_ROLE = 900, 901
MEMBERS = st.integers(1, 40)
#: A rule, a ranking, the (member, role) pairs the bot gave, and the members who may not hold it.
Situation = tuple[VoiceRoleRule, list[Ranked], set[tuple[int, int]], set[int]]


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    if draw(st.booleans()):
        rule = VoiceRoleRule("all", ROLE, top_n=draw(st.integers(1, 12)))
    else:
        rule = VoiceRoleRule("all", ROLE, min_percent=draw(st.integers(1, 100)))
    listed = draw(st.lists(MEMBERS, unique=True, max_size=30))
    scores = sorted(
        draw(st.lists(st.floats(0.001, 1.0), min_size=len(listed), max_size=len(listed))), reverse=True
    )
    if scores:
        scores[0] = 1.0
    ranking = [Ranked(m, i + 1, s) for i, (m, s) in enumerate(zip(listed, scores, strict=True))]
    holders = set(draw(st.lists(st.tuples(MEMBERS, st.sampled_from([ROLE, ROLE, OLD_ROLE])), max_size=15)))
    blocked = set(draw(st.lists(MEMBERS, max_size=5)))
    return rule, ranking, holders, blocked


def synced(
    rule: VoiceRoleRule, ranking: list[Ranked], holders: set[tuple[int, int]], blocked: set[int]
) -> tuple[set[tuple[int, int]], tuple[int, ...], tuple[tuple[int, int], ...]]:
    add, remove = plan_role(rule, ranking, holders, ineligible=blocked, usable=True)
    after = (holders - set(remove)) | {(m, rule.role_id) for m in add}
    return after, add, remove


@settings(max_examples=500, deadline=None)
@given(situations())
def test_one_sync_leaves_the_role_where_the_rule_says_and_a_second_changes_nothing(
    situation: Situation,
) -> None:
    rule, ranking, holders, blocked = situation
    after, add, _ = synced(rule, ranking, holders, blocked)
    assert len(set(add)) == len(add) and not {(m, rule.role_id) for m in add} & holders
    by_member = {r.member_id: r for r in ranking}
    for member, role in after:
        assert role == rule.role_id and member not in blocked
        entry = by_member[member]
        assert rule.keeps(entry.rank, entry.score)
    held = {m for m, _ in after}
    assert {
        r.member_id for r in ranking if rule.enters(r.rank, r.score) and r.member_id not in blocked
    } <= held
    if rule.top_n is not None:
        assert len(held) <= KEEP_FACTOR * rule.top_n
    assert plan_role(rule, ranking, after, ineligible=blocked, usable=True) == ((), ())
    for r in ranking:  # what `/voices role` tells each member agrees with the plan
        standing = explain_role(rule, r, holds=r.member_id in held, ineligible=r.member_id in blocked)
        assert standing.holds == (r.member_id in held)
        if r.member_id not in blocked:
            assert standing.key.endswith(("_in", "_kept")) == (r.member_id in held)


@settings(max_examples=200, deadline=None)
@given(situations())
def test_without_a_rule_or_a_usable_role_every_holder_loses_it(situation: Situation) -> None:
    rule, ranking, holders, blocked = situation
    assert plan_role(None, ranking, holders, ineligible=blocked, usable=True) == ((), tuple(sorted(holders)))
    assert plan_role(rule, ranking, holders, ineligible=blocked, usable=False) == ((), tuple(sorted(holders)))
