"""Every reply and post stays within Discord's limits whatever members type: free text at its longest,
in wide characters (emoji, CJK, Arabic and Hebrew with direction marks, markdown, mentions), long lists
of brands and activations, members with markdown and mentions in their names, in Arabic and Hebrew
(whose strings are the longest). The sandbox refuses what Discord refuses (tests/sandbox/
test_discord_limits.py), so one refused call, one error logged or one unanswered member fails here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.activations.draw import MAX_PRIZE, MAX_RULES, MAX_WINNERS
from bot.activations.giveaways import ENTER
from bot.activations.model import ANSWER_MAX, REASON_MAX, TEXT_MAX, TITLE_MAX
from bot.activations.qa import ASK, VOTE
from bot.partners.brands import NAME_MAX
from cogs.qa import QUESTION_INPUT
from cogs.takeover import POST_INPUT
from sandbox.discord_server import Interaction
from tests.e2e.activation_helpers import approve, create, move_to, reply, seed_partner, set_locale
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness

PIECES = ("\U0001f96c", "漢字", "\u200fשלום\u200f", "\u200fمرحبا\u200f", " **x** ", "`y`", " _z_ ")
MENTIONS = (" @everyone ", "<@1>", " @here ")
BRANDS = 26  # more than an autocomplete or a list shows
#: What Discord allows in a nickname (32 characters), with markdown, mentions and a bidi override.
NICK = "\u202e**__~~||@here||~~__**\u202e<@1>\U0001f96c"[:32]


def hostile(length: int, seed: int = 0, *, mentions: bool = True) -> str:
    """`length` characters of wide, right-to-left and markdown text (and mentions, where allowed)."""
    pieces = PIECES + MENTIONS if mentions else PIECES
    text = str(seed) + "".join(pieces[(seed + i) % len(pieces)] for i in range(length))
    return text[:length].strip()[:length].ljust(length, "\U0001f96c")


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def accepted(h: Harness, errors: Errors) -> None:
    """Nothing the bot sent was refused, and nothing went wrong on its side."""
    refused = [(c.method, c.path, c.json) for c in h.rest.calls if c.status >= 400]
    assert not refused, refused[:3]
    assert not errors.records, [r.getMessage() for r in errors.records]


async def answered(h: Harness, interaction: Interaction) -> dict[str, Any]:
    data = await reply(interaction)
    await h.settle()
    assert data.get("content") or data.get("embeds"), data
    return data


async def slash(
    h: Harness, name: str, options: dict[str, Any], sub: str | list[str] | None, user: int = 0
) -> dict:
    perms = BASIC if user else MANAGE_GUILD
    return await answered(
        h, await h.slash(name, user or h.world.owner, options, subcommand=sub, permissions=perms)
    )


def window(h: Harness, hours: int) -> dict[str, str]:
    start = h.clock.now + timedelta(hours=hours)
    return {
        "starts": start.strftime("%Y-%m-%d %H:%M"),
        "ends": (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
    }


async def test_long_lists_and_longest_names_in_arabic(harness: Harness, errors: Errors):
    h, w, sb = harness, harness.world, harness.sandbox
    await set_locale(h, "ar", max_sponsored_per_week=50, min_gap_hours=0)
    for n in range(BRANDS):
        options = {"name": hostile(NAME_MAX, n, mentions=False), "contact": w.alice, "contact2": w.bob}
        await slash(h, "brand", options, "register")
    brands = [row[0] for row in await h.rows("SELECT id FROM brands ORDER BY id")]
    assert len(brands) == BRANDS
    for brand in brands:
        await slash(h, "brand", {"brand": f"#{brand}"}, "approve")
    await slash(h, "brand", {}, "list")
    await slash(h, "brand", {"brand": f"#{brands[0]}"}, "show")
    for typed in ("", "\U0001f96c", str(brands[0])):
        for command, sub in (("brand", "show"), ("activation", ["create", "qa"])):
            choices = await sb.autocomplete(
                w.guild, w.general, w.owner, command, "brand", {"brand": typed}, subcommand=sub
            )
            assert (await choices.response()).json["type"] == 8
    made = []
    for n in range(BRANDS):
        options = {
            "brand": brands[n],
            "channel": w.cooking,
            "title": hostile(TITLE_MAX, n),
            **window(h, 2 + 2 * n),
        }
        data, activation = await create(h, "qa", w.alice, options, permissions=BASIC)
        assert activation is not None, data
        made.append(activation)
    await slash(h, "activation", {}, "list")
    await slash(h, "activation", {}, "list", user=w.alice)
    await slash(h, "activation", {"id": made[0], "reason": hostile(REASON_MAX)}, "reject")
    await slash(h, "activation", {"id": made[0]}, "show")
    await approve(h, made[1])
    await move_to(h, h.clock.now + timedelta(hours=4, minutes=1))  # its opening post and thread
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", made[1]) == "live"
    await slash(h, "activation", {"id": made[1], "reason": hostile(REASON_MAX)}, "cancel")
    accepted(h, errors)


async def test_longest_posts_and_markdown_names_in_hebrew(harness: Harness, errors: Errors):
    h, w, sb = harness, harness.world, harness.sandbox
    await set_locale(h, "he", max_sponsored_per_week=50, min_gap_hours=0)
    members = []
    for n in range(12):
        member = sb.add_user(f"m{n}", global_name=NICK)
        sb.add_member(w.guild, member, nick=NICK)
        members.append(member)
    await h.settle()
    await slash(h, "brand", {"name": hostile(NAME_MAX, mentions=False), "contact": w.alice}, "register")
    brand = int(await h.scalar("SELECT id FROM brands"))
    await slash(h, "brand", {"brand": f"#{brand}"}, "approve")
    topic = hostile(1024)  # the longest topic Discord keeps: the disclosure goes in front of it
    sb.state.channels[w.general]["topic"] = topic

    await seed_partner(h, members[0])  # the taker
    # One after the other: the server allows no two sponsored activations at once.
    qa = {"brand": brand, "channel": w.cooking, "title": hostile(TITLE_MAX), **window(h, 1)}
    prizes = {"prize": hostile(MAX_PRIZE), "rules": hostile(MAX_RULES), "winners": MAX_WINNERS}
    giveaway = {"brand": brand, "channel": w.cooking, **prizes, **window(h, 3)}
    taker = members[0]
    takeover = {
        "brand": brand,
        "channel": w.general,
        "taker": taker,
        "title": hostile(TITLE_MAX),
        **window(h, 5),
    }
    ids = []
    for kind, options in (("qa", qa), ("giveaway", giveaway), ("takeover", takeover)):
        data, activation = await create(h, kind, w.alice, options, permissions=BASIC)
        assert activation is not None, data
        await approve(h, activation)
        ids.append(activation)
    qa_id, giveaway_id, _ = ids

    async def next_one_live() -> int:
        await move_to(h, h.clock.now + timedelta(hours=2))
        return int(await h.scalar("SELECT message_id FROM activations WHERE state = 'live'") or 0)

    h.clock.now -= timedelta(minutes=59)
    opening = await next_one_live()
    for member in members[:1]:  # a question at its longest, from a member named in markdown
        clicked = await sb.click(opening, ASK, member, guild_id=w.guild, permissions=BASIC)
        modal = (await clicked.response()).json["data"]
        values = {QUESTION_INPUT: hostile(TEXT_MAX, member)}
        await answered(
            h,
            await sb.submit_modal(modal["custom_id"], values, member, guild_id=w.guild, channel_id=w.cooking),
        )
    question, question_post = (await h.rows("SELECT id, message_id FROM qa_questions ORDER BY id"))[0]
    vote = await sb.click(int(question_post), VOTE, members[5], guild_id=w.guild, permissions=BASIC)
    assert (await vote.response()).json["type"] == 7
    await slash(h, "qa", {"question": question, "text": hostile(ANSWER_MAX)}, "answer", user=w.alice)

    giveaway_post = await next_one_live()  # and the Q&A's summary
    for member in members:
        entered = await sb.click(
            giveaway_post, f"{ENTER}:{giveaway_id}", member, guild_id=w.guild, permissions=BASIC
        )
        await answered(h, entered)
    await slash(h, "giveaway", {}, "list")

    await next_one_live()  # and the giveaway's draw
    opened = await sb.slash(w.guild, w.general, taker, "takeover", subcommand="post", permissions=BASIC)
    modal = (await opened.response()).json["data"]
    values = {POST_INPUT: hostile(TEXT_MAX)}
    await answered(
        h, await sb.submit_modal(modal["custom_id"], values, taker, guild_id=w.guild, channel_id=w.general)
    )
    await sb.send_message(w.general, taker, hostile(2000))  # the longest message a member can send
    await h.settle()

    await next_one_live()  # the takeover ends: the topic is put back
    assert await h.rows("SELECT state FROM activations ORDER BY id") == [("ended",)] * 3
    assert sb.state.channels[w.general]["topic"] == topic
    await slash(h, "activation", {"id": giveaway_id}, "reroll")
    await slash(h, "activation", {"id": giveaway_id}, "show")
    await slash(h, "report", {"id": qa_id}, "activation")
    await slash(h, "voices", {"member": members[1]}, "member")
    await slash(h, "help", {}, None)
    accepted(h, errors)
