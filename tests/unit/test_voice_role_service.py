"""Trusted-voice roles against a platform that knows its members: who the bot may take a role back from,
roles shared or changed between scopes, holders checked against the platform, places among those who
can hold a role, roles the bot may not give, the numbers members are shown, and overlapping syncs.
The store is a temporary database (SQLite and PostgreSQL), the platform an in-memory fake."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot import i18n
from bot.errors import InvalidInput
from bot.partners.brands import DANGEROUS_PERMISSIONS
from bot.store import Store
from bot.subreddits.ids import REDDIT_BIT
from bot.trust.voice_role import Ranked, RoleInfo, VoiceRoleRule, explain_role, place, score_percent
from bot.trust.voice_role_service import MemberDirectory, Outcome, VoiceRoles

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 100
ROLE, OTHER = 7, 8
MANAGE_MESSAGES = 1 << 13


class Server:
    """A platform that keeps its members and their roles, and answers who is a member now."""

    def __init__(self, members: Sequence[int] = range(1, 20)) -> None:
        self.roles: dict[int, RoleInfo] = {r: RoleInfo(r, False, False, 0) for r in (ROLE, OTHER)}
        self.members: dict[int, set[int]] = {m: set() for m in members}
        self.refuse: set[tuple[str, int]] = set()  # ("add" | "remove", role) the platform forbids
        self.calls: list[tuple[str, int, int]] = []
        self.busy = 0
        self.most_busy = 0
        self.changed = asyncio.Condition()

    async def role_info(self, community_id: int, role_id: int) -> RoleInfo | None:
        return self.roles.get(role_id)

    async def member_roles(self, community_id: int, member_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        return {m: frozenset(self.members[m]) for m in member_ids if m in self.members}

    async def add_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        return await self._change("add", member_id, role_id)

    async def remove_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        return await self._change("remove", member_id, role_id)

    async def _change(self, action: str, member_id: int, role_id: int) -> Outcome:
        self.busy += 1
        self.most_busy = max(self.most_busy, self.busy)
        await asyncio.sleep(0)  # a network call: another task may run meanwhile
        self.busy -= 1
        if (action, role_id) in self.refuse:
            return "refused"
        if member_id not in self.members or role_id not in self.roles:
            return "gone"
        self.calls.append((action, member_id, role_id))
        (self.members[member_id].add if action == "add" else self.members[member_id].discard)(role_id)
        async with self.changed:
            self.changed.notify_all()
        return "done"

    async def made(self, n: int) -> None:
        """Until the platform has made `n` changes."""
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.calls) >= n)

    def holding(self, role_id: int = ROLE) -> list[int]:
        return sorted(m for m, roles in self.members.items() if role_id in roles)


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


async def rank(store: Store, scopes: dict[str, Sequence[int]]) -> None:
    """Each scope's members in rank order, scores falling by 5 points per rank from 1.0."""
    rows = {
        scope: [(m, i + 1, 1.0 - i / 20, 6, 3, "{}") for i, m in enumerate(members)]
        for scope, members in scopes.items()
    }
    await store.replace_trust_scores(GUILD, rows, T0)


async def recorded(store: Store) -> list[tuple[str, int, int]]:
    return await store.voice_role_holders(GUILD)


def test_the_discord_platform_answers_who_is_a_member():
    from bot.discord_adapter.moderation import DiscordModeration

    assert isinstance(Server(), MemberDirectory)
    assert isinstance(DiscordModeration.__new__(DiscordModeration), MemberDirectory)


async def test_a_role_the_member_already_had_is_neither_recorded_nor_taken_back(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    server.members[3].add(ROLE)  # a moderator gave it by hand
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=3, by=1)
    await rank(store, {"all": [1, 2, 3, 4, 5, 6, 7, 8]})
    result = await roles.sync(GUILD, server, reason="r")
    assert result.added == 2 and ("add", 3, ROLE) not in server.calls
    assert [m for _, m, _ in await recorded(store)] == [1, 2]
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=1, by=1)
    await rank(store, {"all": [1, 4, 5, 6, 7, 8, 2, 3]})  # 2 and 3 fall far below the bar
    await roles.sync(GUILD, server, reason="r")
    assert server.holding() == [1, 3]  # 2 (given by the bot) lost it; 3 keeps what the bot never gave
    assert ("remove", 3, ROLE) not in server.calls


async def test_a_role_chosen_for_one_scope_is_refused_for_another(store: Store):
    roles = VoiceRoles(store, clock=lambda: T0)
    await roles.configure(GUILD, "all", RoleInfo(ROLE, False, False, 0), top_n=2, by=1)
    with pytest.raises(InvalidInput) as refused:
        await roles.configure(GUILD, "channel:55", RoleInfo(ROLE, False, False, 0), top_n=2, by=1)
    assert refused.value.key == "voices.role_in_use" and refused.value.params == {"scope": "all"}
    assert [s for s, *_ in await store.voice_role_rules(GUILD)] == ["all"]
    # the same scope may change its own bar
    await roles.configure(GUILD, "all", RoleInfo(ROLE, False, False, 0), top_n=5, by=1)
    assert (await roles.rules(GUILD))["all"].top_n == 5


async def test_a_role_recorded_for_two_scopes_is_kept_while_either_holds_it(store: Store):
    """Rules set before a role could serve only one scope: member 1 holds it through both scopes and
    falls out of one of them; the role stays, only that scope's record goes."""
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    for scope in ("all", "channel:55"):
        await store.set_voice_role(GUILD, scope, ROLE, top_n=1, min_percent=None, by=1, now=T0)
        await store.add_voice_role_holder(GUILD, scope, 1, ROLE, T0)
    server.members[1].add(ROLE)
    await rank(store, {"all": [1, 2, 3], "channel:55": [2, 3, 4]})  # 1 is no longer ranked in the channel
    await roles.sync(GUILD, server, reason="r")
    assert 1 in server.holding() and ("remove", 1, ROLE) not in server.calls
    assert ("all", 1, ROLE) in await recorded(store)
    assert ("channel:55", 1, ROLE) not in await recorded(store)
    standing = await roles.standing(GUILD, 1)
    assert [(s.scope, s.holds) for s in standing] == [("all", True), ("channel:55", False)]


async def test_a_changed_role_is_given_only_once_the_old_one_is_taken_back(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=1, by=1)
    await rank(store, {"all": [1, 2]})
    await roles.sync(GUILD, server, reason="r")
    assert server.holding(ROLE) == [1]
    await roles.configure(GUILD, "all", server.roles[OTHER], top_n=1, by=1)
    server.refuse.add(("remove", ROLE))  # the old role was moved above the bot's
    result = await roles.sync(GUILD, server, reason="r")
    assert result.refused == 1 and server.holding(OTHER) == []
    assert await recorded(store) == [("all", 1, ROLE)]  # still the bot's to take back
    assert await roles.held_by(GUILD, 1) == [ROLE]
    server.refuse.clear()
    await roles.sync(GUILD, server, reason="r")
    assert server.holding(ROLE) == [] and server.holding(OTHER) == [1]
    assert await recorded(store) == [("all", 1, OTHER)]


async def test_holders_are_checked_against_the_platform(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=3, by=1)
    await rank(store, {"all": [1, 2, 3, 4, 5, 6, 7, 8]})
    await roles.sync(GUILD, server, reason="r")
    assert server.holding() == [1, 2, 3]
    # 1 left and came back (Discord dropped their roles); a moderator took it from 2 by hand; 3 left
    server.members[1].clear()
    server.members[2].discard(ROLE)
    del server.members[3]
    await roles.sync(GUILD, server, reason="r")
    # 1 and 2 still qualify: given again; 3 is forgotten, and the top 3 now includes 4
    assert server.holding() == [1, 2, 4]
    assert [m for _, m, _ in await recorded(store)] == [1, 2, 4]
    assert ("remove", 3, ROLE) not in server.calls
    # one who no longer qualifies and lost the role by hand is forgotten, never "holding it forever"
    await rank(store, {"all": [1, 2, 5, 6, 7, 8, 9, 4]})  # 4 falls to #8, beyond the top 6
    server.members[4].discard(ROLE)
    await roles.sync(GUILD, server, reason="r")
    assert [m for _, m, _ in await recorded(store)] == [1, 2, 5]
    assert ("remove", 4, ROLE) not in server.calls
    # a member who leaves is forgotten at once when the platform says so
    await roles.member_left(GUILD, 5)
    assert [m for _, m, _ in await recorded(store)] == [1, 2]


async def test_only_members_who_can_hold_the_role_use_up_the_top(store: Store):
    reddit = REDDIT_BIT | 12345
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    del server.members[2]  # ranked #3, left the server
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=2, by=1)
    await rank(store, {"all": [reddit, 1, 2, 3, 4, 5, 6, 7]})
    await roles.sync(GUILD, server, reason="r")
    assert server.holding() == [1, 3]
    # members are told their place among those who can hold it: 3 is #4 in the ranking, #2 here
    (standing,) = await roles.standing(GUILD, 3)
    assert (standing.key, standing.params["rank"]) == ("voices.role_why.top_in", 2)
    (standing,) = await roles.standing(GUILD, 4)
    assert (standing.key, standing.params["rank"]) == ("voices.role_why.top_below", 3)
    assert place([Ranked(reddit, 1, 1.0), Ranked(-5, 2, 0.9), Ranked(9, 3, 0.8)], lambda m: True) == [
        Ranked(9, 1, 0.8)
    ]


@pytest.mark.parametrize(
    ("info", "key"),
    [
        (RoleInfo(ROLE, False, False, 0, manageable=False), "voices.role_unmanageable"),
        (RoleInfo(ROLE, False, False, 0, channel_permissions=MANAGE_MESSAGES), "voices.role_channel_power"),
        (RoleInfo(ROLE, False, False, MANAGE_MESSAGES), "voices.role_too_powerful"),
        (RoleInfo(ROLE, False, True, 0), "voices.role_unusable"),
    ],
)
async def test_configure_refuses_a_role_the_bot_may_not_give(store: Store, info: RoleInfo, key: str):
    roles = VoiceRoles(store, clock=lambda: T0)
    with pytest.raises(InvalidInput) as refused:
        await roles.configure(GUILD, "all", info, by=1)
    assert refused.value.key == key and key in i18n.catalog("he")
    assert await store.voice_role_rules(GUILD) == []


async def test_the_moderator_role_is_refused_and_taken_back_once_it_becomes_one(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    await store.update_settings(GUILD, {"mod_role_id": OTHER}, by=1, now=T0)
    with pytest.raises(InvalidInput, match=r"voices\.role_moderator"):
        await roles.configure(GUILD, "all", server.roles[OTHER], by=1)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=2, by=1)
    await rank(store, {"all": [1, 2, 3]})
    await roles.sync(GUILD, server, reason="r")
    assert server.holding() == [1, 2]
    await store.update_settings(GUILD, {"mod_role_id": ROLE}, by=1, now=T0)  # chosen as moderator role later
    result = await roles.sync(GUILD, server, reason="r")
    assert server.holding() == [] and await recorded(store) == []
    assert [(s.scope, s.problem) for s in result.blocked] == [("all", "moderator")]


async def test_a_channel_overwrite_that_gives_moderation_power_takes_the_role_back(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=2, by=1)
    await rank(store, {"all": [1, 2, 3]})
    await roles.sync(GUILD, server, reason="r")
    server.roles[ROLE] = RoleInfo(ROLE, False, False, 0, channel_permissions=MANAGE_MESSAGES)
    result = await roles.sync(GUILD, server, reason="r")
    assert server.holding() == [] and result.removed == 2
    assert [s.problem for s in result.blocked] == ["channel_power"]
    assert MANAGE_MESSAGES & DANGEROUS_PERMISSIONS


async def test_a_role_the_bot_cannot_manage_is_reported_not_retried_blindly(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=2, by=1)
    await rank(store, {"all": [1, 2, 3]})
    await roles.sync(GUILD, server, reason="r")
    server.roles[ROLE] = RoleInfo(ROLE, False, False, 0, manageable=False)  # moved above the bot's role
    await rank(store, {"all": [3, 4, 5, 1, 2]})
    calls = len(server.calls)
    result = await roles.sync(GUILD, server, reason="r")
    assert len(server.calls) == calls and [s.problem for s in result.blocked] == ["unmanageable"]
    assert roles.last_sync(GUILD) == result
    (standing,) = await roles.standing(GUILD, 3)
    assert standing.problem == "unmanageable"
    # refused changes are counted per scope, and members see them on their role line
    server.roles[ROLE] = RoleInfo(ROLE, False, False, 0)
    server.refuse.add(("add", ROLE))
    result = await roles.sync(GUILD, server, reason="r")
    assert result.refused == 2 and result.blocked == () and result.scopes[0].refused == 2
    (standing,) = await roles.standing(GUILD, 3)
    assert (standing.key, standing.refused) == ("voices.role_why.next", 2)
    # a deleted role: its holders are forgotten (Discord dropped it), and moderators are told
    del server.roles[ROLE]
    result = await roles.sync(GUILD, server, reason="r")
    assert [s.problem for s in result.blocked] == ["deleted"] and await recorded(store) == []


def test_the_numbers_shown_agree_with_the_decision():
    rule = VoiceRoleRule("all", ROLE, min_percent=60)
    below = explain_role(rule, Ranked(5, 2, 0.596), holds=False, ineligible=False)
    assert below.key == "voices.role_why.score_below" and below.params["score"] == Decimal("59.6")
    text = i18n.t("en", below.key, role="@r", scope="s", **below.params)
    assert "yours is 59.6%" in text and "60%" in text
    half = VoiceRoleRule("all", ROLE, min_percent=25)  # kept down to 12.5%
    kept = explain_role(half, Ranked(5, 9, 0.126), holds=True, ineligible=False)
    assert kept.key == "voices.role_why.score_kept"
    assert i18n.t("en", kept.key, role="@r", scope="s", **kept.params).endswith(
        "your score is 12.6% of the top voice's, under 25%; you keep it while you stay at 12.5% or more."
    )
    assert str(score_percent(1.0)) == "100" and str(score_percent(0.6)) == "60"
    # whatever the score, the number shown reaches the bar exactly when the member does
    for bar in (VoiceRoleRule("all", ROLE, min_percent=p) for p in (1, 25, 33, 60, 99, 100)):
        assert bar.min_percent is not None
        for i in range(1001):
            score = i / 1000 + (i % 7) * 1e-5
            assert (score_percent(score) >= bar.min_percent) == bar.enters(1, score), (bar, score)
            keep = Decimal(bar.min_percent) / 2
            assert (score_percent(score) >= keep) == bar.keeps(1, score), (bar, score)


async def test_overlapping_syncs_never_overlap_and_a_newer_one_supersedes_a_pending_one(store: Store):
    server, roles = Server(), VoiceRoles(store, clock=lambda: T0, pace=0)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=3, by=1)
    await rank(store, {"all": [1, 2, 3, 4, 5]})
    first, second = await asyncio.gather(
        roles.sync(GUILD, server, reason="scheduled"), roles.sync(GUILD, server, reason="moderator")
    )
    assert first == second and first.added == 3  # one sync answered both requests
    assert [c for c in server.calls if c[0] == "add"] == [("add", m, ROLE) for m in (1, 2, 3)]
    assert server.most_busy == 1


async def test_a_request_returns_at_once_and_a_newer_one_stops_the_sync_under_way(store: Store):
    """A large change (the top 40 at once) is made by the community's own task, paced: the request
    answers before any role is given, with how many changes are pending. The ranking changes midway
    and a new request comes: the old plan stops after its current change and the new one is made, so
    every member ends up as the new ranking says, with no change made twice."""
    server = Server(members=range(1, 101))
    roles = VoiceRoles(store, clock=lambda: T0, pace=0.005)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=40, by=1)
    await rank(store, {"all": list(range(1, 101))})
    roles.request(GUILD, server, reason="r")
    assert server.calls == []
    plan = await roles.planned(GUILD)
    assert plan is not None and plan.pending == 40 and server.holding() == []
    await server.made(10)
    await rank(store, {"all": list(range(100, 0, -1))})  # the order turns around
    roles.request(GUILD, server, reason="r")
    result = await roles.settled(GUILD)
    assert result is not None and not result.failed and roles.pending(GUILD) == 0
    given = [m for action, m, _ in server.calls if action == "add"]
    assert len(given) == len(set(given))  # nobody was given it twice
    # The first plan gave it to the lowest ids, now ranked #90 and below (beyond the top 2 × 40): the
    # new plan took it back from them and gave it to the new top 40.
    assert server.holding() == list(range(61, 101))
    assert [m for _, m, _ in await recorded(store)] == list(range(61, 101))
    assert result.added == len(given) and result.removed == len(given) - 40


async def test_an_erasure_between_two_changes_makes_the_sync_plan_again(store: Store):
    server = Server()
    roles = VoiceRoles(store, clock=lambda: T0, pace=0.01)
    await roles.configure(GUILD, "all", server.roles[ROLE], top_n=3, by=1)
    await rank(store, {"all": [1, 2, 3, 4, 5]})
    roles.request(GUILD, server, reason="r")
    await roles.planned(GUILD)
    await server.made(1)
    async with roles.syncing(GUILD):  # member 3 is erased: gone from the ranking before their turn
        await rank(store, {"all": [1, 2, 4, 5]})
    await roles.settled(GUILD)
    assert server.holding() == [1, 2, 4] and 3 not in [m for _, m, _ in server.calls]


async def test_ranking_status_says_what_keeps_a_member_out(store: Store):
    roles = VoiceRoles(store, clock=lambda: T0)
    await store.set_trust_override(GUILD, 1, "exclude", by=9, now=T0)
    await store.set_trust_override(GUILD, 2, "pin", by=9, now=T0)
    await store.create_brand(GUILD, "Acme", [3], [], by=9, now=T0)
    await store.db.execute(
        "INSERT INTO members (platform, community_id, member_id, first_seen, is_bot)"
        " VALUES ('discord', ?, 4, ?, 1)",
        (GUILD, T0.isoformat()),
    )
    await store.db.execute(
        "INSERT INTO members (platform, community_id, member_id, first_seen, is_bot)"
        " VALUES ('discord', ?, 6, ?, 0)",
        (GUILD, T0.isoformat()),
    )
    await roles.member_left(GUILD, 6)
    assert [await roles.ranking_status(GUILD, m) for m in (1, 2, 3, 4, 5, 6)] == [
        "excluded",
        "pinned",
        "contact",
        "bot",
        None,
        "left",
    ]
    await roles.member_returned(GUILD, 6)
    assert await roles.ranking_status(GUILD, 6) is None


async def test_a_role_is_never_both_a_brands_and_a_trusted_voice_role(store: Store):
    """A brand's contacts hold its role while it is approved, and contacts are never voices: one role
    for both would have each sync undo the other (the voice sync took it from the contacts, and gave
    the brand's access to the top voices). Refused either way."""
    from bot.community import CommunityService
    from bot.ingest import Ingest
    from bot.partners import BrandService, ContactFacts, RoleFacts

    roles = VoiceRoles(store, clock=lambda: T0)
    brands = BrandService(store, CommunityService(store, Ingest(store), clock=lambda: T0), clock=lambda: T0)
    oat = await brands.register(GUILD, "Oat Co", [ContactFacts(7, False, True)], [], by=1)
    await brands.set_role(GUILD, oat, RoleFacts(OTHER, False, False, 0))
    with pytest.raises(InvalidInput) as taken:
        await roles.configure(GUILD, "all", RoleInfo(OTHER, False, False, 0), top_n=2, by=1)
    assert taken.value.key == "voices.role_is_brand_role"
    await roles.configure(GUILD, "all", RoleInfo(ROLE, False, False, 0), top_n=2, by=1)
    with pytest.raises(InvalidInput) as voices:
        await brands.set_role(GUILD, oat, RoleFacts(ROLE, False, False, 0))
    assert voices.value.key == "brand.role_is_voice_role"
