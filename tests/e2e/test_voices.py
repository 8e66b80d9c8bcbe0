"""`/voices` through the sandbox: stored rankings, explanations, pagination, permissions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import i18n
from bot.discord_adapter import rankings
from tests.e2e.activation_helpers import set_locale
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher

EPHEMERAL = 1 << 6


async def seed_community(
    h: Harness, n: int = 14, *, dispatch: bool = False, guild: int | None = None, channel: int | None = None
) -> list[int]:
    """n established members; member i gets replies and reactions from many distinct peers.
    `dispatch`: their joins reach the bot (with the members intent), as on Discord. In the world's
    server and its cooking channel unless `guild` and `channel` name another."""
    sb, w = h.sandbox, h.world
    guild, channel = guild or w.guild, channel or w.cooking
    people = []
    for i in range(n):
        uid = sb.add_user(f"member{i}", created_at=datetime(2021, 1, 1, tzinfo=UTC))
        sb.add_member(guild, uid, joined_at=datetime(2024, 1, 1, tzinfo=UTC), dispatch=dispatch)
        people.append(uid)
    for i, author in enumerate(people):
        post = await sb.send_message(channel, author, "")
        # earlier members attract more distinct peers: a clear order for the ranking
        for peer in people[: max(0, n - i)]:
            if peer != author:
                await sb.send_message(channel, peer, "", reply_to=int(post["id"]))
                await sb.add_reaction(channel, int(post["id"]), peer)
    await h.flush()
    return people


async def recompute(h: Harness) -> None:
    """`/voices recompute` by the owner, then the trusted-voice role changes it started, made in the
    background, to the end."""
    interaction = await h.slash("voices", h.world.owner, subcommand="recompute", permissions=MANAGE_GUILD)
    await interaction.response()
    followup = await interaction.wait_followup(timeout=30)
    assert "recomputed" in followup.json["content"].lower()
    await h.app.voice_roles.settled(h.world.guild)


async def answering_each_other(
    h: Harness, name: str, n: int, *, days: range, answered_by: int, first_stops: int | None = None
) -> list[int]:
    """n established members who post in #cooking on each of `days` (days ago), each post answered
    by the next `answered_by` of them; the first stops posting and answering `first_stops` days ago
    (None: never). Returns the members."""
    sb, w = h.sandbox, h.world
    now = datetime.now(UTC)
    people = []
    for i in range(n):
        uid = sb.add_user(f"{name}{i}", created_at=datetime(2021, 1, 1, tzinfo=UTC))
        sb.add_member(w.guild, uid, joined_at=datetime(2024, 1, 1, tzinfo=UTC))
        people.append(uid)
    for day in days:
        at = now - timedelta(days=day)
        away = first_stops is not None and day < first_stops
        for i, author in enumerate(people):
            if i == 0 and away:
                continue
            post = await sb.send_message(w.cooking, author, "", timestamp=at)
            for step in range(1, answered_by + 1):
                peer = people[(i + step) % n]
                if peer != people[0] or not away:
                    await sb.send_message(w.cooking, peer, "", reply_to=int(post["id"]), timestamp=at)
    return people


async def helpers_and_askers(h: Harness) -> tuple[list[int], list[int], int]:
    """Ten helpers whose posts in #cooking thirty established askers answer, askers who answer each
    other two apiece, and one more established member who has posted nothing yet (returned last)."""
    sb, w = h.sandbox, h.world
    people = []
    for i in range(41):
        uid = sb.add_user(f"m{i}", created_at=datetime(2021, 1, 1, tzinfo=UTC))
        sb.add_member(w.guild, uid, joined_at=datetime(2024, 1, 1, tzinfo=UTC), dispatch=False)
        people.append(uid)
    helpers, askers = people[:10], people[10:40]
    for author in helpers:
        post = int((await sb.send_message(w.cooking, author, ""))["id"])
        for peer in askers:
            await sb.send_message(w.cooking, peer, "", reply_to=post)
    for i, author in enumerate(askers):
        post = int((await sb.send_message(w.cooking, author, ""))["id"])
        for step in (1, 2):
            await sb.send_message(w.cooking, askers[(i + step) % len(askers)], "", reply_to=post)
    return helpers, askers, people[40]


async def page_forward(harness: Harness, interaction: Any, data: dict[str, Any]) -> Any:
    """The owner clicks the "next page" button of a first page of `/voices top` (`data`)."""
    buttons = [c for row in data["components"] for c in row["components"]]
    forward = next(b for b in buttons if b["custom_id"].endswith(":1:180"))
    return await harness.sandbox.click(
        interaction.message,
        forward["custom_id"],
        harness.world.owner,
        guild_id=harness.world.guild,
        channel_id=harness.world.general,
        permissions=MANAGE_GUILD,
    )


async def test_top_lists_trusted_members_with_explanations_and_pages(harness: Harness):
    people = await seed_community(harness)
    await recompute(harness)
    interaction = await harness.slash(
        "voices", harness.world.owner, subcommand="top", permissions=MANAGE_GUILD
    )
    call = await interaction.response()
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    lines = embed["description"].splitlines()
    assert lines[0].startswith(f"**#1** <@{people[0]}>")
    assert "distinct members" in lines[0] and "trusted themselves" in lines[0]
    assert "Page 1 of" in embed["footer"]["text"]
    # page forward with the button; the same stored ranking continues at #6
    clicked = await page_forward(harness, interaction, data)
    page2 = await clicked.response()
    assert page2.json["type"] == 7  # message update
    assert page2.json["data"]["embeds"][0]["description"].startswith("**#6**")


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_when_the_ranking_was_computed_is_shown_in_the_readers_own_time(harness: Harness, lang: str):
    """A footer cannot hold a `<t:…>` timestamp, so a time written in it is the bot's UTC text: a
    moderator in another time zone misreads it. The embed's timestamp is shown by Discord in each
    reader's time zone and language, on every page."""
    h = harness
    await seed_community(h)
    await recompute(h)
    await set_locale(h, lang)
    stored = await h.scalar("SELECT computed_at FROM trust_runs WHERE scope = 'all'")
    computed = datetime.fromisoformat(stored)
    interaction = await h.slash("voices", h.world.owner, subcommand="top", permissions=MANAGE_GUILD)
    data = (await interaction.response()).json["data"]
    clicked = await page_forward(h, interaction, data)
    for embed in (data["embeds"][0], (await clicked.response()).json["data"]["embeds"][0]):
        assert datetime.fromisoformat(embed["timestamp"]) == computed.replace(microsecond=0)
        footer = embed["footer"]["text"]
        assert "UTC" not in footer and computed.strftime("%H:%M") not in footer, footer
        assert footer.endswith(i18n.t(lang, "voices.computed")), footer


async def test_a_page_button_that_fails_answers_the_moderator(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    """A page that cannot be read (the database failing) answers the click with a short error, like a
    command, instead of leaving Discord to say "This interaction failed"."""
    await seed_community(harness)
    await recompute(harness)
    interaction = await harness.slash(
        "voices", harness.world.owner, subcommand="top", permissions=MANAGE_GUILD
    )
    data = (await interaction.response()).json["data"]

    async def failing(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(rankings, "ranking_page", failing)
    clicked = await page_forward(harness, interaction, data)
    answer = (await clicked.response()).json
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL
    assert "Traceback" not in answer["data"]["content"]


async def test_top_answers_from_the_database_without_recomputing(harness: Harness):
    people = await seed_community(harness, n=8)
    await recompute(harness)
    computed = await harness.scalar("SELECT computed_at FROM trust_runs WHERE scope = 'all'")
    # new engagement after the recompute does not show until the next recompute
    late = harness.sandbox.add_user("latecomer", created_at=datetime(2021, 1, 1, tzinfo=UTC))
    harness.sandbox.add_member(harness.world.guild, late, dispatch=False)
    for p in people:
        msg = await harness.sandbox.send_message(harness.world.general, late, "")
        await harness.sandbox.send_message(harness.world.general, p, "", reply_to=int(msg["id"]))
    await harness.flush()
    interaction = await harness.slash(
        "voices", harness.world.owner, subcommand="top", permissions=MANAGE_GUILD
    )
    text = (await interaction.response()).json["data"]["embeds"][0]["description"]
    assert f"<@{late}>" not in text
    assert await harness.scalar("SELECT computed_at FROM trust_runs WHERE scope = 'all'") == computed


async def test_topic_scope_and_member_standing(harness: Harness):
    people = await seed_community(harness, n=8)
    await recompute(harness)
    w = harness.world
    topic = await harness.slash(
        "voices", w.owner, {"topic": w.cooking}, subcommand="top", permissions=MANAGE_GUILD
    )
    embed = (await topic.response()).json["data"]["embeds"][0]
    assert "#vegan-cooking" in embed["title"] and "<#" not in embed["title"]  # Discord shows no mention there
    assert f"<@{people[0]}>" in embed["description"]
    general = await harness.slash(
        "voices", w.owner, {"topic": w.general}, subcommand="top", permissions=MANAGE_GUILD
    )
    empty = (await general.response()).json["data"]["embeds"][0]["description"]
    assert "Nobody is listed yet" in empty and "30 days or more" in empty and "/voices override" in empty
    member = await harness.slash(
        "voices", w.owner, {"member": people[0]}, subcommand="member", permissions=MANAGE_GUILD
    )
    standing = (await member.response()).json["data"]["embeds"][0]
    desc = standing["description"]
    assert "**#1** in the whole server" in desc and f"<#{w.cooking}>" in desc
    user = harness.sandbox.state.users[people[0]]
    assert (user.get("global_name") or user["username"]) in standing["title"]
    assert "<@" not in standing["title"]
    assert desc.startswith(f"<@{people[0]}>")  # mentioned where Discord shows it: the description


async def test_me_is_ephemeral_for_anyone_and_top_member_refuse_non_moderators(harness: Harness):
    people = await seed_community(harness, n=8)
    await recompute(harness)
    w = harness.world
    me = await harness.slash("voices", people[0], subcommand="me", permissions=BASIC)
    data = (await me.response()).json["data"]
    assert data["flags"] & EPHEMERAL and "**#1**" in data["embeds"][0]["description"]
    stranger = await harness.slash("voices", w.carol, subcommand="me", permissions=BASIC)
    assert "not ranked yet" in (await stranger.response()).json["data"]["embeds"][0]["description"]
    for sub, options in (("top", None), ("member", {"member": people[0]}), ("recompute", None)):
        refused = await harness.slash("voices", w.alice, options, subcommand=sub, permissions=BASIC)
        reply = (await refused.response()).json["data"]
        assert reply["flags"] & EPHEMERAL and "moderators" in reply["content"].lower(), sub
        assert "embeds" not in reply or not reply["embeds"]


async def test_excluded_member_is_not_ranked(harness: Harness):
    people = await seed_community(harness, n=8)
    w = harness.world
    override = await harness.slash(
        "voices",
        w.owner,
        {"member": people[0], "mode": "exclude"},
        subcommand="override",
        permissions=MANAGE_GUILD,
    )
    await override.response()
    await harness.settle()  # the reply is deferred: the exclusion is saved once the command has finished
    await recompute(harness)
    assert await harness.scalar("SELECT count(*) FROM trust_scores WHERE member_id = ?", people[0]) == 0
    assert await harness.scalar("SELECT count(*) FROM trust_scores WHERE scope = 'all'") > 0


async def test_recompute_is_scheduled_with_a_stable_job_id(harness: Harness):
    assert harness.app.scheduler.job_ids().count("trust-recompute") == 1
    people = await seed_community(harness, n=6)
    # the scheduled job body: flush the buffer and recompute every community with engagement
    await harness.bot._recompute_trust()
    assert await harness.scalar("SELECT count(*) FROM trust_scores WHERE scope = 'all'") >= 1
    assert (
        await harness.scalar("SELECT rank FROM trust_scores WHERE scope = 'all' AND member_id = ?", people[0])
        == 1
    )


async def test_a_member_below_the_listing_bar_is_told_what_it_takes(harness: Harness):
    """Ten helpers whom thirty members answer, who answer each other two apiece, and a member whom
    six answer: more than the fixed five, fewer than the listing asks here (a third of the
    established voices' thirty), so `/voices member` and `/voices me` say what it takes now. (With
    ten members above the bar, the listing is as deep as `listed_min_depth` without filling.)"""
    sb, w = harness.sandbox, harness.world
    helpers, askers, quiet = await helpers_and_askers(harness)
    post = int((await sb.send_message(w.cooking, quiet, ""))["id"])
    for peer in askers[:6]:
        await sb.send_message(w.cooking, peer, "", reply_to=post)
    await harness.flush()
    await recompute(harness)
    bar = await harness.scalar("SELECT min_peers FROM trust_runs WHERE scope = 'all'")
    assert bar == 9
    for helper in helpers:
        assert await harness.scalar(
            "SELECT rank FROM trust_scores WHERE scope = 'all' AND member_id = ?", helper
        )
    assert not await harness.scalar("SELECT count(*) FROM trust_scores WHERE member_id = ?", quiet)
    member = await harness.slash(
        "voices", w.owner, {"member": quiet}, subcommand="member", permissions=MANAGE_GUILD
    )
    said = (await member.response()).json["data"]["embeds"][0]["description"]
    assert said.startswith(f"<@{quiet}> is not listed yet") and "at least 9 distinct peers" in said
    me = await harness.slash("voices", quiet, subcommand="me", permissions=BASIC)
    data = (await me.response()).json["data"]
    assert data["flags"] & EPHEMERAL and "at least 9 distinct peers" in data["embeds"][0]["description"]


async def test_a_page_button_past_the_end_shows_the_last_page(harness: Harness):
    """A page button from before the ranking shrank (members excluded, a quieter month) shows the
    last page there is, not "Nobody is listed yet"."""
    h, w = harness, harness.world
    people = await seed_community(h)
    await recompute(h)
    interaction = await h.slash("voices", w.owner, subcommand="top", permissions=MANAGE_GUILD)
    data = (await interaction.response()).json["data"]
    assert "Page 1 of 2" in data["embeds"][0]["footer"]["text"]
    buttons = [c for row in data["components"] for c in row["components"]]
    forward = next(b for b in buttons if b["custom_id"].endswith(":1:180"))
    rows = await h.rows(
        "SELECT member_id, rank, score, distinct_peers, trusted_peers, why FROM trust_scores"
        " WHERE scope = 'all' AND rank <= 3 ORDER BY rank"
    )
    await h.app.store.replace_trust_scores(w.guild, {"all": rows}, h.clock.now)  # three listed now
    clicked = await h.sandbox.click(
        interaction.message, forward["custom_id"], w.owner, guild_id=w.guild, channel_id=w.general,
        permissions=MANAGE_GUILD,
    )  # fmt: skip
    embed = (await clicked.response()).json["data"]["embeds"][0]
    assert embed["description"].startswith(f"**#1** <@{people[0]}>") and "Nobody" not in embed["description"]
    assert "Page 1 of 1" in embed["footer"]["text"]


async def test_moderators_see_an_exclusion_or_a_pin_and_the_member_a_neutral_line(harness: Harness):
    h, w = harness, harness.world
    people = await seed_community(h, n=8)
    for member, mode in ((people[0], "exclude"), (people[1], "pin")):
        options = {"member": member, "mode": mode}
        override = await h.slash("voices", w.owner, options, subcommand="override", permissions=MANAGE_GUILD)
        await override.response()
    await h.app.store.create_brand(w.guild, "Acme", [people[2]], [], by=w.owner, now=h.clock.now)
    await h.settle()
    await recompute(h)

    async def described(sub: str, user: int, options: dict[str, int] | None = None) -> str:
        perms = MANAGE_GUILD if sub == "member" else BASIC
        reply = await h.slash("voices", user, options, subcommand=sub, permissions=perms)
        return str((await reply.response()).json["data"]["embeds"][0]["description"])

    excluded = await described("member", w.owner, {"member": people[0]})
    assert excluded == i18n.t("en", "voices.status_excluded", member=f"<@{people[0]}>")
    assert "/voices override with clear" in excluded and "not ranked yet" not in excluded
    pinned = await described("member", w.owner, {"member": people[1]})
    assert pinned.startswith(f"<@{people[1]}> is pinned as a trusted member by a moderator.\n")
    contact = await described("member", w.owner, {"member": people[2]})
    assert contact == f"<@{people[2]}> is a contact of a brand; brand contacts are never ranked."
    for member in (people[0], people[2]):
        text = await described("me", member)
        assert text == "You are not part of this community's rankings." and "not ranked yet" not in text
    assert "pinned" not in await described("me", people[1])


async def test_a_private_channels_ranking_is_never_shown_to_everyone(harness: Harness):
    """`public` on a channel @everyone cannot see would give away its name and who talks there: refused,
    and shown to the moderator alone without it."""
    w, sb = harness.world, harness.sandbox
    hidden = sb.add_channel(
        w.guild, "mod-applicants", overwrites=[{"id": w.guild, "type": 0, "deny": str(1 << 10)}]
    )
    await harness.flush()
    refused = await harness.slash(
        "voices", w.owner, {"topic": hidden, "public": True}, subcommand="top", permissions=MANAGE_GUILD
    )
    data = (await refused.response()).json["data"]
    assert (
        data["flags"] & EPHEMERAL and "private" in data["content"] and "mod-applicants" not in data["content"]
    )
    alone = await harness.slash(
        "voices", w.owner, {"topic": hidden}, subcommand="top", permissions=MANAGE_GUILD
    )
    assert (await alone.response()).json["data"]["flags"] & EPHEMERAL


async def test_a_quiet_server_with_months_of_history_recomputes_to_an_empty_listing(harness: Harness):
    """Ten members each answered by two others every fourth day for three months: long enough a
    history for the test of engagers who arrived within a few weeks, and nobody with the engagers
    to be measured or listed. `/voices recompute` answers that it recomputed, and `/voices top`
    says nobody is listed yet (the ranking used to fail there)."""
    h, w = harness, harness.world
    await answering_each_other(h, "quiet", 10, days=range(88, 0, -4), answered_by=2)
    await h.flush()
    await recompute(h)
    assert await h.scalar("SELECT count(*) FROM trust_scores WHERE community_id = ?", w.guild) == 0
    interaction = await h.slash("voices", w.owner, subcommand="top", permissions=MANAGE_GUILD)
    data = (await interaction.response()).json["data"]
    assert data["flags"] & EPHEMERAL
    assert "Nobody is listed yet" in str(data)


async def test_a_member_idle_for_four_weeks_is_not_listed_until_they_take_part_again(harness: Harness):
    """Twelve members answer each other's posts every third day for two months; the first of them
    stopped five weeks ago. They are in no listing (a voice must be around to be one; on Reddit it is
    how a departure shows), `/voices member` says why and for how long, and a single message of
    theirs lists them again at the next recompute: what they had received still stands."""
    h, sb, w = harness, harness.sandbox, harness.world
    people = await answering_each_other(
        h, "regular", 12, days=range(60, 0, -3), answered_by=6, first_stops=35
    )
    await h.flush()
    await recompute(h)
    listed = "SELECT member_id FROM trust_scores WHERE community_id = ? AND scope = 'all'"
    before = {m for (m,) in await h.rows(listed, w.guild)}
    assert len(before) >= 5 and people[0] not in before
    assert await h.scalar("SELECT count(*) FROM trust_scores WHERE member_id = ?", people[0]) == 0
    reply = await h.slash(
        "voices", w.owner, {"member": people[0]}, subcommand="member", permissions=MANAGE_GUILD
    )
    data = (await reply.response()).json["data"]
    text = str(data["embeds"][0]["description"])
    assert data["flags"] & EPHEMERAL
    assert (
        text.startswith(f"<@{people[0]}> is not listed: they have not been active here for 3")
        and "days" in text
    )

    await sb.send_message(w.cooking, people[0], "")
    await h.flush()
    await h.settle()
    await recompute(h)
    assert people[0] in {m for (m,) in await h.rows(listed, w.guild)}


async def test_a_member_who_left_is_not_listed_until_they_come_back(launcher: Launcher):
    """With the Server Members intent, GUILD_MEMBER_REMOVE tells the bot a member left: from the next
    recompute they are in no listing (a trusted voice must be there to be one), the others keep
    their order; GUILD_MEMBER_ADD brings them back as they stand."""
    h = await launcher.start(members_intent=True)
    sb, w = h.sandbox, h.world
    people = await seed_community(h, n=8, dispatch=True)
    await recompute(h)
    order = "SELECT member_id FROM trust_scores WHERE scope = 'all' ORDER BY rank"
    before = [m for (m,) in await h.rows(order)]
    assert before[0] == people[0]

    sb.remove_member(w.guild, people[0])
    await h.flush()
    await h.settle()
    await recompute(h)
    assert [m for (m,) in await h.rows(order)] == before[1:]
    assert await h.scalar("SELECT count(*) FROM trust_scores WHERE member_id = ?", people[0]) == 0
    # Who left cannot be chosen for `/voices member`: Discord resolves them as a user, not a member.
    options = {"member": people[0]}
    reply = await h.slash("voices", w.owner, options, subcommand="member", permissions=MANAGE_GUILD)
    assert "is not a member of this server" in (await reply.response()).json["data"]["content"]

    sb.add_member(w.guild, people[0], joined_at=datetime(2024, 1, 1, tzinfo=UTC), dispatch=True)
    await h.flush()
    await h.settle()
    await recompute(h)
    assert [m for (m,) in await h.rows(order)] == before


async def test_a_moderator_is_told_the_pattern_that_keeps_a_member_out_and_the_member_is_not(
    harness: Harness,
):
    """Ten helpers whom thirty established members answer, and a member whose posts fourteen accounts
    created and joined today answer: the listing leaves the member out, and `/voices member` tells a
    moderator why as a listed member's explanation would (accounts new here), in the server's
    language; `/voices me` tells the member only what it takes."""
    sb, w = harness.sandbox, harness.world
    now = datetime.now(UTC)
    _, _, boosted = await helpers_and_askers(harness)
    fresh = []
    for i in range(14):
        uid = sb.add_user(f"fresh{i}", created_at=now - timedelta(hours=2))
        sb.add_member(w.guild, uid, joined_at=now - timedelta(hours=1), dispatch=False)
        fresh.append(uid)
    for _ in range(3):
        post = int((await sb.send_message(w.cooking, boosted, ""))["id"])
        for account in fresh:
            await sb.send_message(w.cooking, account, "", reply_to=post)
    await harness.flush()
    await recompute(harness)
    assert not await harness.scalar("SELECT count(*) FROM trust_scores WHERE member_id = ?", boosted)
    found = await harness.rows("SELECT share, reason FROM trust_patterns WHERE member_id = ?", boosted)
    [(share, reason)] = found
    assert reason == "new" and share >= 0.25
    for lang in ("en", "he"):
        await set_locale(harness, lang)
        member = await harness.slash(
            "voices", w.owner, {"member": boosted}, subcommand="member", permissions=MANAGE_GUILD
        )
        data = (await member.response()).json["data"]
        said = data["embeds"][0]["description"]
        pattern = i18n.t(lang, "trust.why.coordinated_new", pct=round(share * 100))
        told = i18n.t(lang, "voices.not_listed_pattern", member=f"<@{boosted}>", pattern=pattern)
        assert told in said.split("\n"), said
        assert data["flags"] & EPHEMERAL
    await set_locale(harness, "en")
    me = await harness.slash("voices", boosted, subcommand="me", permissions=BASIC)
    own = (await me.response()).json["data"]["embeds"][0]["description"]
    assert own.startswith("You are not listed yet") and "pattern" not in own and "new here" not in own
