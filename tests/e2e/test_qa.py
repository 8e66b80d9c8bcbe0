"""Q&A activations end to end through the sandbox, in en, ar and he: proposal, approval, start,
questions through a modal, toggled votes, hiding, answers in the thread, the summary, and disclosure
on every message the bot posted for it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.activations import disclosure
from bot.activations.qa import ASK as ASK_ID
from bot.activations.qa import HIDE as HIDE_ID
from bot.activations.qa import VOTE as VOTE_ID
from cogs.qa import QUESTION_INPUT
from tests.e2e.activation_helpers import (
    EPHEMERAL,
    activation_messages,
    approve,
    assert_disclosed,
    assert_no_mass_mentions,
    create,
    engine,
    move_to,
    reply,
    seed_brand,
    set_locale,
    wait_state,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher

ANSWERED = {"en": "1 answered", "ar": "1 تمت الإجابة عنها", "he": "1 נענו"}


async def ask(h: Harness, opening: dict, user: int, text: str) -> dict:
    w = h.world
    clicked = await h.sandbox.click(opening, ASK_ID, user, guild_id=w.guild, permissions=BASIC)
    modal = (await clicked.response()).json
    assert modal["type"] == 9, modal
    custom_id = modal["data"]["custom_id"]
    submitted = await h.sandbox.submit_modal(
        custom_id, {QUESTION_INPUT: text}, user, guild_id=w.guild, channel_id=int(opening["channel_id"])
    )
    return await reply(submitted)


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
async def test_qa_runs_end_to_end_and_every_post_is_disclosed(harness: Harness, lang: str):
    h, w, sb = harness, harness.world, harness.sandbox
    await set_locale(h, lang)
    brand = await seed_brand(h, "Acme @everyone **Oats**", contacts=[w.alice])
    start = h.clock.now + timedelta(hours=1)
    created, activation_id = await create(
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
    assert activation_id is not None, created
    assert created["flags"] & EPHEMERAL
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "pending"
    approved = await approve(h, activation_id)
    assert approved["flags"] & EPHEMERAL
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "scheduled"
    assert f"activation:{activation_id}:start" in h.app.scheduler.job_ids()

    # Start: the opening post with the ask button, and a thread on it.
    assert await move_to(h, start.replace(second=0) + timedelta(minutes=1)) == 1
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
    thread_id = int(await h.scalar("SELECT thread_id FROM activations WHERE id = ?", activation_id))
    opening_id = int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id))
    opening = sb.message(opening_id)
    assert opening is not None
    tag = disclosure.tag(lang, "Acme @everyone **Oats**", "paid")
    assert opening["embeds"][0]["title"].startswith(tag)
    assert "@everyone" not in tag and "**Oats**" not in tag

    # Questions through the modal; the bot posts them in the thread.
    asked = await ask(h, opening, w.bob, "Is the oat milk **really** vegan? @everyone")
    assert asked["flags"] & EPHEMERAL
    await ask(h, opening, w.carol, "Where is it made?")
    rows = await h.rows("SELECT id, author_id, message_id FROM qa_questions ORDER BY id")
    assert [r[1] for r in rows] == [w.bob, w.carol]
    first_q, first_msg = int(rows[0][0]), int(rows[0][2])
    second_q, second_msg = int(rows[1][0]), int(rows[1][2])

    # Votes toggle: one per member.
    for user in (w.carol, w.owner, w.carol):
        clicked = await sb.click(first_msg, VOTE_ID, user, guild_id=w.guild, permissions=BASIC)
        assert (await clicked.response()).json["type"] == 7
    assert await h.scalar("SELECT count(*) FROM qa_votes WHERE question_id = ?", first_q) == 1

    # Members cannot hide; moderators can.
    refused = await sb.click(second_msg, HIDE_ID, w.bob, guild_id=w.guild, permissions=BASIC)
    assert (await reply(refused))["flags"] & EPHEMERAL
    assert await h.scalar("SELECT hidden_at FROM qa_questions WHERE id = ?", second_q) is None
    hidden = await sb.click(second_msg, HIDE_ID, w.owner, guild_id=w.guild, permissions=MANAGE_GUILD)
    update = (await hidden.response()).json
    assert update["type"] == 7 and update["data"]["components"] == []
    assert disclosure.starts_disclosed(update["data"]["content"], tag)
    assert "Where is it made" not in update["data"]["content"]
    assert await h.scalar("SELECT hidden_at FROM qa_questions WHERE id = ?", second_q) is not None

    # The brand manager answers in the thread; a second answer is refused, so is a stranger.
    stranger = await h.slash(
        "qa", w.bob, {"question": first_q, "text": "me"}, subcommand="answer", permissions=BASIC
    )
    assert (await reply(stranger))["flags"] & EPHEMERAL
    answer = await h.slash(
        "qa",
        w.alice,
        {"question": first_q, "text": "Yes, 100% plant based."},
        subcommand="answer",
        permissions=BASIC,
    )
    assert (await reply(answer))["flags"] & EPHEMERAL
    posted = [c for c in activation_messages(h, [thread_id]) if c.method == "POST"]
    assert "100% plant based" in posted[-1].json["content"]
    # The question is quoted as the member wrote it: their markdown renders nothing from the bot.
    assert "oat milk \\*\\*really\\*\\* vegan" in posted[-1].json["content"]
    assert str(posted[-1].json["message_reference"]["message_id"]) == str(first_msg)
    again = await h.slash(
        "qa", w.alice, {"question": first_q, "text": "Again"}, subcommand="answer", permissions=BASIC
    )
    assert (await reply(again))["flags"] & EPHEMERAL
    assert await h.scalar("SELECT count(*) FROM qa_questions WHERE answered_at IS NOT NULL") == 1

    # End: the summary, once, even if the scheduler fires again.
    end = h.clock.now + timedelta(hours=3)
    assert await move_to(h, end) == 1
    assert await engine(h).advance(activation_id) == 0
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "ended"
    summaries = [c for c in activation_messages(h, [w.cooking]) if c.method == "POST"][1:]
    assert len(summaries) == 1
    summary = summaries[0].json["embeds"][0]["description"]
    assert ANSWERED[lang] in summary

    # Asking after the end is refused.
    late = await sb.click(opening, ASK_ID, w.bob, guild_id=w.guild, permissions=BASIC)
    assert (await reply(late))["flags"] & EPHEMERAL

    messages = activation_messages(h, [w.cooking, thread_id])
    assert len(messages) == 5  # opening, two questions, one answer, the summary
    for call in messages:
        assert_disclosed(call, tag)
    assert_no_mass_mentions(h)
    log = await h.rows(
        "SELECT from_state, to_state FROM activation_transitions WHERE activation_id = ? ORDER BY id",
        activation_id,
    )
    assert log == [(None, "pending"), ("pending", "scheduled"), ("scheduled", "live"), ("live", "ended")]


async def test_overlong_question_or_answer_is_refused_and_nothing_is_posted(harness: Harness):
    h, w, sb = harness, harness.world, harness.sandbox
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    _, activation_id = await create(
        h,
        "qa",
        w.alice,
        {
            "brand": brand,
            "channel": w.cooking,
            "title": "Ask",
            "starts": "now",
            "ends": when(h, timedelta(hours=2)),
        },
        permissions=BASIC,
    )
    assert activation_id
    await approve(h, activation_id)  # already due: goes live at once
    await wait_state(h, activation_id, "live")
    opening = sb.message(
        int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id))
    )
    assert opening is not None
    posts_before = len(h.rest.find("POST", "/channels/{channel_id}/messages"))
    refused = await ask(h, opening, w.bob, "why? " * 400)
    assert refused["flags"] & EPHEMERAL and "too long" in refused["content"]
    assert await h.scalar("SELECT count(*) FROM qa_questions") == 0
    await ask(h, opening, w.bob, "Short one?")
    question = int(await h.scalar("SELECT id FROM qa_questions"))
    long_answer = await h.slash(
        "qa", w.alice, {"question": question, "text": "a" * 2000}, subcommand="answer", permissions=BASIC
    )
    data = await reply(long_answer)
    assert data["flags"] & EPHEMERAL and "too long" in data["content"]
    assert await h.scalar("SELECT answered_at FROM qa_questions") is None
    assert (
        len(h.rest.find("POST", "/channels/{channel_id}/messages")) == posts_before + 1
    )  # the question only


async def live_qa(h: Harness) -> dict:
    """A Q&A with an approved brand, live: its opening post."""
    w = h.world
    brand = await seed_brand(h, "Acme", contacts=[w.alice])
    fields = {"brand": brand, "channel": w.cooking, "title": "Ask our chef"}
    fields |= {"starts": when(h, timedelta(hours=1)), "ends": when(h, timedelta(hours=3))}
    _, activation_id = await create(h, "qa", w.alice, fields, permissions=BASIC)
    assert activation_id is not None
    await approve(h, activation_id)
    assert await move_to(h, (h.clock.now + timedelta(hours=1)).replace(second=0) + timedelta(minutes=1)) == 1
    opening = h.sandbox.message(
        int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id))
    )
    assert opening is not None
    return opening


async def test_members_with_the_ask_modal_open_at_once_each_ask_their_own_question(harness: Harness):
    """Bob and Carol open the question form before either sends it. Each form is its own: both are
    answered, and each question is stored and posted under its own author (one custom id for every
    member's form let the second replace the first: Bob's question was lost, or Carol's posted as
    Bob's)."""
    h, w, sb = harness, harness.world, harness.sandbox
    opening = await live_qa(h)
    forms = {}
    for user in (w.bob, w.carol):
        clicked = await sb.click(opening, ASK_ID, user, guild_id=w.guild, permissions=BASIC)
        modal = (await clicked.response()).json
        assert modal["type"] == 9, modal
        forms[user] = modal["data"]["custom_id"]
    assert all(len(c) <= 100 for c in forms.values())
    texts = {w.bob: "Is it vegan?", w.carol: "Where is it made?"}
    for user in (w.bob, w.carol):
        submitted = await sb.submit_modal(
            forms[user],
            {QUESTION_INPUT: texts[user]},
            user,
            guild_id=w.guild,
            channel_id=int(opening["channel_id"]),
        )
        assert (await reply(submitted))["flags"] & EPHEMERAL
    rows = await h.rows("SELECT author_id, message_id FROM qa_questions ORDER BY id")
    assert [author for author, _ in rows] == [w.bob, w.carol]
    for author, message_id in rows:
        posted = sb.message(int(message_id))
        assert posted is not None and texts[author] in posted["content"]


async def test_a_question_form_sent_after_a_restart_is_answered(launcher: Launcher):
    """A member opens the question form, the bot restarts, the member sends it: the open form lived
    in the old process, so nothing handles it; the member is told to open it again, instead of
    Discord's "This interaction failed"."""
    h = await launcher.start()
    w, sb = h.world, h.sandbox
    opening = await live_qa(h)
    clicked = await sb.click(opening, ASK_ID, w.bob, guild_id=w.guild, permissions=BASIC)
    form = (await clicked.response()).json["data"]["custom_id"]
    await launcher.stop(h)
    h = await launcher.start()
    submitted = await sb.submit_modal(
        form, {QUESTION_INPUT: "Is it vegan?"}, w.bob, guild_id=w.guild, channel_id=int(opening["channel_id"])
    )
    answer = await reply(submitted)
    assert answer["flags"] & EPHEMERAL and "open it again" in answer["content"]
    assert await h.scalar("SELECT count(*) FROM qa_questions") == 0
