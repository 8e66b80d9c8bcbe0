"""Moderator tools through the sandbox: trusted-voice roles, the audit log, /help."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot import i18n
from bot.app import build_bot
from bot.config import Settings
from bot.invite import PERMISSIONS, invite_url, permission_integer
from tests.e2e.conftest import (
    BASIC,
    GUILD_READY_TIMEOUT,
    MANAGE_GUILD,
    Harness,
    eventually,
    listeners_done,
    stop_bot,
)
from tests.e2e.test_brands import brand_cmd
from tests.e2e.test_partners import join, set_terms
from tests.e2e.test_privacy import confirm
from tests.e2e.test_voices import recompute, seed_community

EPHEMERAL = 1 << 6
MANAGE_MESSAGES = 1 << 13
ADMINISTRATOR = 1 << 3
ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = "/webhooks/{application_id}/{token}/messages/@original"


async def slash(
    h: Harness,
    name: str,
    sub: str,
    user: int,
    options: dict[str, Any] | None = None,
    perms: int = MANAGE_GUILD,
) -> dict[str, Any]:
    interaction = await h.slash(name, user, options, subcommand=sub or None, permissions=perms)
    call = (await interaction.response()).json
    if call["type"] == 5:
        return (await interaction.wait_followup(timeout=30)).json
    return call["data"]


def holders(h: Harness, role: int, people: list[int]) -> list[int]:
    """Which of `people` hold the role in the sandbox's own member records, by position in `people`."""
    return [i for i, p in enumerate(people) if str(role) in h.sandbox.member(h.world.guild, p)["roles"]]


async def test_trusted_voice_role_follows_the_ranking_with_hysteresis(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=10)  # people[i] is ranked #i+1 in the whole server
    role = sb.add_role(w.guild, "Trusted voice", permissions=BASIC)
    reply = await slash(h, "voices", "role", w.owner, {"role": role, "top": 3})
    assert reply["flags"] & EPHEMERAL and "top 3" in reply["content"] and "top 6" in reply["content"]
    assert holders(h, role, people) == []  # applies from the next recompute

    await recompute(h)
    assert holders(h, role, people) == [0, 1, 2]
    granted = h.rest.find("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    assert len(granted) == 3 and all(c.headers.get("X-Audit-Log-Reason") for c in granted)

    # The bar tightens to the top 1: #2 is within 2 × 1 and keeps it, #3 falls well below and loses it.
    await slash(h, "voices", "role", w.owner, {"role": role, "top": 1})
    await recompute(h)
    assert holders(h, role, people) == [0, 1]
    # Nothing changed: another recompute changes no role (no flicker).
    calls = len(h.rest.find("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")) + len(
        h.rest.find("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    )
    await recompute(h)
    assert holders(h, role, people) == [0, 1]
    assert calls == len(h.rest.find("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")) + len(
        h.rest.find("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    )
    # An excluded member loses it at once, whatever their rank; #2 moves up to #1 and keeps it; the
    # new #2 (people[2]) does not enter: entering needs the top 1.
    await slash(h, "voices", "override", w.owner, {"member": people[0], "mode": "exclude"})
    await recompute(h)
    assert holders(h, role, people) == [1]
    me = await slash(h, "voices", "me", people[2], perms=BASIC)
    text = me["embeds"][0]["description"]
    assert f"You do not hold <@&{role}>" in text and "it goes to the top 1, and you are #2" in text
    me = await slash(h, "voices", "me", people[0], perms=BASIC)
    assert "you are not ranked here" in me["embeds"][0]["description"]
    me = await slash(h, "voices", "me", people[1], perms=BASIC)
    assert f"You hold <@&{role}>" in me["embeds"][0]["description"]
    assert await h.rows("SELECT member_id, role_id FROM voice_role_holders") == [(people[1], role)]

    # Turned off: the bot takes it back from everyone it gave it to.
    reply = await slash(h, "voices", "role", w.owner, {})
    assert "No trusted-voice role" in reply["content"]
    await recompute(h)
    assert holders(h, role, people) == []
    assert await h.scalar("SELECT count(*) FROM voice_role_holders") == 0


async def test_a_powerful_role_is_refused_and_one_that_becomes_powerful_is_taken_back(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    people = await seed_community(h, n=8)
    powerful = sb.add_role(w.guild, "Helpers", permissions=BASIC | MANAGE_MESSAGES)
    reply = await slash(h, "voices", "role", w.owner, {"role": powerful})
    assert reply["content"] == i18n.t("en", "voices.role_too_powerful")
    assert await h.scalar("SELECT count(*) FROM voice_roles") == 0
    refused = await slash(h, "voices", "role", w.carol, {"role": powerful}, perms=BASIC)
    assert refused["content"] == i18n.t("en", "error.moderator_only")

    role = sb.add_role(w.guild, "Voices", permissions=BASIC)
    await slash(h, "voices", "role", w.owner, {"role": role, "min_score": 50, "topic": w.cooking})
    await recompute(h)
    held = holders(h, role, people)
    assert held and 0 in held and len(held) < len(people)
    me = await slash(h, "voices", "me", people[0], perms=BASIC)
    assert "your score is 100% of the top voice's" in me["embeds"][0]["description"]
    # A server admin gives the role a management permission afterwards: the bot takes it back.
    sb.stored_guild(w.guild).roles[role]["permissions"] = str(BASIC | ADMINISTRATOR)
    await recompute(h)
    assert holders(h, role, people) == []


async def top_two_hold_a_voice_role(h: Harness) -> tuple[list[int], int]:
    """A community of 8 whose top two hold a trusted-voice role; (members, role)."""
    people = await seed_community(h, n=8)
    role = h.sandbox.add_role(h.world.guild, "Trusted voice", permissions=BASIC)
    await slash(h, "voices", "role", h.world.owner, {"role": role, "top": 2})
    await recompute(h)
    assert holders(h, role, people) == [0, 1]
    return people, role


async def forget(h: Harness, member: int) -> dict:
    """`/privacy forget`, confirmed: the reply."""
    interaction = await h.slash("privacy", member, subcommand="forget", permissions=BASIC)
    await interaction.response()
    return await confirm(h, interaction, member)


async def test_erasure_takes_back_the_role_the_bot_gave(harness: Harness):
    h = harness
    people, role = await top_two_hold_a_voice_role(h)
    await forget(h, people[0])
    assert holders(h, role, people) == [1]
    assert await h.rows("SELECT member_id FROM voice_role_holders") == [(people[1],)]


async def test_a_role_discord_refuses_to_take_back_on_erasure_is_said(harness: Harness):
    """A server admin moved the role above the bot's own: Discord refuses to take it back. The
    erasure goes ahead, and its reply says the role is still there and who can remove it."""
    h = harness
    people, role = await top_two_hold_a_voice_role(h)
    h.sandbox.stored_guild(h.world.guild).roles[role]["position"] = 999  # above the bot's role
    done = await forget(h, people[0])
    assert i18n.t("en", "privacy.roles_kept") in done["content"]
    assert holders(h, role, people) == [0, 1]  # Discord kept it
    assert await h.scalar("SELECT count(*) FROM members WHERE member_id = ?", people[0]) == 0  # erased


async def test_the_audit_channel_receives_each_event_once_and_never_blocks(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    audit = sb.add_channel(w.guild, "mod-log")
    # Off by default: a privileged event posts nothing anywhere.
    await slash(h, "voices", "override", w.owner, {"member": w.alice, "mode": "pin"})
    assert sb.messages(audit) == []

    reply = await slash(h, "microvoice", "audit", w.owner, {"channel": audit})
    assert reply["content"] == i18n.t("en", "setup.audit_on", channel=f"<#{audit}>")
    await brand_cmd(h, "register", w.owner, {"name": "Oat *Milk* Co", "contact": w.bob})
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat *Milk* Co"})
    await brand_cmd(h, "suspend", w.owner, {"brand": "Oat *Milk* Co"})
    await brand_cmd(h, "remove", w.owner, {"brand": "Oat *Milk* Co"})
    for mode in ("pin", "exclude", "clear"):
        await slash(h, "voices", "override", w.owner, {"member": w.alice, "mode": mode})
    await set_terms(h, "Brands see your standing, never your messages. Be kind.")
    await join(h, w.carol)
    interaction = await h.slash("privacy", w.carol, subcommand="forget", permissions=BASIC)
    await interaction.response()
    await confirm(h, interaction, w.carol)
    interaction = await h.slash(
        "privacy", w.owner, {"member_id": str(w.bob)}, subcommand="forget-member", permissions=MANAGE_GUILD
    )
    await interaction.response()
    edits = len(h.rest.find("PATCH", ORIGINAL))
    await confirm(h, interaction, w.owner, perms=MANAGE_GUILD)
    await eventually(lambda: len(h.rest.find("PATCH", ORIGINAL)) > edits, "the second erasure's reply")

    lines = [m["content"] for m in sb.messages(audit)]
    owner = f"<@{w.owner}>"
    assert lines == [
        f"Audit log: {owner} chose <#{audit}> for privileged events.",
        f"Brand #1 \u2068Oat \\*Milk\\* Co\u2069 approved by {owner}.",
        f"Brand #1 \u2068Oat \\*Milk\\* Co\u2069 suspended by {owner}.",
        f"Brand #1 \u2068Oat \\*Milk\\* Co\u2069 removed by {owner}.",
        f"{owner} pinned <@{w.alice}> as a trusted member.",
        f"{owner} excluded <@{w.alice}> from rankings.",
        f"{owner} cleared the ranking override of <@{w.alice}>.",
        f"{owner} published version 1 of the partner terms.",
        lines[8],
        lines[9],
    ]
    # Erasures are counts, never who: neither carol nor bob is named.
    assert lines[8].startswith("A member erased their data (") and str(w.carol) not in lines[8]
    assert lines[9].startswith(f"{owner} erased the data of a member who left (")
    assert str(w.bob) not in lines[9]
    posts = h.rest.find("POST", f"/channels/{audit}/messages")
    assert posts and all(c.json["allowed_mentions"]["parse"] == [] for c in posts)

    # Posting fails (the bot lost access to the channel): the action is done and answered all the same.
    sb.fail_next("POST", f"/channels/{audit}/messages", status=403, code=50013, message="Missing Access")
    reply = await slash(h, "voices", "override", w.owner, {"member": w.alice, "mode": "pin"})
    assert "pinned" in reply["content"]
    assert await h.scalar("SELECT mode FROM trust_overrides WHERE member_id = ?", w.alice) == "pin"
    assert len(sb.messages(audit)) == 10

    # In the community's language, and off again on request.
    await slash(h, "microvoice", "setup", w.owner, {"locale": "he"})
    await slash(h, "voices", "override", w.owner, {"member": w.alice, "mode": "clear"})
    assert sb.messages(audit)[-1]["content"] == i18n.t(
        "he", "audit.override_clear", by=owner, member=f"<@{w.alice}>"
    )
    await slash(h, "microvoice", "audit", w.owner, {})
    await slash(h, "voices", "override", w.owner, {"member": w.alice, "mode": "pin"})
    assert len(sb.messages(audit)) == 11


async def test_help_lists_what_each_role_may_run_in_the_community_language(harness: Harness):
    h, w = harness, harness.world
    await h.app.store.create_brand(w.guild, "Acme", [w.bob], [], by=w.owner, now=h.clock.now)
    await h.app.store.set_brand_status(
        w.guild, 1, expected="pending", status="approved", by=w.owner, now=h.clock.now
    )
    await join(h, w.alice)

    async def sections(user: int, perms: int) -> dict[str, str]:
        reply = await slash(h, "help", "", user, perms=perms)
        assert reply["flags"] & EPHEMERAL
        fields: dict[str, str] = {}
        for f in reply["embeds"][0]["fields"]:
            fields[f["name"]] = (fields.get(f["name"], "") + "\n" + f["value"]).strip()
        return fields

    member = await sections(w.carol, BASIC)
    assert list(member) == ["Everyone"]
    assert "`/voices me`" in member["Everyone"] and "`/help`" in member["Everyone"]
    assert "/voices top" not in member["Everyone"] and "/partner leave" not in member["Everyone"]
    partner = await sections(w.alice, BASIC)
    assert list(partner) == ["Everyone", "As a partner"]
    assert "`/partner leave`" in partner["As a partner"] and "`/takeover post`" in partner["As a partner"]
    manager = await sections(w.bob, BASIC)
    assert list(manager) == ["Everyone", "As a brand manager (your brands)"]
    assert "`/qa answer`" in manager["As a brand manager (your brands)"]
    moderator = await sections(w.owner, MANAGE_GUILD)
    assert list(moderator) == ["Everyone", "As a moderator"]
    assert "`/voices role`" in moderator["As a moderator"]
    assert "`/microvoice audit`" in moderator["As a moderator"]
    assert "/qa answer" not in "".join(moderator.values())  # a moderator answers for no brand

    await slash(h, "microvoice", "setup", w.owner, {"locale": "ar"})
    arabic = await sections(w.carol, BASIC)
    assert list(arabic) == [i18n.t("ar", "help.role.member")]
    assert i18n.t("ar", "help.cmd.voices me") in arabic[i18n.t("ar", "help.role.member")]


async def test_a_bot_in_no_server_logs_its_invite_link(sandbox, tmp_path, clock, caplog):
    settings = Settings(discord_token=sandbox.token, db_path=tmp_path / "alone.sqlite3")
    bot = build_bot(settings, clock=clock, guild_ready_timeout=GUILD_READY_TIMEOUT)
    task = asyncio.create_task(bot.start(settings.discord_token))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            await asyncio.wait_for(bot.wait_until_ready(), timeout=15)
            await listeners_done()
        assert bot.application_id is not None
        logged = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
        assert logged == [f"Microvoice is in no server yet; invite it with {invite_url(bot.application_id)}"]
        assert f"permissions={permission_integer()}" in logged[0]
    finally:
        await stop_bot(bot, task)


def test_invite_prints_the_permissions_the_readme_lists():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.x.y"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "invite"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    listed, url = proc.stdout.strip().splitlines()
    number = permission_integer()
    assert (
        url == f"https://discord.com/oauth2/authorize?client_id=123456789012345678&permissions={number}"
        "&scope=bot+applications.commands"
    )
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"permissions {number}:" in listed and f"`{number}`" in readme
    for name, _, _ in PERMISSIONS:
        assert f"**{name}**" in readme, name
    # Without any application id it says how to give one, in one line, and prints no link.
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "invite"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests",
    )
    assert proc.returncode == 2 and "--client-id" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_run_without_network_says_so_in_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": "x",
        "MICROVOICE_DB": str(tmp_path / "x.sqlite3"),
        # Nothing listens on port 9 (discard): the connection is refused, as without a network.
        "MICROVOICE_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
        "MICROVOICE_DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and "cannot reach Discord at http://127.0.0.1:9/api/v10" in errors[0]
