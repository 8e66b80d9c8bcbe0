"""Trusted-voice roles: who should hold a scope's role after a recompute, and why. Pure.

A rule gives a role to the top `top_n` members of a scope's stored ranking, or to every member at or
above `min_percent` of the top score. Hysteresis keeps a member from flickering: once given, the role is
kept until the member falls well below the bar (out of the top 2 × `top_n`, or under half of
`min_percent`) or drops out of the ranking. Excluded members (moderators' exclusions, brand contacts)
and bot accounts never get it, and lose it at once. A role with any moderation or management permission
is never given, and is taken back from everyone the bot gave it to.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from bot.errors import InvalidInput
from bot.partners.brands import DANGEROUS_PERMISSIONS

TOP_MIN, TOP_MAX = 1, 100
PERCENT_MIN, PERCENT_MAX = 1, 100
DEFAULT_TOP = 10
#: Hysteresis: a holder keeps the role while within this factor of the bar (rank ≤ 2N, score ≥ p/2).
KEEP_FACTOR = 2


@dataclass(frozen=True)
class VoiceRoleRule:
    """The trusted-voice role of one scope ('all', 'channel:<id>' or 'category:<id>')."""

    scope: str
    role_id: int
    top_n: int | None = None
    min_percent: int | None = None

    def enters(self, rank: int, score: float) -> bool:
        """Qualifies to be given the role."""
        if self.top_n is not None:
            return rank <= self.top_n
        assert self.min_percent is not None
        return score * 100 >= self.min_percent

    def keeps(self, rank: int, score: float) -> bool:
        """Still close enough to the bar to keep a role already held."""
        if self.top_n is not None:
            return rank <= KEEP_FACTOR * self.top_n
        assert self.min_percent is not None
        return score * 100 * KEEP_FACTOR >= self.min_percent


@dataclass(frozen=True)
class Ranked:
    member_id: int
    rank: int
    score: float


@dataclass(frozen=True)
class RolePlan:
    """The changes to make for one scope: members to give `role_id`, and (member, role) to take back."""

    scope: str
    role_id: int | None
    add: tuple[int, ...] = ()
    remove: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class RoleStanding:
    """Why a member holds a scope's role or not, as a catalog key (`voices.role_why.*`) and parameters."""

    scope: str
    role_id: int
    holds: bool
    key: str
    params: dict[str, object] = field(default_factory=dict)


def validate_rule(*, top_n: int | None, min_percent: int | None) -> tuple[int | None, int | None]:
    """(top_n, min_percent) with exactly one set (the top 10 when neither is); InvalidInput otherwise."""
    if top_n is not None and min_percent is not None:
        raise InvalidInput("voices.role_one_bar")
    if top_n is None and min_percent is None:
        return DEFAULT_TOP, None
    if top_n is not None and not TOP_MIN <= top_n <= TOP_MAX:
        raise InvalidInput("voices.role_bad_top", low=TOP_MIN, high=TOP_MAX)
    if min_percent is not None and not PERCENT_MIN <= min_percent <= PERCENT_MAX:
        raise InvalidInput("voices.role_bad_percent", low=PERCENT_MIN, high=PERCENT_MAX)
    return top_n, min_percent


def role_usable(*, is_default: bool, managed: bool, permissions: int) -> bool:
    """Not @everyone, not a bot's or integration's role, no moderation or management permission."""
    return not (is_default or managed or permissions & DANGEROUS_PERMISSIONS)


def check_voice_role(*, is_default: bool, managed: bool, permissions: int) -> None:
    if is_default or managed:
        raise InvalidInput("voices.role_unusable")
    if permissions & DANGEROUS_PERMISSIONS:
        raise InvalidInput("voices.role_too_powerful")


def plan_role(
    rule: VoiceRoleRule | None,
    ranking: Sequence[Ranked],
    holders: Collection[tuple[int, int]],
    *,
    ineligible: Collection[int],
    usable: bool,
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(members to give the rule's role, (member, role) pairs to take back) for one scope.

    `holders` are the (member, role) pairs the bot gave for this scope. Without a rule (a moderator
    turned it off), or with a role that may not be given, every holder loses the role; a holder of an
    older role of the scope loses that one and is treated like anyone else for the current one.
    """
    if rule is None or not usable:
        return (), tuple(sorted(holders))
    blocked = set(ineligible)
    by_member = {r.member_id: r for r in ranking}
    remove: list[tuple[int, int]] = []
    holding: set[int] = set()
    for member, role in sorted(holders):
        entry = by_member.get(member)
        stays = entry is not None and rule.keeps(entry.rank, entry.score)
        if role != rule.role_id or member in blocked or not stays:
            remove.append((member, role))
        else:
            holding.add(member)
    add = tuple(
        r.member_id
        for r in ranking
        if r.member_id not in holding and r.member_id not in blocked and rule.enters(r.rank, r.score)
    )
    return add, tuple(remove)


def explain_role(
    rule: VoiceRoleRule, entry: Ranked | None, *, holds: bool, ineligible: bool
) -> RoleStanding:
    """Why the member holds the rule's role or not, with the numbers they need to see."""
    bar: dict[str, object] = (
        {"top": rule.top_n, "keep": KEEP_FACTOR * rule.top_n}
        if rule.top_n is not None
        else {"percent": rule.min_percent, "keep": (rule.min_percent or 0) // KEEP_FACTOR}
    )
    mode = "top" if rule.top_n is not None else "score"
    if ineligible:
        return RoleStanding(rule.scope, rule.role_id, False, "voices.role_why.excluded")
    if entry is None:
        key = "voices.role_why.kept_unranked" if holds else "voices.role_why.not_ranked"
        return RoleStanding(rule.scope, rule.role_id, holds, key, bar)
    params = {**bar, "rank": entry.rank, "score": round(entry.score * 100)}
    if holds:
        key = "in" if rule.enters(entry.rank, entry.score) else "kept"
        return RoleStanding(rule.scope, rule.role_id, True, f"voices.role_why.{mode}_{key}", params)
    if rule.enters(entry.rank, entry.score):
        return RoleStanding(rule.scope, rule.role_id, False, "voices.role_why.next", params)
    return RoleStanding(rule.scope, rule.role_id, False, f"voices.role_why.{mode}_below", params)
