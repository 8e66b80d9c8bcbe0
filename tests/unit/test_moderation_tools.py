"""Trusted-voice roles (rule and service), the audit log, /help's grouping and the invite link, without
Discord: the store is a temporary SQLite file, the platform an in-memory fake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import i18n
from bot.audit import EVENTS, POST_WAIT, AuditLog, plain
from bot.errors import InvalidInput
from bot.invite import application_id_from_token, invite_url, permission_integer
from bot.roles import MATRIX, Role, help_sections
from bot.store import Store
from bot.trust.voice_role import Ranked, VoiceRoleRule, explain_role, plan_role, validate_rule
from bot.trust.voice_role_service import Outcome, RoleInfo, VoiceRoles

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 100
ROLE = 7


def ranking(*members: int) -> list[Ranked]:
    """members in rank order, scores falling by 10 points per rank from 1.0."""
    return [Ranked(m, i + 1, 1.0 - i / 10) for i, m in enumerate(members)]


# -- the rule ---------------------------------------------------------------------------------------------


def test_top_n_enters_at_n_and_leaves_only_beyond_2n():
    rule = VoiceRoleRule("all", ROLE, top_n=2)
    ranked = ranking(1, 2, 3, 4, 5)
    assert plan_role(rule, ranked, [], ineligible=(), usable=True) == ((1, 2), ())
    # 1 and 2 hold it; 3 and 4 overtook them: 1 (#3) and 2 (#4) are within 2N and keep it, nobody enters
    now = ranking(3, 4, 1, 2, 5)
    assert plan_role(rule, now, [(1, ROLE), (2, ROLE)], ineligible=(), usable=True) == ((3, 4), ())
    # falling to #5 (beyond 2N = 4) loses it
    later = ranking(3, 4, 6, 1, 2)
    held = [(1, ROLE), (2, ROLE)]
    assert plan_role(rule, later, held, ineligible=(), usable=True) == ((3, 4), ((2, ROLE),))


def test_score_bar_keeps_down_to_half():
    rule = VoiceRoleRule("all", ROLE, min_percent=60)
    ranked = [Ranked(1, 1, 1.0), Ranked(2, 2, 0.6), Ranked(3, 3, 0.4), Ranked(4, 4, 0.29)]
    assert plan_role(rule, ranked, [], ineligible=(), usable=True) == ((1, 2), ())
    held = [(1, ROLE), (2, ROLE), (3, ROLE), (4, ROLE)]
    assert plan_role(rule, ranked, held, ineligible=(), usable=True) == ((), ((4, ROLE),))


def test_excluded_bots_unranked_unusable_and_old_roles():
    rule = VoiceRoleRule("all", ROLE, top_n=3)
    ranked = ranking(1, 2, 3)
    # excluded or bot: never given, taken back at once; a holder who left the ranking loses it too
    assert plan_role(rule, ranked, [(2, ROLE), (9, ROLE)], ineligible={2}, usable=True) == (
        (1, 3),
        ((2, ROLE), (9, ROLE)),
    )
    # a role that gained a management permission (unusable) or a rule turned off: everyone loses it
    assert plan_role(rule, ranked, [(1, ROLE)], ineligible=(), usable=False) == ((), ((1, ROLE),))
    assert plan_role(None, ranked, [(1, ROLE)], ineligible=(), usable=True) == ((), ((1, ROLE),))
    # the scope's role changed: the old one goes, the new one is given to whoever qualifies
    assert plan_role(rule, ranked, [(1, 99)], ineligible=(), usable=True) == ((1, 2, 3), ((1, 99),))


def test_rule_validation():
    assert validate_rule(top_n=None, min_percent=None) == (10, None)
    assert validate_rule(top_n=None, min_percent=40) == (None, 40)
    bad = ({"top_n": 3, "min_percent": 40}, {"top_n": 0, "min_percent": None}, {"min_percent": 101})
    for kwargs in bad:
        with pytest.raises(InvalidInput):
            validate_rule(**{"top_n": None, "min_percent": None, **kwargs})  # type: ignore[arg-type]


def test_explanations_name_the_numbers():
    rule = VoiceRoleRule("all", ROLE, top_n=2)
    kept = explain_role(rule, Ranked(5, 3, 0.5), holds=True, ineligible=False)
    assert (kept.holds, kept.key, kept.params) == (
        True,
        "voices.role_why.top_kept",
        {"top": 2, "keep": 4, "rank": 3, "score": 50},
    )
    below = explain_role(rule, Ranked(5, 3, 0.5), holds=False, ineligible=False)
    assert below.key == "voices.role_why.top_below"
    assert explain_role(rule, Ranked(5, 1, 1.0), holds=False, ineligible=False).key == "voices.role_why.next"
    assert explain_role(rule, None, holds=False, ineligible=False).key == "voices.role_why.not_ranked"
    excluded = explain_role(rule, Ranked(5, 1, 1.0), holds=False, ineligible=True)
    assert excluded.key == "voices.role_why.excluded" and not excluded.holds
    # excluded but still holding it (until the next sync, or its removal was refused): said as it is
    held = explain_role(rule, Ranked(5, 1, 1.0), holds=True, ineligible=True)
    assert held.key == "voices.role_why.excluded_held" and held.holds
    for lang in i18n.LANGUAGES:
        text = i18n.t(lang, kept.key, role="<@&7>", scope="x", **kept.params)
        assert "#3" in text and "4" in text


# -- the service with a fake platform ---------------------------------------------------------------------


class FakeRoles:
    """Roles and who holds them, as a platform keeps them; `refuse` makes every change fail."""

    def __init__(self) -> None:
        self.roles: dict[int, RoleInfo] = {ROLE: RoleInfo(ROLE, False, False, 0)}
        self.held: set[tuple[int, int]] = set()
        self.members: set[int] = set(range(1, 20))
        self.refuse = False
        self.reasons: list[str] = []

    async def role_info(self, community_id: int, role_id: int) -> RoleInfo | None:
        return self.roles.get(role_id)

    async def add_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        return self._change(member_id, role_id, reason, add=True)

    async def remove_role(self, community_id: int, member_id: int, role_id: int, *, reason: str) -> Outcome:
        return self._change(member_id, role_id, reason, add=False)

    def _change(self, member_id: int, role_id: int, reason: str, *, add: bool) -> Outcome:
        if self.refuse:
            return "refused"
        if member_id not in self.members or role_id not in self.roles:
            return "gone"
        self.reasons.append(reason)
        (self.held.add if add else self.held.discard)((member_id, role_id))
        return "done"


@pytest.fixture
async def store(database: str | Path):
    s = await Store.open(database)
    yield s
    await s.close()


async def rank(store: Store, *members: int) -> None:
    rows = [(m, i + 1, 1.0 - i / 20, 6, 3, "{}") for i, m in enumerate(members)]
    await store.replace_trust_scores(GUILD, {"all": rows}, T0)


async def test_sync_gives_takes_back_and_retries_what_was_refused(store: Store):
    platform, roles = FakeRoles(), VoiceRoles(store, clock=lambda: T0)
    await roles.configure(GUILD, "all", platform.roles[ROLE], top_n=2, by=1)
    await rank(store, 1, 2, 3, 4, 5, 6)
    result = await roles.sync(GUILD, platform, reason="r")
    assert (result.added, result.removed) == (2, 0) and platform.held == {(1, ROLE), (2, ROLE)}
    await rank(store, 3, 4, 5, 6, 1, 2)  # 1 and 2 fall to #5 and #6, beyond 2N
    platform.refuse = True
    result = await roles.sync(GUILD, platform, reason="r")
    assert result.refused == 4 and platform.held == {(1, ROLE), (2, ROLE)}
    platform.refuse = False
    await roles.sync(GUILD, platform, reason="r")
    assert platform.held == {(3, ROLE), (4, ROLE)}
    assert await roles.held_by(GUILD, 3) == [ROLE] and await roles.held_by(GUILD, 1) == []
    # a member who left the server is forgotten, not retried
    platform.members.discard(3)
    await store.set_trust_override(GUILD, 3, "exclude", by=1, now=T0)
    await roles.sync(GUILD, platform, reason="r")
    assert {m for _, m, _ in await store.voice_role_holders(GUILD)} == {4}
    standing = await roles.standing(GUILD, 4)
    assert [(s.holds, s.key) for s in standing] == [(True, "voices.role_why.top_in")]  # #2 of the top 2


async def test_configure_refuses_powerful_roles_and_bots_never_get_one(store: Store):
    roles = VoiceRoles(store, clock=lambda: T0)
    with pytest.raises(InvalidInput, match="too_powerful"):
        await roles.configure(GUILD, "all", RoleInfo(8, False, False, 1 << 28), by=1)  # manage roles
    with pytest.raises(InvalidInput, match="unusable"):
        await roles.configure(GUILD, "all", RoleInfo(GUILD, True, False, 0), by=1)
    assert await store.voice_role_rules(GUILD) == []
    platform = FakeRoles()
    await store.db.execute(
        "INSERT INTO members (platform, community_id, member_id, first_seen, is_bot)"
        " VALUES ('discord', ?, 1, ?, 1)",
        (GUILD, T0.isoformat()),
    )
    await roles.configure(GUILD, "all", platform.roles[ROLE], top_n=2, by=1)
    await rank(store, 1, 2, 3)
    await roles.sync(GUILD, platform, reason="r")
    assert platform.held == {(2, ROLE)}  # the bot ranked #1 (if it ever were) gets nothing


# -- the audit log ----------------------------------------------------------------------------------------


class FakePoster:
    def __init__(self, *, fail: bool = False) -> None:
        self.posted: list[tuple[int, str]] = []
        self.fail = fail

    async def post_audit(self, community_id: int, channel_id: int, text: str) -> None:
        if self.fail:
            raise ConnectionError("no access")
        self.posted.append((channel_id, text))

    def mention(self, member_id: int) -> str:
        return f"@{member_id}"

    def channel_link(self, channel_id: int) -> str:
        return f"#{channel_id}"


async def test_audit_is_off_by_default_localized_and_never_raises(store: Store):
    audit, poster = AuditLog(store), FakePoster()
    assert not await audit.record(GUILD, "terms", by=5, version=2)  # no poster yet
    audit.attach(poster)
    assert not await audit.record(GUILD, "terms", by=5, version=2)  # no channel chosen
    await store.update_settings(GUILD, {"audit_channel_id": 55, "locale": "ar"}, by=1, now=T0)
    assert await audit.record(GUILD, "brand_approve", by=5, name="*Acme*", id=3)
    assert poster.posted == [(55, i18n.t("ar", "audit.brand_approve", by="@5", name=plain("*Acme*"), id=3))]
    assert "\\*Acme\\*" in poster.posted[0][1]
    audit.attach(FakePoster(fail=True))
    assert not await audit.record(GUILD, "erasure_self", rows=4)
    with pytest.raises(ValueError):
        await audit.record(GUILD, "no such event")


async def test_a_slow_audit_post_never_holds_the_action_and_lines_keep_their_order(store: Store):
    class SlowPoster(FakePoster):
        async def post_audit(self, community_id: int, channel_id: int, text: str) -> None:
            await asyncio.sleep(POST_WAIT + 1.0 if not self.posted else 0)  # rate limited: the first waits
            self.posted.append((channel_id, text))

    audit, poster = AuditLog(store), SlowPoster()
    audit.attach(poster)
    await store.update_settings(GUILD, {"audit_channel_id": 55}, by=1, now=T0)
    started = asyncio.get_running_loop().time()
    assert await audit.record(GUILD, "terms", by=5, version=2)  # on its way
    assert asyncio.get_running_loop().time() - started < POST_WAIT + 0.5  # not the whole post's wait
    assert await audit.record(GUILD, "terms", by=5, version=3)
    await audit.drain()
    assert [text for _, text in poster.posted] == [
        i18n.t("en", "audit.terms", by="@5", version=2),
        i18n.t("en", "audit.terms", by="@5", version=3),
    ]


async def test_a_slow_audit_channel_holds_no_other_communitys_lines(store: Store):
    class OneSlowChannel(FakePoster):
        async def post_audit(self, community_id: int, channel_id: int, text: str) -> None:
            if channel_id == 55:
                await asyncio.sleep(30)  # rate limited for a long while
            self.posted.append((channel_id, text))

    audit, poster = AuditLog(store), OneSlowChannel()
    audit.attach(poster)
    await store.update_settings(GUILD, {"audit_channel_id": 55}, by=1, now=T0)
    await store.update_settings(GUILD + 1, {"audit_channel_id": 66}, by=1, now=T0)
    assert await audit.record(GUILD, "terms", by=5, version=2)  # still waiting in the background
    started = asyncio.get_running_loop().time()
    assert await audit.record(GUILD + 1, "terms", by=5, version=2)
    assert asyncio.get_running_loop().time() - started < 0.5
    assert [channel for channel, _ in poster.posted] == [66]
    for task in list(audit._posting):
        task.cancel()


def test_every_audit_event_has_a_line_in_every_language():
    for event in EVENTS:
        for lang in i18n.LANGUAGES:
            assert f"audit.{event}" in i18n.catalog(lang), (lang, event)


# -- help and invite --------------------------------------------------------------------------------------


def test_help_lists_each_allowed_command_once_under_the_first_role_that_gives_it():
    everyone = help_sections({Role.MEMBER})
    assert [r for r, _ in everyone] == [Role.MEMBER]
    assert "voices me" in everyone[0][1] and "voices top" not in everyone[0][1]
    moderator = dict(help_sections({Role.MEMBER, Role.MODERATOR}))
    assert "voices top" in moderator[Role.MODERATOR] and "voices me" not in moderator[Role.MODERATOR]
    everything = help_sections(set(Role))
    listed = [c for _, commands in everything for c in commands]
    assert sorted(listed) == sorted(MATRIX)
    for command in MATRIX:
        for lang in i18n.LANGUAGES:
            assert f"help.cmd.{command}" in i18n.catalog(lang), (lang, command)


def test_invite_link_and_application_id():
    assert permission_integer() == 327222938704
    assert invite_url(42).endswith("client_id=42&permissions=327222938704&scope=bot+applications.commands")
    assert application_id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.x.y") == 123456789012345678
    assert application_id_from_token("not a token") is None
