"""Trusted-voice roles through the sandbox: who may choose which role, roles the bot never gave,
holders checked against the server, places among members who can hold the role, roles the bot cannot
manage or that give moderation power in a channel, what moderators and members are told, and the
audit lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bot import i18n
from bot.discord_adapter.moderation import DiscordModeration
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher
from tests.e2e.test_moderation import MANAGE_MESSAGES, holders, slash
from tests.e2e.test_voices import recompute, seed_community

MANAGE_ROLES = 1 << 28
ROLE_ROUTE = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"


async def recomputed(h: Harness) -> str:
    """`/voices recompute` by the owner: its reply (once the role changes it started are made)."""
    interaction = await h.slash("voices", h.world.owner, subcommand="recompute", permissions=MANAGE_GUILD)
    await interaction.response()
    text = str((await interaction.wait_followup(timeout=30)).json["content"])
    await h.app.voice_roles.settled(h.world.guild)
    return text


async def me(h: Harness, member: int) -> str:
    reply = await slash(h, "voices", "me", member, perms=BASIC)
    return str(reply["embeds"][0]["description"])


def role_calls(h: Harness, method: str, member: int, role: int) -> int:
    """How many times the bot asked Discord to give (PUT) or take back (DELETE) a member's role."""
    return len(h.rest.find(method, f"/guilds/{h.world.guild}/members/{member}/roles/{role}"))


async def recorded(h: Harness) -> list[int]:
    return [int(m) for (m,) in await h.rows("SELECT member_id FROM voice_role_holders ORDER BY member_id")]


async def test_a_moderator_chooses_only_a_role_they_could_give_and_never_the_moderator_role(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    await slash(h, "microvoice", "setup", w.owner, {"mod_role": w.mod_role})
    regulars = sb.add_role(w.guild, "Regulars", permissions=BASIC)
    # w.mod is a moderator through the moderator role only: no Manage Roles, and "Regulars" is above
    # their highest role, so they could not give it themselves.
    for perms in (BASIC, BASIC | MANAGE_ROLES):
        for role in (w.mod_role, regulars):
            reply = await slash(h, "voices", "role", w.mod, {"role": role, "top": 2}, perms=perms)
            assert reply["content"] == i18n.t("en", "brand.role_not_yours", role=f"<@&{role}>")
    reply = await slash(h, "voices", "role", w.owner, {"role": w.mod_role, "top": 2})
    assert reply["content"] == i18n.t("en", "voices.role_moderator")
    assert await h.scalar("SELECT count(*) FROM voice_roles") == 0
    await recompute(h)
    assert holders(h, w.mod_role, people) == []

    # A role that becomes the moderator role later is taken back at the next sync, and the reply says why.
    await slash(h, "voices", "role", w.owner, {"role": regulars, "top": 2})
    await recompute(h)
    assert holders(h, regulars, people) == [0, 1]
    await slash(h, "microvoice", "setup", w.owner, {"mod_role": regulars})
    text = await recomputed(h)
    assert holders(h, regulars, people) == [] and await recorded(h) == []
    problem = i18n.t("en", "voices.role_problem.moderator")
    scope = i18n.t("en", "voices.scope_all")
    assert i18n.t("en", "voices.role_blocked", role=f"<@&{regulars}>", scope=scope, problem=problem) in text


async def test_a_role_the_member_already_had_is_never_taken_back(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    role = sb.add_role(w.guild, "Regulars", permissions=BASIC)
    sb.stored_guild(w.guild).members[people[2]]["roles"].append(str(role))  # a moderator gave it by hand
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 3})
    await recompute(h)
    assert holders(h, role, people) == [0, 1, 2]
    assert await recorded(h) == sorted(people[:2])  # the bot gave it to #1 and #2 only
    assert role_calls(h, "PUT", people[2], role) == 0
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 1})
    await recompute(h)
    assert holders(h, role, people) == [0, 1, 2]  # #3 keeps the role the bot never gave
    assert role_calls(h, "DELETE", people[2], role) == 0


async def test_holders_are_checked_against_the_server_and_who_left_uses_no_place(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 2})
    await recompute(h)
    assert holders(h, role, people) == [0, 1]

    # #1 leaves (Discord drops their roles; without the members intent no leave event reaches the bot):
    # the next sync forgets them, and their place in the top 2 goes to #3.
    sb.remove_member(w.guild, people[0])
    await recompute(h)
    assert holders(h, role, people[1:]) == [0, 1] and await recorded(h) == sorted(people[1:3])
    assert "you are #2, and it goes to the top 2" in await me(h, people[2])  # #3 in the ranking

    # They come back: roles dropped, ranked #1 again, so they are given it again (#3 keeps it: #3 ≤ 4).
    sb.add_member(w.guild, people[0], joined_at=datetime(2024, 1, 1, tzinfo=UTC), dispatch=False)
    await recompute(h)
    assert holders(h, role, people) == [0, 1, 2] and await recorded(h) == sorted(people[:3])
    assert f"You hold <@&{role}>" in await me(h, people[0])

    # A moderator takes it from #2 by hand: the record is forgotten, and #2, who still qualifies, gets
    # it again like anyone else would (to keep a member from holding it, a moderator excludes them).
    sb.stored_guild(w.guild).members[people[1]]["roles"].remove(str(role))
    await recompute(h)
    assert holders(h, role, people) == [0, 1, 2]
    assert role_calls(h, "PUT", people[1], role) == 2
    # ... and #3, whose role a moderator removed by hand and who no longer qualifies, is not listed
    # as holding it forever.
    sb.stored_guild(w.guild).members[people[2]]["roles"].remove(str(role))
    await recompute(h)
    assert await recorded(h) == sorted(people[:2])
    assert f"You do not hold <@&{role}>" in await me(h, people[2])


async def test_with_the_members_intent_a_member_who_leaves_is_forgotten_at_once(launcher: Launcher):
    h = await launcher.start(members_intent=True)
    w, sb = h.world, h.sandbox
    people = await seed_community(h, n=8, dispatch=True)
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 2})
    await recompute(h)
    assert holders(h, role, people) == [0, 1]
    sb.remove_member(w.guild, people[0])
    await h.settle()
    assert await recorded(h) == [people[1]]
    # Read from the member list the intent keeps: the next sync asks Discord about nobody.
    before = len(h.rest.find("GET", "/guilds/{guild_id}/members/{user_id}"))
    await recompute(h)
    assert holders(h, role, people[1:]) == [0, 1]
    fetched = h.rest.find("GET", "/guilds/{guild_id}/members/{user_id}")[before:]
    assert h.bot.user is not None
    assert all(c.path.endswith(f"/members/{h.bot.user.id}") for c in fetched)  # the bot's own roles only


async def test_a_role_the_bot_cannot_manage_is_refused_and_reported(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    above = sb.add_role(w.guild, "Above the bot", permissions=BASIC, position=999)
    reply = await slash(h, "voices", "role", w.owner, {"role": above, "top": 2})
    assert reply["content"] == i18n.t("en", "voices.role_unmanageable")
    guild = sb.stored_guild(w.guild)
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    bot_role = guild.roles[guild.bot_role_id]
    bot_role["permissions"] = str(BASIC)  # the bot lost Manage Roles (and Administrator)
    reply = await slash(h, "voices", "role", w.owner, {"role": role, "top": 2})
    assert reply["content"] == i18n.t("en", "voices.role_unmanageable")
    assert await h.scalar("SELECT count(*) FROM voice_roles") == 0

    bot_role["permissions"] = str(BASIC | MANAGE_ROLES)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 2})
    await recompute(h)
    assert holders(h, role, people) == [0, 1]
    # A server admin moves the role above the bot's: nothing is given or taken back, and both the
    # moderator who recomputes and a member who asks are told why.
    guild.roles[role]["position"] = 999
    text = await recomputed(h)
    problem = i18n.t("en", "voices.role_problem.unmanageable")
    scope = i18n.t("en", "voices.scope_all")
    assert i18n.t("en", "voices.role_blocked", role=f"<@&{role}>", scope=scope, problem=problem) in text
    assert i18n.t("en", "voices.role_problem_note", problem=problem) in await me(h, people[0])
    # Back below the bot; Discord refuses one change all the same: the count is in the reply.
    guild.roles[role]["position"] = 1
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 3})
    # The answer comes before the change is made; the next one says Discord refused it.
    sb.fail_next("PUT", ROLE_ROUTE, status=403, code=50013)
    text = await recomputed(h)
    assert i18n.t("en", "voices.roles_sync_pending", pending=1) in text and "refused 1" not in text
    assert holders(h, role, people) == [0, 1]
    assert "Discord refused 1 role change for this role" in await me(h, people[2])
    text = await recomputed(h)
    assert "Discord refused 1 role change;" in text  # ... and it is tried again
    assert i18n.t("en", "voices.roles_sync_pending", pending=1) in text
    assert holders(h, role, people) == [0, 1, 2]
    text = await recomputed(h)
    assert text.count("\n") == 0  # nothing refused, nothing left to change


async def test_a_role_with_moderation_power_in_a_channel_is_refused_and_taken_back(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    helpers = sb.add_role(w.guild, "Helpers", permissions=BASIC)
    sb.add_channel(w.guild, "queue", overwrites=[{"id": helpers, "type": 0, "allow": str(MANAGE_MESSAGES)}])
    reply = await slash(h, "voices", "role", w.owner, {"role": helpers})
    assert reply["content"] == i18n.t("en", "voices.role_channel_power")
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 2})
    await recompute(h)
    assert holders(h, role, people) == [0, 1]
    # A server admin lets the role manage messages in #general: the bot takes it back from everyone.
    overwrite = sb.normalise_overwrite({"id": role, "type": 0, "allow": str(MANAGE_MESSAGES)})
    sb.state.channels[w.general]["permission_overwrites"].append(overwrite)
    text = await recomputed(h)
    assert holders(h, role, people) == [] and await recorded(h) == []
    assert i18n.t("en", "voices.role_problem.channel_power") in text


async def test_a_role_serves_one_scope_and_setting_or_clearing_it_is_audited(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    audit = sb.add_channel(w.guild, "mod-log")
    await slash(h, "microvoice", "audit", w.owner, {"channel": audit})
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 3})
    reply = await slash(h, "voices", "role", w.owner, {"role": role, "topic": w.cooking})
    assert reply["content"] == i18n.t("en", "voices.role_in_use", scope=i18n.t("en", "voices.scope_all"))
    assert await h.rows("SELECT scope FROM voice_roles") == [("all",)]
    await slash(h, "voices", "role", w.owner, {})
    await slash(h, "voices", "role", w.owner, {})  # nothing left to turn off: no line
    lines = [m["content"] for m in sb.messages(audit)][1:]  # after the audit log's own first line
    scope = i18n.t("en", "voices.scope_all")
    assert lines == [
        i18n.t("en", "audit.voice_role_set", by=f"<@{w.owner}>", role=f"<@&{role}>", scope=scope),
        i18n.t("en", "audit.voice_role_cleared", by=f"<@{w.owner}>", role=f"<@&{role}>", scope=scope),
    ]


async def test_an_erasure_during_a_role_sync_leaves_the_member_without_the_role(
    harness: Harness, monkeypatch: Any
):
    """A sync read the ranking and is giving the role when the member asks to be erased: the erasure
    waits for the sync, then takes the role back, so it is not left behind unrecorded."""
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    role = sb.add_role(w.guild, "Regulars", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 2})
    give = DiscordModeration.add_role
    erasing: list[asyncio.Task[object]] = []

    async def racing(self: DiscordModeration, community_id: int, member_id: int, role_id: int, **kw: Any):
        if member_id == people[0] and not erasing:
            erasing.append(asyncio.create_task(h.app.privacy.erase(w.guild, people[0])))
            await asyncio.sleep(0.3)  # the erasure runs now, unless it waits for this sync
        return await give(self, community_id, member_id, role_id, **kw)

    monkeypatch.setattr(DiscordModeration, "add_role", racing)
    await recompute(h)
    await erasing[0]
    assert holders(h, role, people)[:1] != [0]  # the erased member does not hold it
    assert people[0] not in await recorded(h)


async def test_voices_role_answers_at_once_and_finishes_in_a_followup(harness: Harness):
    """The role, the bot's own member and the channels are read from Discord before the answer:
    the command defers first, so a slow or rate-limited read never misses Discord's three seconds."""
    h, w, sb = harness, harness.world, harness.sandbox
    role = sb.add_role(w.guild, "Regulars", permissions=BASIC)
    interaction = await h.slash("voices", w.owner, {"role": role, "top": 2}, subcommand="role",
                                permissions=MANAGE_GUILD)  # fmt: skip
    first = (await interaction.response()).json
    assert first["type"] == 5 and first["data"]["flags"] & (1 << 6)  # deferred, ephemeral
    followup = (await interaction.wait_followup(timeout=30)).json
    assert f"<@&{role}>" in followup["content"]


async def test_a_role_sync_that_fails_is_said_in_the_recompute_answer(harness: Harness):
    """Discord fails the sync's first role change with an error the sync does not expect (a 400 here):
    the recompute stands, and the moderator's next answer says the roles were not synced that time
    while the retry is under way."""
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    role = sb.add_role(w.guild, "Regulars", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 3})
    sb.fail_next("PUT", ROLE_ROUTE, status=400, code=50035)
    text = await recomputed(h)
    assert text.startswith(i18n.t("en", "voices.recomputed", scopes=1, seconds="0.0")[:12])
    assert i18n.t("en", "voices.roles_sync_pending", pending=3) in text
    assert holders(h, role, people) == []
    text = await recomputed(h)
    assert i18n.t("en", "voices.roles_sync_failed") in text
    assert i18n.t("en", "voices.roles_sync_pending", pending=3) in text
    assert holders(h, role, people) == [0, 1, 2]


async def test_a_large_role_change_holds_up_neither_the_answer_nor_another_community(harness: Harness):
    """Discord takes a while to answer each of this server's role changes (a first sync in a big
    server, rate limited): `/voices recompute` answers before they are made, with how many are pending;
    the scheduled recompute of every server returns, the other server's ranking written and its own
    role changes made, while this server's are still being made; in the end every change landed."""
    h, w, sb = harness, harness.world, harness.sandbox
    h.app.voice_roles.pace = 0.02  # the slowness is Discord's here
    people = await seed_community(h, n=14)  # nine are ranked, the first five first
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 5})

    def slow(members: list[int], seconds: float) -> None:
        for member in members:
            sb.hold_next("PUT", f"/guilds/{w.guild}/members/{member}/roles/{role}", seconds=seconds)

    slow(people[:5], 0.2)
    interaction = await h.slash("voices", w.owner, subcommand="recompute", permissions=MANAGE_GUILD)
    await interaction.response()
    text = str((await interaction.wait_followup(timeout=30)).json["content"])
    assert i18n.t("en", "voices.roles_sync_pending", pending=5) in text
    assert len(await recorded(h)) < 5  # answered while the changes are being made
    await h.app.voice_roles.settled(w.guild)
    assert holders(h, role, people) == [0, 1, 2, 3, 4] and len(await recorded(h)) == 5

    # Another server with a trusted-voice role of its own.
    other = sb.add_guild("Second server", owner_id=w.owner)
    talk = sb.add_channel(other, "talk")
    await h.settle()
    others = await seed_community(h, n=8, guild=other, channel=talk)
    other_role = sb.add_role(other, "Regulars", permissions=BASIC)
    info = await DiscordModeration(h.bot).role_info(other, other_role)
    assert info is not None
    await h.app.voice_roles.configure(other, "all", info, top_n=2, by=w.owner)

    await slash(h, "voices", "role", w.owner, {"role": role, "top": 9})  # four more, slower
    slow(people[5:], 0.6)  # whichever four are ranked #6 to #9
    await h.app.voices.recompute_all()  # the scheduled recompute
    assert await h.scalar("SELECT count(*) FROM trust_scores WHERE community_id = ?", other) > 0
    assert await h.scalar("SELECT count(*) FROM voice_role_holders WHERE community_id = ?", w.guild) < 9
    await h.app.voice_roles.settled(other)
    assert [i for i, p in enumerate(others) if str(other_role) in sb.member(other, p)["roles"]] == [0, 1]
    assert h.app.voice_roles.pending(w.guild) > 0  # this server's changes are still being made
    await h.app.voice_roles.settled(w.guild)
    top = await h.rows(
        "SELECT member_id FROM trust_scores WHERE community_id = ? AND scope = 'all' AND rank <= 9", w.guild
    )
    mine = await h.rows("SELECT member_id FROM voice_role_holders WHERE community_id = ?", w.guild)
    assert sorted(int(m) for (m,) in mine) == sorted(int(m) for (m,) in top)
    assert len(holders(h, role, people)) == 9
