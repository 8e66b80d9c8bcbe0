"""`/brand` through the sandbox: lifecycle, bad input, and the brand view that lists partners only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import i18n
from bot.ledger import iso
from bot.partners import ContactFacts
from tests.e2e.activation_helpers import approve, create, move_to, seed_brand, when
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher
from tests.e2e.test_partners import bot_message_with_buttons, buttons, join

EPHEMERAL = 1 << 6
MANAGE_ROLES = 1 << 28
MANAGE_THREADS = 1 << 34


async def brand_cmd(
    h: Harness, sub: str, user: int, options: dict | None = None, perms: int = MANAGE_GUILD
) -> dict:
    interaction = await h.slash("brand", user, options, subcommand=sub, permissions=perms)
    call = await interaction.response()
    if call.json["type"] == 5:
        return (await interaction.wait_followup()).json
    return call.json["data"]


async def test_a_long_brand_list_fits_discords_embed_and_says_how_many_more(harness: Harness):
    w = harness.world
    for k in range(45):  # names up to the 100 characters a brand name may have
        name = f"Brand {k:02d} " + "Oat milk and seitan cooperative of the northern valleys " * 2
        await harness.app.brands.register(
            w.guild, name[:100], [ContactFacts(w.bob, False, True)], [], by=w.owner
        )
    listed = (await brand_cmd(harness, "list", w.owner))["embeds"][0]["description"]
    lines = listed.splitlines()
    assert len(listed) <= 4096 and lines[0].startswith("#1 ")
    shown = len(lines) - 1
    assert 0 < shown < 45 and lines[-1] == i18n.t("en", "brand.list_more", count=45 - shown)
    assert all(line.endswith(f"<@{w.bob}>") for line in lines[:-1])  # no line is cut


async def seed_community(h: Harness, n: int = 12) -> list[int]:
    """n established members; member i gets replies and reactions from n - i distinct peers."""
    sb, w = h.sandbox, h.world
    people = []
    for i in range(n):
        uid = sb.add_user(f"member{i}", created_at=datetime(2021, 1, 1, tzinfo=UTC))
        sb.add_member(w.guild, uid, joined_at=datetime(2024, 1, 1, tzinfo=UTC), dispatch=False)
        people.append(uid)
    for i, author in enumerate(people):
        post = await sb.send_message(w.cooking, author, "")
        for peer in people[: max(0, n - i)]:
            if peer != author:
                await sb.send_message(w.cooking, peer, "", reply_to=int(post["id"]))
                await sb.add_reaction(w.cooking, int(post["id"]), peer)
    await h.flush()
    return people


async def test_brand_lifecycle_contacts_become_managers_only_while_approved(harness: Harness):
    w, store = harness.world, harness.app.store
    data = await brand_cmd(
        harness,
        "register",
        w.owner,
        {"name": "  Oat   Milk Co  ", "contact": w.bob, "contact2": w.carol, "topic": w.cooking},
    )
    assert data["flags"] & EPHEMERAL and "registered, pending approval" in data["content"]
    assert data.get("allowed_mentions", {}).get("parse", []) == []
    assert await harness.rows("SELECT name, status, topics, created_by FROM brands") == [
        ("Oat Milk Co", "pending", f"[{w.cooking}]", w.owner)
    ]
    brand_id = int(await harness.scalar("SELECT id FROM brands"))
    brand = await store.get_brand(w.guild, brand_id)
    assert (
        brand is not None
        and brand.contacts == tuple(sorted((w.bob, w.carol)))
        and brand.topics == (w.cooking,)
    )
    assert await store.managed_brand_ids(w.guild, w.bob) == []  # pending: nobody manages it yet
    data = await brand_cmd(harness, "approve", w.owner, {"brand": "oat milk co"})
    assert "is approved" in data["content"] and i18n.isolate("Oat Milk Co") in data["content"]
    assert await harness.rows("SELECT status, approved_by FROM brands") == [("approved", w.owner)]
    assert await store.managed_brand_ids(w.guild, w.bob) == [brand_id]
    data = await brand_cmd(harness, "approve", w.owner, {"brand": str(brand_id)})
    assert "cannot be approved: it is approved" in data["content"]
    # a brand manager sees their brand, not partners of others
    shown = await brand_cmd(harness, "show", w.bob, {"brand": f"#{brand_id}"}, perms=BASIC)
    assert f"Brand #{brand_id}, approved" in shown["embeds"][0]["description"]
    listed = await brand_cmd(harness, "list", w.bob, perms=BASIC)
    assert "Oat Milk Co" in listed["embeds"][0]["description"]
    # a Discord role only if a moderator chooses one, and only while the brand is approved
    sb = harness.sandbox
    powerful = sb.add_role(w.guild, "Helpers", permissions=BASIC | (1 << 13))  # manage messages
    data = await brand_cmd(harness, "role", w.owner, {"brand": "Oat Milk Co", "role": powerful})
    assert "moderation or management permissions" in data["content"]
    assert await harness.scalar("SELECT role_id FROM brands") is None
    guest = sb.add_role(w.guild, "Oat Milk team", permissions=BASIC)
    data = await brand_cmd(harness, "role", w.owner, {"brand": "Oat Milk Co", "role": guest})
    assert f"get <@&{guest}> while the brand is approved" in data["content"]
    assert (
        str(guest) in sb.member(w.guild, w.bob)["roles"]
        and str(guest) in sb.member(w.guild, w.carol)["roles"]
    )
    data = await brand_cmd(harness, "suspend", w.owner, {"brand": "Oat Milk Co"})
    assert "is suspended" in data["content"]
    assert str(guest) not in sb.member(w.guild, w.bob)["roles"]
    assert await store.managed_brand_ids(w.guild, w.bob) == []
    refused = await brand_cmd(harness, "show", w.bob, {"brand": "Oat Milk Co"}, perms=BASIC)
    assert refused["flags"] & EPHEMERAL and "Only moderators and brand managers" in refused["content"]
    await brand_cmd(harness, "approve", w.owner, {"brand": "Oat Milk Co"})
    assert str(guest) in sb.member(w.guild, w.bob)["roles"]
    data = await brand_cmd(harness, "remove", w.owner, {"brand": "Oat Milk Co"})
    assert "is removed" in data["content"]
    assert str(guest) not in sb.member(w.guild, w.bob)["roles"]
    assert await store.managed_brand_ids(w.guild, w.bob) == []
    data = await brand_cmd(harness, "approve", w.owner, {"brand": str(brand_id)})
    assert "cannot be approved: it is removed" in data["content"]
    # a removed brand frees its name
    data = await brand_cmd(harness, "register", w.owner, {"name": "oat milk co", "contact": w.alice})
    assert "registered" in data["content"]
    assert await harness.scalar("SELECT count(*) FROM brands") == 2
    unknown = await brand_cmd(harness, "approve", w.owner, {"brand": "No Such Brand"})
    assert unknown["flags"] & EPHEMERAL and "There is no brand" in unknown["content"]


async def test_bad_brand_input_is_refused_and_nothing_is_half_created(harness: Harness):
    w = harness.world
    cases = [
        ({"name": "B" * 300, "contact": w.bob}, "300 characters long; the limit is 100"),
        ({"name": "Free stuff @everyone", "contact": w.bob}, "must not contain @everyone"),
        ({"name": "Sneaky @\u200bhere", "contact": w.bob}, "must not contain @everyone"),
        ({"name": "Role <@&123456789012345678>", "contact": w.bob}, "must not contain @everyone"),
        (
            {"name": "Botty", "contact": w.bob, "contact2": w.helper_bot},
            "is a bot and cannot be a brand contact",
        ),
        ({"name": "\u202e\u200b ", "contact": w.bob}, "name is empty"),
    ]
    stranger = harness.sandbox.add_user("stranger")  # a Discord user who is not in this server
    cases.append(({"name": "Far Away", "contact": stranger}, "is not a member of this server"))
    for options, expected in cases:
        data = await brand_cmd(harness, "register", w.owner, options)
        assert data["flags"] & EPHEMERAL and expected in data["content"], (options, data["content"])
    assert await harness.scalar("SELECT count(*) FROM brands") == 0
    assert await harness.scalar("SELECT count(*) FROM brand_contacts") == 0
    await brand_cmd(harness, "register", w.owner, {"name": "Tofu Inc", "contact": w.bob})
    duplicate = await brand_cmd(harness, "register", w.owner, {"name": "TOFU INC", "contact": w.carol})
    assert "already exists" in duplicate["content"] and i18n.isolate("TOFU INC") in duplicate["content"]
    assert await harness.rows("SELECT member_id FROM brand_contacts") == [(w.bob,)]
    # in Hebrew, with the brand name isolated for right-to-left text
    await harness.app.store.update_settings(w.guild, {"locale": "he"}, by=w.owner, now=harness.clock.now)
    harness.app.forget_locale(w.guild)
    data = await brand_cmd(harness, "register", w.owner, {"name": "Tofu Inc", "contact": w.carol})
    assert data["content"] == i18n.t("he", "brand.name_taken", name=i18n.isolate("Tofu Inc"))
    assert "\u2068Tofu Inc\u2069" in data["content"] and "כבר קיים" in data["content"]


async def test_brand_view_lists_opted_in_partners_only_and_drops_those_who_left(harness: Harness):
    w, sb = harness.world, harness.sandbox
    people = await seed_community(harness, n=28)
    await brand_cmd(harness, "register", w.owner, {"name": "Seitan Co", "contact": w.bob, "topic": w.cooking})
    await brand_cmd(harness, "approve", w.owner, {"brand": "Seitan Co"})
    await harness.app.voices.recompute(w.guild)
    top = await harness.app.voices.top(w.guild, f"channel:{w.cooking}", per_page=50)
    assert top.entries[0].member_id == people[0]
    # The listed members below the top one opt in (the members with the fewest engagers fall below
    # the listing's confidence bar); at least eight, for two pages after two of them leave.
    partners = [e.member_id for e in top.entries if e.member_id in people[1:]]
    assert len(partners) >= 8
    for p in partners:
        await join(harness, p)
    # in ranking order (the members who mostly exchange with the busiest ones rank a little lower)
    ranked = [e.member_id for e in top.entries if e.member_id in partners]
    assert ranked == partners
    # the top-ranked member did not opt in: never listed; partners in ranking order, 5 a page
    view = await brand_cmd(harness, "partners", w.bob, perms=BASIC)
    assert view["flags"] & EPHEMERAL
    embed = view["embeds"][0]
    assert "Seitan Co" in embed["title"] and "#vegan-cooking" in embed["title"]  # a name: no mention
    assert "<#" not in embed["title"]
    lines = embed["description"].splitlines()
    assert [line.split(" ")[1] for line in lines] == [f"<@{p}>:" for p in ranked[:5]]
    assert f"<@{people[0]}>" not in embed["description"] and "distinct members" in lines[0]
    assert "Page 1 of 2" in embed["footer"]["text"]
    # leaving takes effect at once, even on the next page of an open view
    leave = await harness.slash("partner", partners[5], subcommand="leave", permissions=BASIC)
    await leave.response()
    # without the members intent a departure is not seen: the view asks Discord and drops them
    sb.remove_member(w.guild, partners[6])
    interaction = await harness.slash("brand", w.bob, subcommand="partners", permissions=BASIC)
    await interaction.response()
    first = await interaction.wait_followup()
    forward = next(
        c["custom_id"]
        for row in first.json["components"]
        for c in row["components"]
        if c["custom_id"].endswith(":topics:1")
    )
    message = sb.message(int(first.response["id"]))
    clicked = await sb.click(message, forward, w.bob, guild_id=w.guild, permissions=BASIC)
    assert (await clicked.response()).json["type"] == 6  # deferred: a page may ask Discord for members
    page2 = (await clicked.edited()).json["embeds"][0]["description"]
    remaining = [p for p in ranked if p not in (partners[5], partners[6])]
    assert [line.split(":")[0] for line in page2.splitlines()] == [
        f"**{k}.** <@{p}>" for k, p in enumerate(remaining[5:], start=6)
    ]
    assert not await harness.app.store.is_partner(w.guild, partners[6])
    assert await harness.rows(
        "SELECT action FROM consent_log WHERE member_id = ? ORDER BY id", partners[6]
    ) == [("accepted",), ("left_server",)]
    # a moderator sees the same list; a member who is no brand contact is refused
    mod_view = await brand_cmd(harness, "partners", w.owner, {"brand": "Seitan Co"})
    assert f"<@{people[0]}>" not in mod_view["embeds"][0]["description"]
    refused = await brand_cmd(harness, "partners", w.carol, {"brand": "Seitan Co"}, perms=BASIC)
    assert refused["flags"] & EPHEMERAL and "Only moderators and brand managers" in refused["content"]
    # brand contacts are never ranked themselves
    assert w.bob in await harness.app.store.ranking_exclusions(w.guild)


async def offered(h: Harness, user: int, sub: str = "approve", typed: str = "") -> list[tuple[str, str]]:
    """The choices `/brand <sub> brand:` autocompletes for `user` while they type `typed`."""
    w, sb = h.world, h.sandbox
    options = {"brand": typed}
    inter = await sb.autocomplete(w.guild, w.general, user, "brand", "brand", options, subcommand=sub)
    return [(c["name"], c["value"]) for c in (await inter.response()).json["data"]["choices"]]


async def test_brand_autocomplete_offers_only_the_brands_the_caller_may_see(harness: Harness):
    w = harness.world
    await brand_cmd(harness, "register", w.owner, {"name": "Oat Co", "contact": w.bob})
    await brand_cmd(harness, "register", w.owner, {"name": "Secret Deal Co", "contact": w.alice})
    await brand_cmd(harness, "approve", w.owner, {"brand": "Oat Co"})
    oat, secret = [r[0] for r in await harness.rows("SELECT id FROM brands ORDER BY id")]
    assert await offered(harness, w.carol) == []  # a member: no brand at all, pending or not
    assert await offered(harness, w.alice, "partners") == []  # the contact of a pending brand
    assert await offered(harness, w.bob, "partners") == [("Oat Co (approved)", f"#{oat}")]
    assert await offered(harness, w.owner, typed="co") == [
        ("Oat Co (approved)", f"#{oat}"),
        ("Secret Deal Co (pending)", f"#{secret}"),
    ]
    # the value offered is an id, whatever the brands are called
    await brand_cmd(harness, "register", w.owner, {"name": str(oat), "contact": w.carol})
    done = await brand_cmd(harness, "suspend", w.owner, {"brand": f"#{oat}"})
    assert done["content"].startswith(i18n.isolate("Oat Co"))


async def test_a_long_brand_name_is_shortened_so_its_status_stays_in_the_choice(harness: Harness):
    """A brand named with 100 characters, ending in a family emoji (joined by zero-width joiners):
    the choice keeps its status in full and ends no joiner mid-way (a blind cut at 100 dropped the
    status, which tells brands of the same name apart)."""
    w = harness.world
    name = "Oats " * 17 + "Bg" + "👩\u200d👩\u200d👧"  # 92 characters; the cut falls in the emoji
    await brand_cmd(harness, "register", w.owner, {"name": name, "contact": w.bob})
    [(shown, _)] = await offered(harness, w.owner, typed="oats")
    assert shown == "Oats " * 17 + "Bg👩… (pending)"  # no joiner left dangling before the ellipsis
    assert len(shown) <= 100


async def test_brand_names_match_whatever_their_case_width_or_look_alike_letters(harness: Harness):
    w = harness.world
    await brand_cmd(harness, "register", w.owner, {"name": "Émile", "contact": w.bob})
    for name in ("émile", "ÉMILE\u200e", "\uff25\u0301mile"):  # lower case, a direction mark, full width
        refused = await brand_cmd(harness, "register", w.owner, {"name": name, "contact": w.carol})
        assert "already exists" in refused["content"], name
    await brand_cmd(harness, "register", w.owner, {"name": "Acme", "contact": w.bob})
    greek = "\u0391cme"  # a Greek capital Alpha
    refused = await brand_cmd(harness, "register", w.owner, {"name": greek, "contact": w.carol})
    assert "already exists" in refused["content"]
    emile, acme = [r[0] for r in await harness.rows("SELECT id FROM brands ORDER BY id")]
    # a brand named like the other's id: its name wins, '#' names the id
    await brand_cmd(harness, "register", w.owner, {"name": str(emile), "contact": w.carol})
    numbered = int(await harness.scalar("SELECT id FROM brands WHERE name = ?", str(emile)))
    await brand_cmd(harness, "approve", w.owner, {"brand": str(emile)})
    await brand_cmd(harness, "approve", w.owner, {"brand": "ＡＣＭＥ"})
    assert await harness.rows("SELECT id, status FROM brands ORDER BY id") == [
        (emile, "pending"),
        (acme, "approved"),
        (numbered, "approved"),
    ]
    await brand_cmd(harness, "approve", w.owner, {"brand": f"#{emile}"})
    assert await harness.scalar("SELECT status FROM brands WHERE id = ?", emile) == "approved"


async def test_an_erased_contact_loses_the_brand_role_and_a_refusal_is_said(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob, "contact2": w.carol})
    guest = sb.add_role(w.guild, "Oat team", permissions=BASIC)
    await brand_cmd(h, "role", w.owner, {"brand": "Oat Co", "role": guest})
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    assert all(str(guest) in sb.member(w.guild, m)["roles"] for m in (w.bob, w.carol))
    done = await forget(h, w.carol)
    assert i18n.t("en", "privacy.roles_kept") not in done["content"]
    assert str(guest) not in sb.member(w.guild, w.carol)["roles"]  # nothing would take it back later
    assert await h.rows("SELECT member_id FROM brand_contacts") == [(w.bob,)]
    # the role was moved above the bot's own: Discord refuses, the erasure goes ahead and says so
    sb.stored_guild(w.guild).roles[guest]["position"] = 999
    done = await forget(h, w.bob)
    assert i18n.t("en", "privacy.roles_kept") in done["content"]
    assert str(guest) in sb.member(w.guild, w.bob)["roles"]
    assert await h.scalar("SELECT count(*) FROM brand_contacts") == 0


async def forget(h: Harness, member: int) -> dict:
    """`/privacy forget`, confirmed: the reply (the edit of this click's own message)."""
    interaction = await h.slash("privacy", member, subcommand="forget", permissions=BASIC)
    await interaction.response()
    message = interaction.message
    clicked = await h.sandbox.click(message, buttons(message)["Erase"], member, guild_id=h.world.guild)
    assert (await clicked.response()).json["type"] == 6  # deferred: the erasure edits the message
    return (await clicked.edited()).json


async def test_a_brand_role_is_checked_again_before_it_is_given(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob})
    threads = sb.add_role(w.guild, "Thread keepers", permissions=BASIC | MANAGE_THREADS)
    refused = await brand_cmd(h, "role", w.owner, {"brand": "Oat Co", "role": threads})
    assert refused["content"] == i18n.t("en", "brand.role_too_powerful")
    guest = sb.add_role(w.guild, "Oat team", permissions=BASIC)
    await brand_cmd(h, "role", w.owner, {"brand": "Oat Co", "role": guest})
    # a server admin gives the role Manage Threads after it was chosen: approving does not give it
    sb.stored_guild(w.guild).roles[guest]["permissions"] = str(BASIC | MANAGE_THREADS)
    done = await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    assert "is approved" in done["content"]
    assert i18n.t("en", "brand.role_withheld", role=f"<@&{guest}>") in done["content"]
    assert str(guest) not in sb.member(w.guild, w.bob)["roles"]
    assert await h.scalar("SELECT status FROM brands") == "approved"


async def test_a_moderator_can_only_choose_a_brand_role_they_could_give_themselves(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob})
    guest = sb.add_role(w.guild, "Oat team", permissions=BASIC)
    admins = sb.add_role(w.guild, "Role admins", permissions=BASIC | MANAGE_ROLES)  # above "Oat team"
    dana = sb.add_user("dana")
    sb.add_member(w.guild, dana, roles=[admins], joined_at=datetime(2024, 1, 1, tzinfo=UTC))
    not_yours = i18n.t("en", "brand.role_not_yours", role=f"<@&{guest}>")
    for perms in (MANAGE_GUILD, MANAGE_GUILD | MANAGE_ROLES):  # alice has no role above it
        refused = await brand_cmd(h, "role", w.alice, {"brand": "Oat Co", "role": guest}, perms=perms)
        assert refused["content"] == not_yours
    assert await h.scalar("SELECT role_id FROM brands") is None
    # Manage Roles only in this channel (Manage Permissions, by an overwrite), above the role: not hers
    # to give server-wide
    erin = sb.add_user("erin")
    above = sb.add_role(w.guild, "Channel keepers", permissions=BASIC)  # above "Oat team", no Manage Roles
    sb.add_member(w.guild, erin, roles=[above], joined_at=datetime(2024, 1, 1, tzinfo=UTC))
    refused = await brand_cmd(
        h, "role", erin, {"brand": "Oat Co", "role": guest}, perms=MANAGE_GUILD | MANAGE_ROLES
    )
    assert refused["content"] == not_yours
    assert await h.scalar("SELECT role_id FROM brands") is None
    options = {"brand": "Oat Co", "role": guest}
    done = await brand_cmd(h, "role", dana, options, perms=MANAGE_GUILD | MANAGE_ROLES)
    assert f"get <@&{guest}> while the brand is approved" in done["content"]
    assert await h.scalar("SELECT role_id FROM brands") == guest


async def test_brand_managers_rank_partners_in_the_brands_topics_only(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob, "topic": w.cooking})
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    brand_id = int(await h.scalar("SELECT id FROM brands"))
    off_topic = await brand_cmd(h, "partners", w.bob, {"topic": w.general}, perms=BASIC)
    assert off_topic["content"] == i18n.t("en", "brand.topic_not_yours")
    for topic in (w.cooking, None):
        listed = await brand_cmd(h, "partners", w.bob, {"topic": topic} if topic else {}, perms=BASIC)
        assert "#vegan-cooking" in listed["embeds"][0]["title"]
    moderator = await brand_cmd(h, "partners", w.owner, {"brand": "Oat Co", "topic": w.general})
    assert "#general" in moderator["embeds"][0]["title"]
    # a page button whose custom_id was edited to rank server-wide or in another channel
    prefix = f"microvoice:brandpartners:{brand_id}"
    forged = [f"{prefix}:all:0", f"{prefix}:channel:{w.general}:0"]
    message = await bot_message_with_buttons(h, w.general, forged)
    for custom_id in forged:
        clicked = await sb.click(message, custom_id, w.bob, guild_id=w.guild, permissions=BASIC)
        reply = (await clicked.response()).json
        assert reply["data"]["content"] == i18n.t("en", "brand.topic_not_yours"), custom_id
    ranked = await sb.click(message, forged[0], w.owner, guild_id=w.guild, permissions=MANAGE_GUILD)
    assert (await ranked.response()).json["type"] == 6  # moderators rank anywhere
    assert i18n.t("en", "voices.scope_all") in (await ranked.edited()).json["embeds"][0]["title"]


async def test_with_the_members_intent_partners_who_left_while_the_bot_was_down_are_not_listed(
    launcher: Launcher,
):
    h = await launcher.start(members_intent=True)
    w = h.world
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob})
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    for member in (w.alice, w.carol):
        await join(h, member)
    why = json.dumps({"parts": []})
    rows = [(w.carol, 1, 0.9, 5, 2, why), (w.alice, 2, 0.8, 5, 2, why)]
    await h.app.store.replace_trust_scores(w.guild, {"all": rows}, h.clock.now)
    await launcher.stop(h)
    h.sandbox.remove_member(w.guild, w.carol)  # no bot is connected to see her leave
    h = await launcher.start(members_intent=True)
    listed = (await brand_cmd(h, "partners", w.bob, perms=BASIC))["embeds"][0]["description"]
    assert f"<@{w.alice}>" in listed and f"<@{w.carol}>" not in listed
    # read from the member list loaded at start, not asked of Discord member by member
    assert h.sandbox.rest.find("GET", "/guilds/{guild_id}/members/{user_id}") == []
    assert not await h.app.store.is_partner(w.guild, w.carol)
    assert await h.rows("SELECT action FROM consent_log WHERE member_id = ? ORDER BY id", w.carol) == [
        ("accepted",),
        ("left_server",),
    ]


async def test_suspending_a_brand_says_which_of_its_activations_run_on_and_which_lapse(harness: Harness):
    h, w = harness, harness.world
    brand = await seed_brand(h, "Oat Milk Co", contacts=[w.bob])
    await h.app.store.update_settings(w.guild, {"min_gap_hours": 0}, by=w.owner, now=h.clock.now)
    ids = []
    for hours, title in ((1, "Ask us now"), (30, "Ask us tomorrow")):
        options = {
            "brand": brand,
            "channel": w.cooking,
            "title": title,
            "starts": when(h, timedelta(hours=hours)),
            "ends": when(h, timedelta(hours=hours + 2)),
        }
        data, activation_id = await create(h, "qa", w.bob, options, permissions=BASIC)
        assert activation_id is not None, data
        await approve(h, activation_id)
        ids.append(activation_id)
    await move_to(h, h.clock.now + timedelta(hours=1, minutes=1))
    live, later = ids
    data = await brand_cmd(h, "suspend", w.owner, {"brand": "Oat Milk Co"})
    text = data["content"]
    assert "is suspended" in text
    assert f"Its activation #{live} is live: it keeps running" in text and "`/activation cancel`" in text
    assert f"Its activation #{later} has not started: it will be cancelled at its start" in text
    assert data["flags"] & EPHEMERAL


async def test_suspending_a_brand_with_hundreds_of_proposals_still_answers(harness: Harness):
    """A brand with 600 proposals waiting is suspended: the answer lists the first of them and stops
    with an ellipsis, within Discord's 2,000 characters (listing them all was refused by Discord
    after the brand was already suspended, so the moderator saw only an error)."""
    h, w = harness, harness.world
    brand = await seed_brand(h, "Oat Milk Co", contacts=[w.bob])
    at, end = iso(h.clock.now + timedelta(days=3)), iso(h.clock.now + timedelta(days=3, hours=2))
    for n in range(600):
        await h.app.store.write(
            "INSERT INTO activations (community_id, brand_id, kind, state, title, channel_id, starts_at,"
            " ends_at, created_by, created_at, updated_at, config)"
            " VALUES (?, ?, 'qa', 'pending', ?, ?, ?, ?, ?, ?, ?, '{}')",
            (w.guild, brand, f"Ask us {n}", w.cooking, at, end, w.bob, at, at),
        )
    data = await brand_cmd(h, "suspend", w.owner, {"brand": "Oat Milk Co"})
    text = data["content"]
    assert "is suspended" in text and len(text) <= 2000
    assert "have not started" in text and ", …" in text
    assert await h.scalar("SELECT status FROM brands WHERE id = ?", brand) == "suspended"


async def test_discord_failing_while_a_brand_role_is_given_is_said_not_shown_as_an_error(harness: Harness):
    """The approval is saved, then Discord fails the role change with an error that is neither 403 nor
    404 (a 400 here; a 5xx past discord.py's retries alike): the moderator is told the role could not
    be updated, as for a refusal (before, a generic error, with the brand approved and no way to
    retry the roles)."""
    h, w, sb = harness, harness.world, harness.sandbox
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob})
    guest = sb.add_role(w.guild, "Oat team", permissions=BASIC)
    await brand_cmd(h, "role", w.owner, {"brand": "Oat Co", "role": guest})
    sb.fail_next("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", status=400, code=50035)
    done = await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    assert "is approved" in done["content"] and "could not update the role of 1 contact" in done["content"]
    assert await h.scalar("SELECT status FROM brands") == "approved"


async def test_a_contact_who_leaves_the_server_stops_managing_the_brand_for_good(launcher: Launcher):
    """Bob, a contact of an approved brand, leaves: he is no longer its contact or manager, and neither
    rejoining nor a restart makes him one again; moderators see that he left (`brand show`, the audit
    log), and a brand whose contacts all left says it has none."""
    h = await launcher.start(members_intent=True)
    w, sb = h.world, h.sandbox
    audit = sb.add_channel(w.guild, "mod-log")
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob, "contact2": w.carol})
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    brand_id = int(await h.scalar("SELECT id FROM brands"))
    interaction = await h.slash("microvoice", w.owner, {"channel": audit}, subcommand="audit")
    await interaction.response()
    assert await h.app.store.managed_brand_ids(w.guild, w.bob) == [brand_id]

    sb.remove_member(w.guild, w.bob)
    await h.settle()
    await h.app.audit.drain()
    assert await h.app.store.managed_brand_ids(w.guild, w.bob) == []
    assert w.bob not in await h.app.store.ranking_exclusions(w.guild)  # no longer a contact: ranked again
    lines = [m["content"] for m in sb.messages(audit)]
    name = i18n.isolate("Oat Co")
    left = i18n.t("en", "audit.brand_contact_left", member=f"<@{w.bob}>", id=brand_id, name=name)
    assert left in lines

    sb.add_member(w.guild, w.bob, joined_at=datetime(2024, 6, 1, tzinfo=UTC), dispatch=True)
    await h.settle()
    await launcher.stop(h)
    h = await launcher.start(members_intent=True)
    assert await h.app.store.managed_brand_ids(w.guild, w.bob) == []
    refused = await brand_cmd(h, "show", w.bob, {"brand": f"#{brand_id}"}, perms=BASIC)
    assert "Brand #" not in json.dumps(refused)  # not a brand manager any more
    shown = (await brand_cmd(h, "show", w.owner, {"brand": "Oat Co"}))["embeds"][0]["description"]
    assert f"Contacts: <@{w.carol}>\n" in shown
    assert i18n.t("en", "brand.contacts_left", members="")[:-2] in shown and f"<@{w.bob}> (" in shown

    sb.remove_member(w.guild, w.carol)
    await h.settle()
    shown = (await brand_cmd(h, "show", w.owner, {"brand": "Oat Co"}))["embeds"][0]["description"]
    assert f"Contacts: {i18n.t('en', 'brand.no_contact')}\n" in shown
    assert f"<@{w.bob}> (" in shown and f"<@{w.carol}> (" in shown


async def audit_lines(h: Harness, channel: int) -> list[str]:
    await h.app.audit.drain()
    return [m["content"] for m in h.sandbox.messages(channel)]


async def test_moderators_add_and_remove_a_brands_contacts_who_get_and_lose_its_role(harness: Harness):
    """A moderator adds carol to approved Oat Co: she manages it at once, gets its role and is no longer
    ranked; removing her takes all that back (bob keeps the role Soy Co gives him too). Bots, members
    not in the server, contacts already there, a fourth contact and the last contact of an approved
    brand are refused, changing nothing. Each change is one audit line; replies are ephemeral, ping
    nobody, and are in the community's language."""
    h, w, sb = harness, harness.world, harness.sandbox
    audit = sb.add_channel(w.guild, "mod-log")
    await (await h.slash("microvoice", w.owner, {"channel": audit}, subcommand="audit")).response()
    guest = sb.add_role(w.guild, "Oat team", permissions=BASIC)
    for name in ("Oat Co", "Soy Co"):
        await brand_cmd(h, "register", w.owner, {"name": name, "contact": w.bob})
        await brand_cmd(h, "role", w.owner, {"brand": name, "role": guest})
        await brand_cmd(h, "approve", w.owner, {"brand": name})
    oat, soy = [r[0] for r in await h.rows("SELECT id FROM brands ORDER BY id")]
    store, name = h.app.store, i18n.isolate("Oat Co")

    added = await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": w.carol})
    assert added["flags"] & EPHEMERAL and added.get("allowed_mentions", {}).get("parse", []) == []
    status = i18n.t("en", "brand.status_approved")
    assert added["content"] == i18n.t(
        "en", "brand.contact_added", member=f"<@{w.carol}>", brand=name, status=status
    )
    assert str(guest) in sb.member(w.guild, w.carol)["roles"]
    assert await store.managed_brand_ids(w.guild, w.carol) == [oat]
    assert w.carol in await store.ranking_exclusions(w.guild)
    shown = await brand_cmd(h, "show", w.carol, {"brand": "Oat Co"}, perms=BASIC)  # a brand manager now
    assert f"Contacts: <@{w.bob}>, <@{w.carol}>\n" in shown["embeds"][0]["description"]

    stranger = sb.add_user("stranger")  # a Discord user who is not in this server
    refusals = [
        (w.helper_bot, i18n.t("en", "brand.add_contact_bot", member=f"<@{w.helper_bot}>")),
        (stranger, i18n.t("en", "brand.add_contact_not_member", member=f"<@{stranger}>")),
        (w.carol, i18n.t("en", "brand.add_contact_already", member=f"<@{w.carol}>")),
    ]
    for member, expected in refusals:
        refused = await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": member})
        assert refused["flags"] & EPHEMERAL and refused["content"] == expected
    await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": w.alice})
    full = await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": w.mod})
    assert full["content"] == i18n.t("en", "brand.add_contact_full", max=3)
    unknown = await brand_cmd(h, "contact-add", w.owner, {"brand": "No Such Co", "member": w.mod})
    assert "There is no brand" in unknown["content"]
    assert await store.managed_brand_ids(w.guild, w.mod) == []
    assert str(guest) not in sb.member(w.guild, w.mod)["roles"]

    removed = await brand_cmd(h, "contact-remove", w.owner, {"brand": "Oat Co", "member": w.carol})
    assert removed["flags"] & EPHEMERAL and removed["content"] == i18n.t(
        "en", "brand.contact_removed", member=f"<@{w.carol}>", brand=name, status=status
    )
    assert str(guest) not in sb.member(w.guild, w.carol)["roles"]
    assert await store.managed_brand_ids(w.guild, w.carol) == []
    assert w.carol not in await store.ranking_exclusions(w.guild)
    again = await brand_cmd(h, "contact-remove", w.owner, {"brand": "Oat Co", "member": w.carol})
    assert again["content"] == i18n.t("en", "brand.remove_contact_unknown", member=f"<@{w.carol}>")
    await brand_cmd(h, "contact-remove", w.owner, {"brand": "Oat Co", "member": w.bob})
    assert str(guest) in sb.member(w.guild, w.bob)["roles"]  # Soy Co gives it to him too
    last = await brand_cmd(h, "contact-remove", w.owner, {"brand": "Oat Co", "member": w.alice})
    assert last["content"] == i18n.t("en", "brand.remove_contact_last", member=f"<@{w.alice}>")
    assert await store.managed_brand_ids(w.guild, w.alice) == [oat]
    assert await store.managed_brand_ids(w.guild, w.bob) == [soy]

    lines = await audit_lines(h, audit)
    line = "audit.brand_contact_{}"
    for kind, member in (("add", w.carol), ("add", w.alice), ("remove", w.carol), ("remove", w.bob)):
        expected = i18n.t(
            "en", line.format(kind), by=f"<@{w.owner}>", member=f"<@{member}>", id=oat, name=name
        )
        assert lines.count(expected) == 1, (kind, member, lines)
    assert sum("as a contact of brand" in x for x in lines) == 4  # refusals wrote nothing

    # in Hebrew
    await store.update_settings(w.guild, {"locale": "he"}, by=w.owner, now=h.clock.now)
    h.app.forget_locale(w.guild)
    refused = await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": w.alice})
    assert refused["content"] == i18n.t("he", "brand.add_contact_already", member=f"<@{w.alice}>")


async def test_a_contact_who_left_and_is_added_again_manages_the_brand_and_is_off_the_left_list(
    launcher: Launcher,
):
    h = await launcher.start(members_intent=True)
    w, sb = h.world, h.sandbox
    await brand_cmd(h, "register", w.owner, {"name": "Oat Co", "contact": w.bob, "contact2": w.carol})
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    brand_id = int(await h.scalar("SELECT id FROM brands"))
    sb.remove_member(w.guild, w.bob)
    await h.settle()
    sb.add_member(w.guild, w.bob, joined_at=datetime(2024, 6, 1, tzinfo=UTC))
    await h.settle()
    assert await h.app.store.managed_brand_ids(w.guild, w.bob) == []  # rejoining restores nothing
    left = i18n.t("en", "brand.contacts_left", members="")[:-2]
    shown = (await brand_cmd(h, "show", w.owner, {"brand": "Oat Co"}))["embeds"][0]["description"]
    assert left in shown and f"<@{w.bob}> (" in shown

    added = await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": w.bob})
    assert f"<@{w.bob}>" in added["content"] and added["flags"] & EPHEMERAL
    assert await h.app.store.managed_brand_ids(w.guild, w.bob) == [brand_id]
    shown = (await brand_cmd(h, "show", w.owner, {"brand": "Oat Co"}))["embeds"][0]["description"]
    assert left not in shown and f"Contacts: <@{w.bob}>, <@{w.carol}>\n" in shown
    assert await h.scalar("SELECT count(*) FROM brand_contacts_left") == 0


async def test_without_the_members_intent_a_contact_who_left_is_found_gone_when_the_brand_is_used(
    harness: Harness,
):
    """No GUILD_MEMBER_REMOVE arrives without the Server Members intent: carol, who left, stayed Oat
    Co's contact (one of its three, so no other could be added). Now showing the brand (its manager bob
    does), approving it or changing its contacts asks Discord about them, and one who is gone is
    treated as having left: no longer a contact, listed as gone, in the audit log."""
    h, w, sb = harness, harness.world, harness.sandbox
    audit = sb.add_channel(w.guild, "mod-log")
    await (await h.slash("microvoice", w.owner, {"channel": audit}, subcommand="audit")).response()
    options = {"name": "Oat Co", "contact": w.bob, "contact2": w.carol, "contact3": w.alice}
    await brand_cmd(h, "register", w.owner, options)
    await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    brand_id = int(await h.scalar("SELECT id FROM brands"))
    sb.remove_member(w.guild, w.carol)
    await h.settle()
    assert await h.app.store.managed_brand_ids(w.guild, w.carol) == [brand_id]  # nothing told the bot

    shown = (await brand_cmd(h, "show", w.bob, {"brand": "Oat Co"}, perms=BASIC))["embeds"][0]["description"]
    assert f"Contacts: <@{w.alice}>, <@{w.bob}>\n" in shown and f"<@{w.carol}> (" in shown
    assert await h.app.store.managed_brand_ids(w.guild, w.carol) == []
    name = i18n.isolate("Oat Co")
    gone = i18n.t("en", "audit.brand_contact_left", member=f"<@{w.carol}>", id=brand_id, name=name)
    assert (await audit_lines(h, audit)).count(gone) == 1

    # adding a contact: the brand's contacts are asked about first, so a departed one frees a place
    sb.remove_member(w.guild, w.alice)
    added = await brand_cmd(h, "contact-add", w.owner, {"brand": "Oat Co", "member": w.mod})
    assert added["content"].startswith(f"<@{w.mod}> ")
    assert await h.rows("SELECT member_id FROM brand_contacts ORDER BY member_id") == sorted(
        [(w.bob,), (w.mod,)]
    )
    # approving: a contact gone since is not made a brand manager again after a suspension
    await brand_cmd(h, "suspend", w.owner, {"brand": "Oat Co"})
    sb.remove_member(w.guild, w.mod)
    done = await brand_cmd(h, "approve", w.owner, {"brand": "Oat Co"})
    assert "is approved" in done["content"] and f"<@{w.mod}>" not in done["content"]
    assert await h.app.store.managed_brand_ids(w.guild, w.mod) == []
    assert sum("left the server" in line for line in await audit_lines(h, audit)) == 3
