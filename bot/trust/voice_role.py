"""Trusted-voice roles: who should hold a scope's role after a recompute, and why. Pure.

A rule gives a role to the top `top_n` members of a scope's stored ranking, or to every member at or
above `min_percent` of the top score. Only members who can hold a Discord role count for the top
`top_n`: Reddit accounts and members who left the server are skipped, and the others are placed
again among themselves (`place`). Hysteresis keeps a member from flickering: once given, the role is
kept until the member falls well below the bar (out of the top 2 × `top_n`, or under half of
`min_percent`) or drops out of the ranking. Excluded members (moderators' exclusions, brand contacts)
and bot accounts never get it, and lose it at once. A role with any moderation or management
permission (on the role itself or in a channel's permission overwrites), or that is the community's
moderator role, is never given, and is taken back from everyone the bot gave it to.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from bot.errors import InvalidInput
from bot.partners.brands import DANGEROUS_PERMISSIONS
from bot.subreddits.ids import is_reddit_id

TOP_MIN, TOP_MAX = 1, 100
PERCENT_MIN, PERCENT_MAX = 1, 100
DEFAULT_TOP = 10
#: Hysteresis: a holder keeps the role while within this factor of the bar (rank ≤ 2N, score ≥ p/2).
KEEP_FACTOR = 2
#: Why a scope's role cannot be given now (catalog `voices.role_problem.<reason>`).
PROBLEMS = ("deleted", "unusable", "moderator", "too_powerful", "channel_power", "unmanageable")


@dataclass(frozen=True)
class RoleInfo:
    """A platform role as the rule needs it: `manageable` when the bot may give and take it back (it
    has the permission to manage roles and its own highest role is above this one);
    `channel_permissions` the permissions channel overwrites allow this role, combined."""

    id: int
    is_default: bool
    managed: bool
    permissions: int
    manageable: bool = True
    channel_permissions: int = 0


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
        return percent_of_top(score) >= self.min_percent

    def keeps(self, rank: int, score: float) -> bool:
        """Still close enough to the bar to keep a role already held."""
        if self.top_n is not None:
            return rank <= KEEP_FACTOR * self.top_n
        assert self.min_percent is not None
        return percent_of_top(score) * KEEP_FACTOR >= self.min_percent

    def bar(self) -> dict[str, object]:
        """The numbers a reply shows for this rule: `top` and `keep` (ranks), or `percent` and `keep`."""
        if self.top_n is not None:
            return {"top": self.top_n, "keep": KEEP_FACTOR * self.top_n}
        assert self.min_percent is not None
        return {"percent": self.min_percent, "keep": percent_shown(Decimal(self.min_percent) / KEEP_FACTOR)}


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
    """Why a member holds a scope's role or not, as a catalog key (`voices.role_why.*`) and parameters;
    `problem` (a `PROBLEMS` reason) when the role could not be given at the last sync, `refused` how
    many of that sync's changes to it the platform refused."""

    scope: str
    role_id: int
    holds: bool
    key: str
    params: dict[str, object] = field(default_factory=dict)
    problem: str | None = None
    refused: int = 0


def percent_shown(value: Decimal) -> Decimal:
    """A percentage as replies show it: one decimal at most, none when it is whole (12.5, 60)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


def percent_of_top(score: float) -> Decimal:
    """A score (the top voice's is 1.0) as an exact percentage of the top voice's, read as the number
    it prints as (0.596 is 59.6%, not the nearest binary fraction): what the bars compare."""
    return Decimal(repr(float(score))) * 100


def score_percent(score: float) -> Decimal:
    """A member's score as replies show it: the percentage rounded down to one decimal. A bar is a
    whole percentage or half of one, so the number shown reaches the bar exactly when the score does."""
    return percent_shown(percent_of_top(score).quantize(Decimal("0.1"), rounding=ROUND_FLOOR))


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


def role_problem(info: RoleInfo | None, *, mod_role_id: int | None) -> str | None:
    """Why the role may not be a trusted-voice role now (a `PROBLEMS` reason), or None.

    A role that would give moderation power is named before one the bot cannot manage: the bot must
    try to take it back, and moderators must know why."""
    if info is None:
        return "deleted"
    if info.is_default or info.managed:
        return "unusable"
    if mod_role_id is not None and info.id == mod_role_id:
        return "moderator"
    if info.permissions & DANGEROUS_PERMISSIONS:
        return "too_powerful"
    if info.channel_permissions & DANGEROUS_PERMISSIONS:
        return "channel_power"
    if not info.manageable:
        return "unmanageable"
    return None


def check_voice_role(info: RoleInfo, *, mod_role_id: int | None) -> None:
    """InvalidInput (`voices.role_<reason>`) naming why the role cannot be chosen now."""
    problem = role_problem(info, mod_role_id=mod_role_id)
    if problem is not None:
        raise InvalidInput(f"voices.role_{problem}")


def can_hold(member_id: int) -> bool:
    """A Discord member's id (not a Reddit account, not an erased member's pseudonym)."""
    return member_id > 0 and not is_reddit_id(member_id)


def place(ranking: Sequence[Ranked], present: Callable[[int], bool]) -> list[Ranked]:
    """The ranking without the members who cannot hold a role (`can_hold`, `present`), placed again
    among themselves: #1, #2, … in the same order, with the same scores."""
    kept = [r for r in ranking if can_hold(r.member_id) and present(r.member_id)]
    return [Ranked(r.member_id, i + 1, r.score) for i, r in enumerate(kept)]


def place_of(ranking: Sequence[Ranked], member_id: int, gone: Collection[int]) -> Ranked | None:
    """The member's entry placed among those above them who can hold a role (members in `gone` left
    the server), or None when they are not ranked."""
    above = 0
    for entry in ranking:
        if entry.member_id == member_id:
            return Ranked(member_id, above + 1, entry.score)
        if can_hold(entry.member_id) and entry.member_id not in gone:
            above += 1
    return None


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
    older role of the scope loses that one, and is given the current one only once the older one is
    taken back.
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
    """Why the member holds the rule's role or not, with the numbers they need to see. `entry.rank` is
    the member's place among those who can hold the role."""
    bar = rule.bar()
    mode = "top" if rule.top_n is not None else "score"
    if ineligible:  # still held until the next sync takes it back (or its removal was refused)
        key = "voices.role_why.excluded_held" if holds else "voices.role_why.excluded"
        return RoleStanding(rule.scope, rule.role_id, holds, key)
    if entry is None:
        key = "voices.role_why.kept_unranked" if holds else "voices.role_why.not_ranked"
        return RoleStanding(rule.scope, rule.role_id, holds, key, bar)
    params = {**bar, "rank": entry.rank, "score": score_percent(entry.score)}
    if holds:
        key = "in" if rule.enters(entry.rank, entry.score) else "kept"
        return RoleStanding(rule.scope, rule.role_id, True, f"voices.role_why.{mode}_{key}", params)
    if rule.enters(entry.rank, entry.score):
        return RoleStanding(rule.scope, rule.role_id, False, "voices.role_why.next", params)
    return RoleStanding(rule.scope, rule.role_id, False, f"voices.role_why.{mode}_below", params)
