"""The trusted-voice role service: moderators set a role per scope; after each recompute the bot gives
it and takes it back (`bot.trust.voice_role` decides who), through a small platform protocol.

Guarantees:
- The bot takes back only roles it gave: it records a member as a holder only when it gave them the
  role (a member who already had it, given by someone else, is left alone and not recorded), and it
  never removes the role from anyone it has not recorded.
- A role chosen for one scope cannot be chosen for another scope of the community; a role recorded
  for two scopes (chosen before that rule) is kept while either scope still holds it.
- A scope whose role changed gives a member the new role only once the old one was taken back.
- A role is re-checked against the platform before every sync (deleted, a bot's role, the community's
  moderator role, a moderation or management permission on the role or in a channel's overwrites, or
  a role the bot may not manage): such a role is never given, and one that would give moderation
  power is taken back from everyone the bot gave it to.
- Recorded holders are checked against the platform at every sync: a holder who left the server, or
  whose role was taken away on the platform (by a moderator, or when they left and came back), is
  forgotten, and is given the role again only if they qualify as anyone else would.
- Only members who can hold the role use up the top N: Reddit accounts and members who left are
  skipped (`bot.trust.voice_role.place`).
- A change the platform refuses (missing permission, role above the bot's) is counted, reported by
  `last_sync`, and retried at the next sync; so is a sync that fails.
- A recompute never waits for role changes: `request` returns at once, and each community's changes
  are made by its own task, one at a time, `pace` seconds apart (a big change, say the first sync in a
  large server, never holds up another community or the bot's other calls to Discord). A newer request
  supersedes one not yet taken up, and stops a sync under way after its current change: the new plan
  reads the holders as they are then. An erasure between two changes makes the sync plan again.
No platform import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from bot.errors import InvalidInput
from bot.trust.voice_role import (
    KEEP_FACTOR,
    Ranked,
    RoleInfo,
    RoleStanding,
    VoiceRoleRule,
    can_hold,
    check_voice_role,
    explain_role,
    place,
    place_of,
    plan_role,
    role_problem,
    validate_rule,
)

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

RANKING_LIMIT = 500  # the stored ranking of a scope holds at most this many entries
#: Seconds between two role changes of one community's sync: at most five a second, which leaves
#: Discord's rate limits (shared by the whole bot) to everything else it does.
PACE_SECONDS = 0.2
#: Name prefix of a community's sync task (followed by the community id).
SYNC_TASK = "microvoice-voice-roles-"
Outcome = Literal["done", "gone", "refused"]
#: Why a member is kept out of rankings and roles, or pinned (`VoiceRoles.ranking_status`).
RankingStatus = Literal["excluded", "contact", "bot", "left", "pinned"]

__all__ = [
    "MemberDirectory",
    "Outcome",
    "RankingStatus",
    "RoleInfo",
    "RolePlatform",
    "ScopeReport",
    "SyncPlan",
    "SyncResult",
    "VoiceRoles",
]


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


@runtime_checkable
class MemberDirectory(Protocol):
    """Who is a member of the community now, and which roles they hold. A platform that cannot tell
    is taken at its word: everyone ranked is present, and a recorded holder holds the role."""

    async def member_roles(self, community_id: int, member_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        """The role ids of each of `member_ids` who is a member now; a member who left is missing."""
        ...


@dataclass(frozen=True)
class ScopeReport:
    """One scope's role at the last sync: why it could not be given (a `PROBLEMS` reason) and how many
    changes the platform refused."""

    scope: str
    role_id: int
    problem: str | None = None
    refused: int = 0


@dataclass(frozen=True)
class SyncResult:
    added: int = 0
    removed: int = 0
    refused: int = 0
    scopes: tuple[ScopeReport, ...] = ()
    #: The sync stopped on an error (Discord failing, say): retried at the next recompute.
    failed: bool = False

    @property
    def blocked(self) -> tuple[ScopeReport, ...]:
        """Scopes whose role could not be given."""
        return tuple(s for s in self.scopes if s.problem is not None)


@dataclass(frozen=True)
class SyncPlan:
    """A sync under way: how many role changes it has still to make, and the scopes whose role it
    cannot give (`PROBLEMS`), known once it has planned."""

    pending: int = 0
    blocked: tuple[ScopeReport, ...] = ()


@dataclass(frozen=True)
class _Change:
    scope: str
    member_id: int
    role_id: int
    add: bool


@dataclass
class _Plan:
    """One sync's changes (each scope's removals before its additions) and what was made of them."""

    changes: list[_Change] = field(default_factory=list)
    scopes: list[ScopeReport] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    @property
    def blocked(self) -> tuple[ScopeReport, ...]:
        return tuple(s for s in self.scopes if s.problem is not None)

    def result(self, refused: dict[str, int], *, failed: bool = False) -> SyncResult:
        scopes = tuple(replace(s, refused=refused.get(s.scope, 0)) for s in self.scopes)
        return SyncResult(self.added, self.removed, sum(refused.values()), scopes, failed)


@dataclass
class _Members:
    """Members looked up on the platform during one sync, each at most once."""

    directory: MemberDirectory | None
    community_id: int
    known: dict[int, frozenset[int] | None] = field(default_factory=dict)

    async def roles(self, member_ids: Sequence[int]) -> dict[int, frozenset[int] | None]:
        """Each present member's roles (None: the platform cannot tell); members who left are missing."""
        if self.directory is None:
            return dict.fromkeys(member_ids)
        missing = [m for m in dict.fromkeys(member_ids) if m not in self.known]
        if missing:
            found = await self.directory.member_roles(self.community_id, missing)
            for member in missing:
                self.known[member] = found.get(member)
        return {m: self.known[m] for m in member_ids if self.known[m] is not None}

    @property
    def gone(self) -> set[int]:
        return {m for m, roles in self.known.items() if roles is None}


class VoiceRoles:
    def __init__(self, store: Store, *, clock: Callable[[], datetime], pace: float = PACE_SECONDS) -> None:
        self.store = store
        self.clock = clock
        self.pace = pace
        self._locks: dict[int, asyncio.Lock] = {}
        self._last: dict[int, SyncResult] = {}
        self._gone: dict[int, set[int]] = {}  # members found gone at the last sync
        self._tasks: dict[int, asyncio.Task[None]] = {}  # each community's sync task, while it runs
        self._wanted: dict[int, tuple[RolePlatform, str]] = {}  # the request no task has taken up yet
        self._asked: dict[int, int] = {}  # requests so far
        self._planned_for: dict[int, int] = {}  # the request count the latest plan answers
        self._plans: dict[int, SyncPlan] = {}
        self._pending: dict[int, int] = {}
        self._generation: dict[int, int] = {}  # erasures so far: a plan made before one is dropped
        self._conditions: dict[int, asyncio.Condition] = {}
        self._closing = False

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
        next sync takes it back from everyone the bot gave it to. Applies from the next recompute.

        Refused (InvalidInput, nothing changed): a role that may not be a trusted-voice role
        (`role_problem`), or that another scope of the community already gives (`voices.role_in_use`,
        with that `scope`)."""
        if role is None:
            await self.clear(community_id, scope)
            return None
        check_voice_role(role, mod_role_id=await self._mod_role(community_id))
        top_n, min_percent = validate_rule(top_n=top_n, min_percent=min_percent)
        for other in (await self.rules(community_id)).values():
            if other.role_id == role.id and other.scope != scope:
                raise InvalidInput("voices.role_in_use", scope=other.scope)
        if await self.store.scalar(
            "SELECT 1 FROM brands WHERE community_id = :c AND role_id = :r AND status <> 'removed' LIMIT 1",
            dict(c=community_id, r=role.id),
        ):
            # A brand's contacts hold it (and contacts are never voices): the two would undo each other.
            raise InvalidInput("voices.role_is_brand_role")
        await self.store.set_voice_role(
            community_id, scope, role.id, top_n=top_n, min_percent=min_percent, by=by, now=self.clock()
        )
        return VoiceRoleRule(scope, role.id, top_n, min_percent)

    async def clear(self, community_id: int, scope: str) -> VoiceRoleRule | None:
        """Turn the scope's role off; the rule that was set, or None if there was none."""
        rule = (await self.rules(community_id)).get(scope)
        if rule is None or not await self.store.clear_voice_role(community_id, scope):
            return None
        return rule

    async def _mod_role(self, community_id: int) -> int | None:
        return (await self.store.get_settings(community_id)).mod_role_id

    async def _ineligible(self, community_id: int) -> set[int]:
        overrides = await self.store.trust_overrides(community_id)
        excluded = {m for m, mode in overrides.items() if mode == "exclude"}
        return (
            excluded
            | await self.store.ranking_exclusions(community_id)
            | await self.store.bot_members(community_id)
        )

    async def ranking_status(self, community_id: int, member_id: int) -> RankingStatus | None:
        """Why the member is kept out of rankings and roles (a moderator's exclusion, a contact of a
        brand, a bot account, having left the community), or `pinned` when a moderator pinned them
        as trusted; else None."""
        mode, contact, bot, left = await self.store.ranking_status(community_id, member_id)
        if mode == "exclude":
            return "excluded"
        if contact:
            return "contact"
        if bot:
            return "bot"
        if left:
            return "left"
        return "pinned" if mode == "pin" else None

    async def _ranking(self, community_id: int, scope: str) -> list[Ranked]:
        rows, _, _ = await self.store.trust_page(community_id, scope, offset=0, limit=RANKING_LIMIT)
        return [Ranked(int(r[0]), int(r[1]), float(r[2])) for r in rows]

    async def _placed(
        self, ranking: list[Ranked], rule: VoiceRoleRule, ineligible: set[int], members: _Members
    ) -> list[Ranked]:
        """The ranking among members who can hold the role, as far down as the rule looks: the top
        2 × N, or everyone within the keeping bar. Members are looked up on the platform in order,
        only as many as that needs; ineligible members keep their place (they are never given it)."""
        candidates = [r for r in ranking if can_hold(r.member_id)]
        if rule.top_n is None:
            candidates = [r for r in candidates if rule.keeps(r.rank, r.score)]
            present = await members.roles([r.member_id for r in candidates if r.member_id not in ineligible])
            return place(candidates, lambda m: m in ineligible or m in present)
        wanted = KEEP_FACTOR * rule.top_n
        kept: list[Ranked] = []
        start = 0
        while start < len(candidates) and len(kept) < wanted:
            chunk = candidates[start : start + wanted - len(kept)]
            start += len(chunk)
            present = await members.roles([r.member_id for r in chunk if r.member_id not in ineligible])
            kept += [r for r in chunk if r.member_id in ineligible or r.member_id in present]
        return place(kept, lambda m: True)

    async def _verified(
        self, community_id: int, scope: str, held: list[tuple[int, int]], members: _Members
    ) -> list[tuple[int, int]]:
        """The scope's recorded holders who still hold their role on the platform. The others left, or
        the role was taken away there (by a moderator, or when they left and came back): their record
        is forgotten, as nothing of theirs is the bot's to take back any more."""
        if members.directory is None or not held:
            return held
        present = await members.roles([m for m, _ in held])
        kept = []
        for member, role in held:
            roles = present.get(member)
            if roles is None or role not in roles:
                await self.store.remove_voice_role_holder(community_id, scope, member)
            else:
                kept.append((member, role))
        return kept

    def _lock(self, community_id: int) -> asyncio.Lock:
        return self._locks.setdefault(community_id, asyncio.Lock())

    def _changed(self, community_id: int) -> asyncio.Condition:
        return self._conditions.setdefault(community_id, asyncio.Condition())

    async def _notify(self, community_id: int) -> None:
        changed = self._changed(community_id)
        async with changed:
            changed.notify_all()

    @contextlib.asynccontextmanager
    async def syncing(self, community_id: int) -> AsyncIterator[None]:
        """Held while an erasure takes a member's roles back and deletes their rows: no role change is
        made meanwhile, and a sync planned before it plans again (its plan may give the member a role)."""
        async with self._lock(community_id):
            try:
                yield
            finally:
                self._generation[community_id] = self._generation.get(community_id, 0) + 1

    def request(self, community_id: int, platform: RolePlatform, *, reason: str) -> None:
        """Ask for the community's roles to be synced with the stored ranking, and return at once: the
        changes are made by the community's own task, one at a time and `pace` seconds apart. A sync
        still under way stops after its current change and the new one plans afresh (it reads the
        holders as they are then), so requests never pile up."""
        self._asked[community_id] = self._asked.get(community_id, 0) + 1
        self._wanted[community_id] = (platform, reason)
        task = self._tasks.get(community_id)
        if task is None or task.done():
            self._tasks[community_id] = asyncio.create_task(
                self._run(community_id), name=f"{SYNC_TASK}{community_id}"
            )

    async def planned(self, community_id: int) -> SyncPlan | None:
        """Once the latest requested sync has planned: how many role changes it has still to make, and
        the scopes whose role it cannot give. None when no sync was asked for or its planning failed
        (`last_sync` says so). Waits for reads only, never for role changes."""
        asked = self._asked.get(community_id, 0)
        changed = self._changed(community_id)
        async with changed:
            await changed.wait_for(
                lambda: self._planned_for.get(community_id, 0) >= asked or not self._busy(community_id)
            )
        plan = self._plans.get(community_id)
        return replace(plan, pending=self._pending.get(community_id, 0)) if plan is not None else None

    async def settled(self, community_id: int) -> SyncResult | None:
        """Wait until the community's requested syncs have made (or given up) every change; the last
        one's result."""
        changed = self._changed(community_id)
        async with changed:
            await changed.wait_for(lambda: not self._busy(community_id))
        return self._last.get(community_id)

    async def sync(self, community_id: int, platform: RolePlatform, *, reason: str) -> SyncResult:
        """`request` a sync and wait for all its changes (a pending request it supersedes answers the
        same result)."""
        self.request(community_id, platform, reason=reason)
        result = await self.settled(community_id)
        assert result is not None
        return result

    async def close(self) -> None:
        """Stop every sync after its current change (a change cut off midway could leave a role given
        and not recorded); the next start's first recompute makes the rest."""
        self._closing = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        await asyncio.gather(*tasks, return_exceptions=True)

    def _busy(self, community_id: int) -> bool:
        task = self._tasks.get(community_id)
        return task is not None and not task.done()

    def pending(self, community_id: int) -> int:
        """Role changes the community's sync under way has still to make (0 when none is)."""
        return self._pending.get(community_id, 0) if self._busy(community_id) else 0

    def last_sync(self, community_id: int) -> SyncResult | None:
        """What the community's last finished sync did (its failure, if it failed), if one finished
        since the bot started."""
        return self._last.get(community_id)

    async def _run(self, community_id: int) -> None:
        """The community's sync task: plans the latest request, makes its changes, and plans again
        while newer requests (or an erasure) superseded the plan."""
        carried = (0, 0)  # given and taken back by plans superseded before they finished
        try:
            while not self._closing and (wanted := self._wanted.pop(community_id, None)) is not None:
                platform, reason = wanted
                asked = self._asked.get(community_id, 0)
                try:
                    async with self._lock(community_id):
                        generation = self._generation.get(community_id, 0)
                        plan = await self._plan(community_id, platform)
                except Exception:
                    log.exception("planning the voice roles of %s failed", community_id)
                    self._plans.pop(community_id, None)
                    self._last[community_id] = SyncResult(failed=True)  # moderators are told at the next
                    self._planned_for[community_id] = asked
                    await self._notify(community_id)
                    continue
                self._plans[community_id] = SyncPlan(len(plan.changes), plan.blocked)
                self._pending[community_id] = len(plan.changes)
                self._planned_for[community_id] = asked
                await self._notify(community_id)
                result = await self._apply(community_id, platform, plan, generation, reason=reason)
                if result is None:  # superseded: the next plan takes over from where this one stopped
                    carried = (carried[0] + plan.added, carried[1] + plan.removed)
                    continue
                result = replace(result, added=result.added + carried[0], removed=result.removed + carried[1])
                carried = (0, 0)
                self._last[community_id] = result
                if result.added or result.removed or result.refused or result.blocked or result.failed:
                    log.info(
                        "voice roles in %s: %d given, %d taken back, %d refused, %d scopes blocked%s",
                        community_id,
                        result.added,
                        result.removed,
                        result.refused,
                        len(result.blocked),
                        " (failed)" if result.failed else "",
                    )
        finally:
            self._pending.pop(community_id, None)
            self._tasks.pop(community_id, None)
            await self._notify(community_id)

    async def _apply(
        self, community_id: int, platform: RolePlatform, plan: _Plan, generation: int, *, reason: str
    ) -> SyncResult | None:
        """Make the plan's changes, one at a time and `pace` seconds apart; None when a newer request,
        an erasure or shutting down stopped it first. An unexpected platform error ends it as failed."""
        refused: dict[str, int] = {}
        waiting: set[tuple[str, int]] = set()  # an older role of the scope is still theirs: the new one waits
        now = self.clock()
        for i, change in enumerate(plan.changes):
            if i:
                await asyncio.sleep(self.pace)  # leave Discord's rate limits and the loop to other work
            if self._closing or community_id in self._wanted:
                return None
            async with self._lock(community_id):
                if self._generation.get(community_id, 0) != generation:
                    # An erasure ran: the plan may give the erased member a role. Plan again.
                    self._wanted.setdefault(community_id, (platform, reason))
                    return None
                try:
                    outcome = await self._change(
                        community_id, platform, plan, change, waiting, now, reason=reason
                    )
                except Exception:
                    log.exception("voice role change in %s failed", community_id)
                    return plan.result(refused, failed=True)
            if outcome == "refused":
                refused[change.scope] = refused.get(change.scope, 0) + 1
            self._pending[community_id] = len(plan.changes) - i - 1
        return plan.result(refused)

    async def _change(
        self,
        community_id: int,
        platform: RolePlatform,
        plan: _Plan,
        change: _Change,
        waiting: set[tuple[str, int]],
        now: datetime,
        *,
        reason: str,
    ) -> Outcome | None:
        """One planned change, recorded as it lands; None when it is skipped."""
        scope, member, role = change.scope, change.member_id, change.role_id
        if not change.add:
            outcome = await platform.remove_role(community_id, member, role, reason=reason)
            if outcome == "refused":
                waiting.add((scope, member))
                return outcome
            await self.store.remove_voice_role_holder(community_id, scope, member)
            plan.removed += outcome == "done"
            return outcome
        if (scope, member) in waiting:
            return None
        outcome = await platform.add_role(community_id, member, role, reason=reason)
        if outcome == "done":
            await self.store.add_voice_role_holder(community_id, scope, member, role, now)
            plan.added += 1
        return outcome

    async def _plan(self, community_id: int, platform: RolePlatform) -> _Plan:
        """Every scope's role changes as the stored ranking now says, with the platform's reads (the
        roles, the members) done and records of roles no longer held forgotten. Makes no role change."""
        plan = _Plan()
        rules = await self.rules(community_id)
        holders: dict[str, list[tuple[int, int]]] = {}
        for scope, member, role in await self.store.voice_role_holders(community_id):
            holders.setdefault(scope, []).append((member, role))
        if not rules and not holders:
            return plan
        ineligible = await self._ineligible(community_id)
        mod_role = await self._mod_role(community_id)
        directory = platform if isinstance(platform, MemberDirectory) else None
        members = _Members(directory, community_id)
        for scope in sorted(set(rules) | set(holders)):
            rule = rules.get(scope)
            problem = None
            if rule is not None:
                info = await platform.role_info(community_id, rule.role_id)
                problem = role_problem(info, mod_role_id=mod_role)
                if problem is not None:
                    log.warning("voice role %s of %s (%s): %s", rule.role_id, community_id, scope, problem)
                plan.scopes.append(ScopeReport(scope, rule.role_id, problem))
            held = await self._verified(community_id, scope, holders.get(scope, []), members)
            if rule is not None and problem == "unmanageable":
                continue  # nothing can be given or taken back until a moderator moves the role or the bot's
            ranking: list[Ranked] = []
            if rule is not None and problem is None:
                stored = await self._ranking(community_id, scope)
                ranking = await self._placed(stored, rule, ineligible, members)
            add, remove = plan_role(rule, ranking, held, ineligible=ineligible, usable=problem is None)
            elsewhere = {(m, r) for other, pairs in holders.items() if other != scope for m, r in pairs}
            for member, role in remove:
                if (member, role) in elsewhere:  # still held through another scope: only this record goes
                    await self.store.remove_voice_role_holder(community_id, scope, member)
                    continue
                plan.changes.append(_Change(scope, member, role, add=False))
            for member in add:
                assert rule is not None
                roles = (await members.roles([member])).get(member)
                if roles is not None and rule.role_id in roles:
                    continue  # given by someone else: not the bot's to record, nor to take back
                plan.changes.append(_Change(scope, member, rule.role_id, add=True))
        self._gone[community_id] = members.gone
        return plan

    async def member_left(self, community_id: int, member_id: int) -> None:
        """The member left the server: the platform dropped their roles, so no record of them stays,
        and they are not listed from the next ranking (`MemberFacts.left_day`)."""
        await self.store.forget_voice_role_holder(community_id, member_id)
        await self.store.member_left(community_id, member_id, self.clock())
        self._gone.setdefault(community_id, set()).add(member_id)

    async def member_returned(self, community_id: int, member_id: int) -> None:
        """The member joined the server again: listed again from the next ranking, as they stand."""
        await self.store.member_returned(community_id, member_id)
        self._gone.get(community_id, set()).discard(member_id)

    async def standing(self, community_id: int, member_id: int) -> list[RoleStanding]:
        """For each scope with a role: whether the member holds it (as given by the bot) and why, with
        their place among the members who can hold it, and what stopped the last sync if anything did."""
        rules = await self.rules(community_id)
        if not rules:
            return []
        held = {
            scope
            for scope, member, role in await self.store.voice_role_holders(community_id)
            if member == member_id and scope in rules and rules[scope].role_id == role
        }
        standing = {
            str(scope): Ranked(member_id, int(rank), float(score))
            for scope, rank, score, *_ in await self.store.trust_standing(community_id, member_id)
        }
        ineligible = await self.ranking_status(community_id, member_id) not in (None, "pinned")
        gone = self._gone.get(community_id, set()) - {member_id}
        last = self._last.get(community_id)
        reports = {r.scope: r for r in last.scopes} if last else {}
        out = []
        for scope, rule in rules.items():
            entry = standing.get(scope)
            if entry is not None and rule.top_n is not None:  # the place among those who can hold it
                entry = place_of(await self._ranking(community_id, scope), member_id, gone) or entry
            why = explain_role(rule, entry, holds=scope in held, ineligible=ineligible)
            report = reports.get(scope)
            if report is not None and report.role_id == rule.role_id:
                why = replace(why, problem=report.problem, refused=report.refused)
            out.append(why)
        return out

    async def held_by(self, community_id: int, member_id: int) -> list[int]:
        """The roles the bot gave this member (to take back before their data is erased)."""
        holders = await self.store.voice_role_holders(community_id)
        return sorted({role for _, member, role in holders if member == member_id})
