"""Hostile input through the sandbox: option values a Discord client would never send (a choice that is
not offered) and free text full of invisible characters. Each gets a clear ephemeral answer or is
stored cleaned; nothing reaches discord.py's error log."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import i18n
from tests.e2e.activation_helpers import EPHEMERAL, create, reply, seed_brand, seed_partner, set_locale, when
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"


async def test_a_choice_that_is_not_offered_gets_a_clear_answer_and_changes_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    h, w = harness, harness.world
    with caplog.at_level(logging.ERROR):
        interaction = await h.slash(
            "microvoice", w.owner, {"locale": "xx"}, subcommand="setup", permissions=MANAGE_GUILD
        )
        data = await reply(interaction)
    assert data["flags"] & EPHEMERAL
    assert "xx" in data["content"] and "`locale`" in data["content"] and "(`he`)" in data["content"]
    assert "Something went wrong" not in data["content"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await h.scalar("SELECT count(*) FROM guild_settings") == 0
    # in the server's language
    await reply(
        await h.slash("microvoice", w.owner, {"locale": "he"}, subcommand="setup", permissions=MANAGE_GUILD)
    )
    again = await reply(
        await h.slash(
            "microvoice", w.owner, {"locale": "@everyone"}, subcommand="setup", permissions=MANAGE_GUILD
        )
    )
    assert "אינו אחת האפשרויות" in again["content"]
    assert again["allowed_mentions"] == {"parse": []}


async def test_free_text_is_stored_cleaned_and_emoji_stay_whole(harness: Harness):
    h, w = harness, harness.world
    registered = await h.slash(
        "brand",
        w.owner,
        {"name": f"Oat\u200b {FAMILY}\u202e Co\x00", "contact": w.alice},
        subcommand="register",
        permissions=MANAGE_GUILD,
    )
    assert (await reply(registered))["flags"] & EPHEMERAL
    assert await h.scalar("SELECT name FROM brands") == f"Oat {FAMILY} Co"

    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    options = {
        "brand": brand,
        "channel": w.cooking,
        "title": "Ask\x00 our\u202e chef\u200b\u2066",
        "starts": "\u200b+1h",
        "ends": when(h, timedelta(hours=3)),
    }
    data, created = await create(h, "qa", w.alice, options, permissions=BASIC)
    assert created is not None, data
    assert await h.scalar("SELECT title FROM activations WHERE id = ?", created) == "Ask our chef"
    refused = await h.slash(
        "activation",
        w.owner,
        {"id": created, "reason": "\u200b\u202e\x00 "},
        subcommand="reject",
        permissions=MANAGE_GUILD,
    )
    answer = await reply(refused)
    assert answer["flags"] & EPHEMERAL
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", created) == "pending"


@pytest.mark.parametrize(
    ("command", "subcommand", "options", "expected"),
    [
        ("voices", "top", {"days": 7}, "`days`"),
        ("voices", "override", {"member": "alice", "mode": "crown"}, "`mode`"),
        ("microvoice", "setup", {"retention_days": 0}, "Retention must be between 1 and 3650 days."),
        ("microvoice", "setup", {"max_sponsored_per_week": 10**9}, "between"),
    ],
)
async def test_values_outside_the_offered_ones_are_refused_clearly(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    command: str,
    subcommand: str,
    options: dict,
    expected: str,
):
    h, w = harness, harness.world
    if options.get("member") == "alice":
        options = {**options, "member": w.alice}
    with caplog.at_level(logging.ERROR):
        data = await reply(
            await h.slash(command, w.owner, options, subcommand=subcommand, permissions=MANAGE_GUILD)
        )
    assert data["flags"] & EPHEMERAL and expected in data["content"], data["content"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await h.scalar("SELECT count(*) FROM guild_settings") == 0
    assert await h.scalar("SELECT count(*) FROM trust_overrides") == 0


async def test_a_connection_that_is_not_offered_and_the_everyone_role_as_a_brand_role(harness: Harness):
    h, w = harness, harness.world
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    options = {
        "brand": brand,
        "channel": w.cooking,
        "title": "Ask",
        "starts": "+1h",
        "ends": "+2h",
        "connection": "sponsored-by-nobody",
    }
    data, created = await create(h, "qa", w.alice, options, permissions=BASIC)
    assert created is None and data["flags"] & EPHEMERAL and "paid" in data["content"], data
    everyone = {"brand": str(brand), "role": w.guild}  # the @everyone role has the server's id
    role = await reply(await h.slash("brand", w.owner, everyone, subcommand="role", permissions=MANAGE_GUILD))
    assert role["flags"] & EPHEMERAL and "cannot be a brand role" in role["content"]
    assert await h.scalar("SELECT role_id FROM brands WHERE id = ?", brand) is None


async def test_a_user_who_is_not_in_the_server_is_answered_as_not_a_member(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """A picked user who never joined, or who left, comes in the interaction's resolved users with no
    member entry (as Discord sends it); where a command needs a member, the answer says that user is
    not a member of this server, in the server's language, and nothing changes."""
    h, w = harness, harness.world
    stranger = h.sandbox.add_user("faraway")
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    await seed_partner(h, w.carol)
    h.sandbox.remove_member(w.guild, w.carol)  # an opted-in partner who has since left
    takeover = {
        "brand": brand,
        "channel": w.cooking,
        "taker": w.carol,
        "title": "Our chef takes over",
        "starts": when(h, timedelta(hours=1)),
        "ends": when(h, timedelta(hours=2)),
    }
    with caplog.at_level(logging.ERROR):
        looked_up = await h.slash(
            "voices", w.owner, {"member": stranger}, subcommand="member", permissions=MANAGE_GUILD
        )
        resolved = looked_up.payload["data"]["resolved"]
        assert str(stranger) in resolved["users"] and str(stranger) not in resolved.get("members", {})
        data = await reply(looked_up)
        assert data["flags"] & EPHEMERAL and "faraway" in data["content"], data["content"]
        assert "is not a member of this server" in data["content"]
        assert data["content"] == i18n.t(
            "en", "error.not_a_member", member=i18n.isolate("faraway"), option="`member`"
        )
        data, created = await create(h, "takeover", w.alice, takeover, permissions=BASIC)
        assert created is None and data["flags"] & EPHEMERAL
        assert "carol" in data["content"] and "is not a member of this server" in data["content"]
        await set_locale(h, "ar")
        data = await reply(
            await h.slash(
                "voices",
                w.owner,
                {"member": w.carol, "mode": "exclude"},
                subcommand="override",
                permissions=MANAGE_GUILD,
            )
        )
        assert data["content"] == i18n.t(
            "ar", "error.not_a_member", member=i18n.isolate("carol"), option="`member`"
        )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await h.scalar("SELECT count(*) FROM activations") == 0
    assert await h.scalar("SELECT count(*) FROM trust_overrides") == 0
