"""Unique discount codes through the sandbox: a pool attached at creation or later, one atomic claim per
member (concurrent claims never share a code), and the brand's redemption CSV computing conversions."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot import i18n
from bot.activations import disclosure
from bot.roles import refusal_key
from tests.e2e.activation_helpers import (
    EPHEMERAL,
    activation_messages,
    approve,
    assert_disclosed,
    assert_no_mass_mentions,
    create,
    move_to,
    reply,
    seed_brand,
    set_locale,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness
from tests.e2e.test_giveaway import BRAND, add_members, open_giveaway

CODE = "microvoice:codes:claim:{}"
POOL = b"code\nOAT-1001\nOAT-1002\nOAT-1003\nOAT-1004\n"


async def claim(h: Harness, message: dict | int, activation_id: int, user: int, perms: int = BASIC) -> dict:
    clicked = await h.sandbox.click(
        message, CODE.format(activation_id), user, guild_id=h.world.guild, permissions=perms
    )
    return await reply(clicked)


async def attach_codes(h: Harness, user: int, activation_id: int, data: bytes) -> Any:
    """`/activation codes` with a file of codes; the interaction."""
    return await h.slash(
        "activation",
        user,
        {"id": activation_id, "file": ("codes.txt", data)},
        subcommand="codes",
        permissions=BASIC,
    )


async def redemptions(h: Harness, user: int, activation_id: int, csv: bytes, perms: int = BASIC) -> dict:
    interaction = await h.slash(
        "activation",
        user,
        {"id": activation_id, "file": ("redeemed.csv", csv)},
        subcommand="redemptions",
        permissions=perms,
    )
    return await reply(interaction)


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
async def test_codes_claimed_once_each_and_redemptions_reported(harness: Harness, lang: str):
    h, w = harness, harness.world
    activation_id, opening = await open_giveaway(h, lang, codes=("codes.txt", POOL))
    assert await h.scalar("SELECT count(*) FROM activation_codes") == 4
    tag = disclosure.tag(lang, BRAND, "gifted")

    # One code per member; asking again shows the same code; the reply is ephemeral and disclosed.
    first = await claim(h, opening, activation_id, w.bob)
    assert first["flags"] & EPHEMERAL and disclosure.starts_disclosed(first["content"], tag)
    bob_code = await h.scalar("SELECT code FROM activation_codes WHERE claimed_by = ?", w.bob)
    assert bob_code == "OAT-1001" and f"`{bob_code}`" in first["content"]
    again = await claim(h, opening, activation_id, w.bob)
    assert again["content"].endswith(i18n.t(lang, "codes.again", code=bob_code))
    # The brand's own contact cannot take a code.
    contact = await claim(h, opening, activation_id, w.alice)
    assert contact["content"] == i18n.t(lang, "giveaway.refused.brand_contact")

    # Concurrent claims never get the same code; the pool runs out cleanly.
    fans = add_members(h, 4)
    clicks = [
        await h.sandbox.click(opening, CODE.format(activation_id), uid, guild_id=w.guild, permissions=BASIC)
        for uid in fans
    ]
    answers = await asyncio.gather(*(reply(c) for c in clicks))
    rows = await h.rows("SELECT claimed_by, code FROM activation_codes WHERE claimed_by IS NOT NULL")
    assert len(rows) == 4 and len({code for _, code in rows}) == 4 and len({m for m, _ in rows}) == 4
    exhausted = [a for a in answers if a["content"] == i18n.t(lang, "codes.exhausted")]
    assert len(exhausted) == 1

    # The brand reports redemptions from its shop: conversions over claimed codes.
    claimed = dict(rows)
    redeemed_fan = next(m for m in claimed if m != w.bob)
    csv = (
        "order,code,redeemed_at\n"
        f"1,{bob_code.lower()},2026-05-01T10:00:00Z\n"
        f"2,{claimed[redeemed_fan]},\n"
        "3,NOT-OURS,2026-05-02\n"
    ).encode()
    report = await redemptions(h, w.alice, activation_id, csv)
    assert report["flags"] & EPHEMERAL
    expected = i18n.t(
        lang, "codes.redemptions", id=activation_id, new=2, already=0, unknown=1, unclaimed=0,
        redeemed=2, claimed=4, pct=50,
    )  # fmt: skip
    assert report["content"].startswith(expected)
    assert "NOT-OURS" in report["content"]
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 2
    assert await h.scalar("SELECT redeemed_at FROM code_redemptions ORDER BY code_id LIMIT 1") == (
        "2026-05-01T10:00:00.000+00:00"
    )
    # Reporting the same file again records nothing new.
    repeat = await redemptions(h, w.alice, activation_id, csv)
    assert i18n.t(lang, "codes.redemptions", id=activation_id, new=0, already=2, unknown=1, unclaimed=0,
                  redeemed=2, claimed=4, pct=50) in repeat["content"]  # fmt: skip
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 2

    for call in activation_messages(h, [w.cooking]):
        assert_disclosed(call, tag)
    assert_no_mass_mentions(h)


async def test_redemptions_refuse_bad_input_and_strangers(harness: Harness):
    h, w = harness, harness.world
    activation_id, _ = await open_giveaway(h, "en", codes=("codes.txt", POOL))
    stranger = await redemptions(h, w.bob, activation_id, b"code\nOAT-1001\n")
    assert stranger["flags"] & EPHEMERAL
    # not a brand manager at all: the permission matrix's refusal (bot/roles.py)
    assert stranger["content"] == i18n.t("en", refusal_key("activation redemptions"))
    for csv, key, params in (
        (b"", "codes.error.empty_csv", {}),
        (b"code,redeemed_at\nOAT-1001,yesterday\n", "codes.error.bad_date", {"line": 2}),
        (b"\xff\xfe\x00\x01", "codes.error.encoding", {}),
    ):
        answer = await redemptions(h, w.alice, activation_id, csv)
        assert answer["flags"] & EPHEMERAL and answer["content"] == i18n.t("en", key, **params)
    unknown = await redemptions(h, w.alice, 9999, b"code\nOAT-1001\n")
    assert unknown["content"] == i18n.t("en", "codes.error.not_found")
    # Moderators may report too.
    moderator = await redemptions(h, w.owner, activation_id, b"OAT-1003\n", perms=MANAGE_GUILD)
    assert "1 new" in moderator["content"] and "never claimed here" in moderator["content"]
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 1


async def test_codes_attached_later_to_a_live_giveaway_add_the_button(harness: Harness):
    h, w = harness, harness.world
    activation_id, opening = await open_giveaway(h, "en")
    buttons = [c["custom_id"] for row in opening["components"] for c in row["components"]]
    assert CODE.format(activation_id) not in buttons
    bad = await attach_codes(h, w.alice, activation_id, b"GOOD-1\nbad code\n")
    assert (await reply(bad))["content"] == i18n.t("en", "codes.error.bad_code", line=2, high=64)
    assert await h.scalar("SELECT count(*) FROM activation_codes") == 0
    attached = await attach_codes(h, w.alice, activation_id, b"GOOD-1\nGOOD-2\n")
    assert (await reply(attached))["content"] == i18n.t("en", "codes.attached", count=2, id=activation_id)
    await h.settle()
    message = h.sandbox.message(int(opening["id"]))
    buttons = [c["custom_id"] for row in message["components"] for c in row["components"]]
    assert CODE.format(activation_id) in buttons
    got = await claim(h, message, activation_id, w.carol)
    assert "`GOOD-1`" in got["content"]
    # Once the giveaway is over, codes can neither be added nor claimed.
    await move_to(h, h.clock.now + timedelta(days=2))
    late = await claim(h, message, activation_id, w.bob)
    assert late["content"] == i18n.t("en", "codes.closed")
    more = await attach_codes(h, w.alice, activation_id, b"GOOD-3\n")
    assert (await reply(more))["content"] == i18n.t("en", "codes.error.ended")
    assert await h.scalar("SELECT count(*) FROM activation_codes") == 2


async def test_a_slow_code_file_download_still_answers_within_discords_deadline(harness: Harness):
    """Discord drops an interaction not answered within 3 s (404 Unknown interaction). Reading a file
    from its CDN can take longer: the commands that read one answer first (deferred), then work."""
    h, w = harness, harness.world
    activation_id, _ = await open_giveaway(h, "en")
    h.sandbox.interaction_deadline, h.sandbox.cdn_delay = 0.3, 0.6  # Discord's 3 s, scaled down
    attached = await attach_codes(h, w.alice, activation_id, b"SLOW-1\nSLOW-2\n")
    await attached.response()
    assert attached.responded_with == 5
    assert (await reply(attached))["content"] == i18n.t("en", "codes.attached", count=2, id=activation_id)
    report = await redemptions(h, w.alice, activation_id, b"code\nSLOW-1\n")
    assert report["flags"] & EPHEMERAL and f"#{activation_id}" in report["content"]
    assert await h.scalar("SELECT count(*) FROM code_redemptions") == 1


async def test_codes_for_a_live_qa_get_their_own_disclosed_post(harness: Harness):
    h, w = harness, harness.world
    await set_locale(h, "he")
    brand = await seed_brand(h, BRAND, contacts=[w.alice])
    _, activation_id = await create(
        h,
        "qa",
        w.alice,
        {
            "brand": brand,
            "channel": w.cooking,
            "title": "Ask our chef",
            "starts": when(h, timedelta(hours=1)),
            "ends": when(h, timedelta(hours=3)),
        },
        permissions=BASIC,
    )
    assert activation_id is not None
    early = await attach_codes(h, w.alice, activation_id, b"QA-1\n")
    assert (await reply(early))["content"] == i18n.t("he", "codes.error.not_live")
    await approve(h, activation_id)
    await move_to(h, h.clock.now.replace(second=0) + timedelta(hours=1, minutes=1))
    attached = await attach_codes(h, w.alice, activation_id, b"QA-1\nQA-2\n")
    assert (await reply(attached))["flags"] & EPHEMERAL
    await h.settle()
    post = [c for c in activation_messages(h, [w.cooking]) if c.method == "POST"][-1]
    tag = disclosure.tag("he", BRAND, "paid")
    assert_disclosed(post, tag)
    # moderators may take a code (they are only kept out of giveaways, which they approve)
    got = await claim(h, int(post.response["id"]), activation_id, w.owner, MANAGE_GUILD)
    assert "`QA-1`" in got["content"] and disclosure.starts_disclosed(got["content"], tag)
