"""The trusted-voice role service: moderators set a role per scope; after each recompute the bot gives
it and takes it back (`bot.trust.voice_role` decides who), through a small platform protocol.

Guarantees: the bot takes back only roles it gave (it records each one it gave); a role is re-checked
against the platform's current permissions before every sync, so a role that gained a moderation or
management permission is taken back instead of given; a member who left is forgotten; a change the
platform refuses (missing permission, role above the bot's) is counted and retried at the next sync.
No platform import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from bot.trust.voice_role import (
    Ranked,
    RoleStanding,
    VoiceRoleRule,
    check_voice_role,
    explain_role,
    plan_role,
    role_usable,
    validate_rule,
)

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

RANKING_LIMIT = 500  # the stored ranking of a scope holds at most this many entries
Outcome = Literal["done", "gone", "refused"]


@dataclass(frozen=True)
class RoleInfo:
    """A platform role as the rule needs it."""

    id: int
    is_default: bool
    managed: bool
    permissions: int


class RolePlatform(Protocol):
    """What giving and taking back a role needs from a platform."""

    async def role_info(self, community_id: int, role_id: int) -> RoleInfo | None:
        """The role as the platform knows it now; None if it was deleted."""
        ...

    async def add_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        """`gone` when the member or the role no longer exists, `refused` when the platform forbids it."""
        ...

    async def remove_role(
        self, community_id: int, member_id: int, role_id: int, *, reason: str
    ) -> Outcome: ...


@dataclass(frozen=True)
class SyncResult:
    added: int = 0
    removed: int = 0
    refused: int = 0


class VoiceRoles:
    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    async def rules(self, community_id: int) -> dict[str, VoiceRoleRule]:
        return {
            scope: VoiceRoleRule(scope, role, top_n, percent)
            for scope, role, top_n, percent in await self.store.voice_role_rules(community_id)
        }

    async def configure(
        self,
        community_id: int,
        scope: str,
        role: RoleInfo | None,
        *,
        top_n: int | None = None,
        min_percent: int | None = None,
        by: int,
    ) -> VoiceRoleRule | None:
        """Set the scope's role and bar (the top 10 by default), or turn it off (`role` None): then the
        next sync takes it back from everyone the bot gave it to. Applies from the next recompute."""
        if role is None:
            await self.store.clear_voice_role(community_id, scope)
            return None
        check_voice_role(is_default=role.is_default, managed=role.managed, permissions=role.permissions)
        top_n, min_percent = validate_rule(top_n=top_n, min_percent=min_percent)
        await self.store.set_voice_role(
            community_id, scope, role.id, top_n=top_n, min_percent=min_percent, by=by, now=self.clock()
        )
        return VoiceRoleRule(scope, role.id, top_n, min_percent)

    async def _ineligible(self, community_id: int) -> set[int]:
        overrides = await self.store.trust_overrides(community_id)
        excluded = {m for m, mode in overrides.items() if mode == "exclude"}
        return excluded | await self.store.ranking_exclusions(community_id) | await self.store.bot_members(
            community_id
        )

    async def _ranking(self, community_id: int, scope: str) -> list[Ranked]:
        rows, _, _ = await self.store.trust_page(community_id, scope, offset=0, limit=RANKING_LIMIT)
        return [Ranked(int(r[0]), int(r[1]), float(r[2])) for r in rows]

    async def sync(self, community_id: int, platform: RolePlatform, *, reason: str) -> SyncResult:
        """Give and take back every scope's role as the stored ranking now says."""
        rules = await self.rules(community_id)
        holders: dict[str, list[tuple[int, int]]] = {}
        for scope, member, role in await self.store.voice_role_holders(community_id):
            holders.setdefault(scope, []).append((member, role))
        if not rules and not holders:
            return SyncResult()
        ineligible = await self._ineligible(community_id)
        added = removed = refused = 0
        now = self.clock()
        for scope in sorted(set(rules) | set(holders)):
            rule = rules.get(scope)
            usable = False
            if rule is not None:
                info = await platform.role_info(community_id, rule.role_id)
                usable = info is not None and role_usable(
                    is_default=info.is_default, managed=info.managed, permissions=info.permissions
                )
                if not usable:
                    log.warning("voice role %s of %s (%s) is unusable", rule.role_id, community_id, scope)
            ranking = await self._ranking(community_id, scope) if rule is not None else []
            held = holders.get(scope, [])
            add, remove = plan_role(rule, ranking, held, ineligible=ineligible, usable=usable)
            for member, role in remove:
                outcome = await platform.remove_role(community_id, member, role, reason=reason)
                if outcome == "refused":
                    refused += 1
                    continue
                await self.store.remove_voice_role_holder(community_id, scope, member)
                removed += outcome == "done"
            for member in add:
                assert rule is not None
                outcome = await platform.add_role(community_id, member, rule.role_id, reason=reason)
                if outcome == "done":
                    await self.store.add_voice_role_holder(community_id, scope, member, rule.role_id, now)
                    added += 1
                refused += outcome == "refused"
        if added or removed or refused:
            log.info(
                "voice roles in %s: %d given, %d taken back, %d refused",
                community_id,
                added,
                removed,
                refused,
            )
        return SyncResult(added, removed, refused)

    async def standing(self, community_id: int, member_id: int) -> list[RoleStanding]:
        """For each scope with a role: whether the member holds it (as given by the bot) and why."""
        rules = await self.rules(community_id)
        if not rules:
            return []
        held = {
            scope
            for scope, member, role in await self.store.voice_role_holders(community_id)
            if member == member_id and scope in rules and rules[scope].role_id == role
        }
        ranks = {
            str(scope): Ranked(member_id, int(rank), float(score))
            for scope, rank, score, *_ in await self.store.trust_standing(community_id, member_id)
        }
        ineligible = member_id in await self._ineligible(community_id)
        return [
            explain_role(rule, ranks.get(scope), holds=scope in held, ineligible=ineligible)
            for scope, rule in rules.items()
        ]

    async def held_by(self, community_id: int, member_id: int) -> list[int]:
        """The roles the bot gave this member (to take back before their data is erased)."""
        holders = await self.store.voice_role_holders(community_id)
        return sorted({role for _, member, role in holders if member == member_id})
