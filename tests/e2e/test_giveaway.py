"""Giveaways end to end through the sandbox, in en, ar and he: proposal, approval, start, entries with
eligibility reasons, the live count, the provably fair draw (checked with `python -m bot verify-giveaway`),
a restart in the middle, rerolls, and bad input refused with nothing created."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import i18n
from bot.activations import disclosure
from bot.activations import draw as giveaway
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
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher, eventually

ROOT = Path(__file__).resolve().parents[2]
BRAND = "Acme @everyone **Oats**"
ENTER = "microvoice:giveaway:enter:{}"
LEAVE = "microvoice:giveaway:leave:{}"
CLAIM = "microvoice:giveaway:claim:{}"


def add_members(
    h: Harness, n: int, *, joined: datetime | None = None, roles: tuple[int, ...] = ()
) -> list[int]:
    people = []
    for i in range(n):
        uid = h.sandbox.add_user(f"fan{i}", created_at=datetime(2021, 1, 1, tzinfo=UTC))
        when_joined = joined or datetime(2024, 1, 1, tzinfo=UTC)
        h.sandbox.add_member(h.world.guild, uid, joined_at=when_joined, roles=roles)
        people.append(uid)
    return people


def options(h: Harness, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "brand": overrides.pop("brand"),
        "channel": h.world.cooking,
        "prize": "A year of oat milk",
        "rules": "One entry per member. Winners are drawn at the end and must claim within 7 days.",
        "winners": 2,
        "starts": when(h, timedelta(hours=1)),
        "ends": when(h, timedelta(hours=25)),
    }
    values.update(overrides)
    return values


async def click(h: Harness, message: dict | int, custom_id: str, user: int, perms: int = BASIC) -> dict:
    clicked = await h.sandbox.click(message, custom_id, user, guild_id=h.world.guild, permissions=perms)
    return await reply(clicked)


async def open_giveaway(
    h: Harness, lang: str, *, brand: int | None = None, **overrides: Any
) -> tuple[int, dict]:
    """Create (as the brand's contact, alice), approve, move the clock to the start: the opening post."""
    await set_locale(h, lang)
    if brand is None:
        brand = await seed_brand(h, BRAND, contacts=[h.world.alice])
    created, activation_id = await create(
        h, "giveaway", h.world.alice, options(h, brand=brand, **overrides), permissions=BASIC
    )
    assert activation_id is not None, created
    # One confirmation, with the fairness commitment the brand can point to before anyone enters.
    secret = "SELECT commitment FROM giveaway_secrets WHERE activation_id = ?"
    commitment = await h.scalar(secret, activation_id)
    assert f"/activation approve {activation_id}`" in created["content"], created
    assert f"`{commitment}`" in created["content"], created
    await approve(h, activation_id)
    start = h.clock.now.replace(second=0) + timedelta(hours=1, minutes=1)
    assert await move_to(h, start) == 1
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "live"
    opening_id = int(await h.scalar("SELECT message_id FROM activations WHERE id = ?", activation_id))
    opening = h.sandbox.message(opening_id)
    assert opening is not None
    return activation_id, opening


def shown_description(h: Harness, message: dict) -> str:
    return h.sandbox.message(int(message["id"]))["embeds"][0]["description"]


def results_posts(h: Harness, lang: str) -> list[Any]:
    title = i18n.t(lang, "giveaway.result_title", prize="").split("\u2068")[0].strip()
    return [
        c
        for c in activation_messages(h, [h.world.cooking])
        if c.method == "POST" and any(title in e.get("title", "") for e in c.json.get("embeds") or [])
    ]


def verify_cli(tmp_path: Path, seed: str, commitment: str, winners: int, entrants: bytes, *extra: str):
    listing = tmp_path / "entrants.txt"
    listing.write_bytes(entrants)
    return subprocess.run(
        [
            sys.executable, "-m", "bot", "verify-giveaway", "--seed", seed, "--commitment", commitment,
            "--winners", str(winners), "--entrants-file", str(listing), *extra,
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ar", "he"])
@pytest.mark.both_backends
async def test_giveaway_end_to_end_is_fair_and_disclosed(harness: Harness, lang: str, tmp_path: Path):
    h, w = harness, harness.world
    h.app.giveaways.counter.interval = 0.05
    await h.app.store.update_settings(w.guild, {"mod_role_id": w.mod_role}, by=w.owner, now=h.clock.now)
    activation_id, opening = await open_giveaway(h, lang)
    tag = disclosure.tag(lang, BRAND, "gifted")
    embed = opening["embeds"][0]
    assert embed["title"].startswith(tag)
    commitment = await h.scalar(
        "SELECT commitment FROM giveaway_secrets WHERE activation_id = ?", activation_id
    )
    assert commitment in embed["description"]
    seed = await h.scalar("SELECT seed FROM giveaway_secrets WHERE activation_id = ?", activation_id)
    assert seed not in str(h.rest.calls[-1].json) and all(seed not in str(c.json) for c in h.rest.calls)

    # Entries: one per member; brand contacts and moderators are refused with a reason.
    fans = add_members(h, 5)
    for user in [w.bob, w.carol, *fans]:
        answer = await click(h, opening, ENTER.format(activation_id), user)
        assert answer["flags"] & EPHEMERAL and answer["content"] == i18n.t(lang, "giveaway.entered")
    again = await click(h, opening, ENTER.format(activation_id), w.bob)
    assert again["content"] == i18n.t(lang, "giveaway.already")
    contact = await click(h, opening, ENTER.format(activation_id), w.alice)
    assert contact["content"] == i18n.t(lang, "giveaway.refused.brand_contact")
    moderator = await click(h, opening, ENTER.format(activation_id), w.mod)
    assert moderator["content"] == i18n.t(lang, "giveaway.refused.moderator")
    left = await click(h, opening, LEAVE.format(activation_id), fans[0])
    assert left["content"] == i18n.t(lang, "giveaway.left")
    entrants = sorted([w.bob, w.carol, *fans[1:]])
    assert [
        r[0] for r in await h.rows("SELECT member_id FROM giveaway_entries ORDER BY member_id")
    ] == entrants

    # The live count reaches the post.
    await eventually(
        lambda: i18n.t(lang, "giveaway.post_entries", count=len(entrants)) in shown_description(h, opening),
        "the entry count on the post",
    )

    # End: winners drawn from the sorted entrants with the committed seed, and the seed revealed.
    end = h.clock.now + timedelta(days=1)
    assert await move_to(h, end) == 1
    assert await engine(h).advance(activation_id) == 0
    posts = results_posts(h, lang)
    assert len(posts) == 1
    result = posts[0].json["embeds"][0]
    assert result["title"].startswith(tag)
    winners = giveaway.draw(seed, entrants, 2)
    for winner in winners:
        assert f"<@{winner}>" in result["description"]
    assert f"`{seed}`" in result["description"] and commitment in result["description"]
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == commitment
    draws = await h.rows("SELECT round, winners FROM giveaway_draws WHERE activation_id = ?", activation_id)
    assert draws == [(0, json.dumps(winners))]
    # Only the winners are pinged: their ids, and never @everyone, @here or a role.
    content = posts[0].json["content"]
    assert disclosure.starts_disclosed(content, tag) and all(f"<@{m}>" in content for m in winners)
    mentions = posts[0].json["allowed_mentions"]
    assert sorted(int(u) for u in mentions["users"]) == sorted(winners)
    assert mentions.get("parse") == [] and not mentions.get("roles"), mentions
    for call in activation_messages(h, [w.cooking]):
        if call is not posts[0] and "allowed_mentions" in call.json:
            assert call.json["allowed_mentions"] == {"parse": []}, (call.method, call.path)
    # The sorted entrant list is attached to the results post itself (no second edit), and the
    # verifier reproduces the winners from it.
    assert len(posts[0].files) == 1 and posts[0].files[0][0] == "entrants.txt"
    assert not [c for c in activation_messages(h, [w.cooking]) if c.files and c is not posts[0]]
    listing = posts[0].files[0][1]
    assert listing.decode().split("\n") == [str(e) for e in entrants]
    checked = verify_cli(tmp_path, seed, commitment, 2, listing, "--expect", ",".join(map(str, winners)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Entries are closed now; the opening post's buttons are disabled.
    late = await h.sandbox.click(
        int(opening["id"]), ENTER.format(activation_id), fans[0], guild_id=w.guild, permissions=BASIC
    )
    assert (await reply(late))["content"] == i18n.t(lang, "giveaway.closed")

    # Winners claim; a non-winner cannot.
    result_message = int(posts[0].response["id"])
    pressed = await h.sandbox.click(result_message, CLAIM.format(activation_id), winners[0], guild_id=w.guild)
    # Deferred first: a claim waits for a reroll of the same giveaway that is posting its results.
    assert (await pressed.response()).json["type"] == 5
    claimed = await reply(pressed)
    assert claimed["content"] == i18n.t(lang, "giveaway.claimed")
    loser = next(e for e in entrants if e not in winners)
    assert (await click(h, result_message, CLAIM.format(activation_id), loser))["content"] == i18n.t(
        lang, "giveaway.claim_not_winner"
    )

    # Every message the bot posted or edited for the giveaway carries the disclosure; nothing pings.
    calls = activation_messages(h, [w.cooking])
    assert len(calls) >= 3
    for call in calls:
        assert_disclosed(call, tag)
    assert_no_mass_mentions(h)


@pytest.mark.both_backends
async def test_restart_mid_giveaway_keeps_entries_and_draws_once(launcher: Launcher, tmp_path: Path):
    h = await launcher.start()
    w = h.world
    activation_id, opening = await open_giveaway(h, "en", winners=3)
    fans = add_members(h, 6)
    for user in [w.bob, w.carol, *fans]:
        await click(h, opening, ENTER.format(activation_id), user)
    entrants = sorted([w.bob, w.carol, *fans])
    await launcher.stop(h)

    # The end passes while the bot is down; at start-up it is caught up exactly once.
    launcher.clock.now += timedelta(days=2)
    h = await launcher.start()
    await engine(h).booted.wait()
    await eventually(lambda: results_posts(h, "en"), "the results post")
    await h.settle()
    assert [
        r[0] for r in await h.rows("SELECT member_id FROM giveaway_entries ORDER BY member_id")
    ] == entrants
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "ended"
    assert await h.scalar("SELECT count(*) FROM giveaway_draws") == 1
    assert await h.scalar("SELECT count(*) FROM activation_transitions WHERE to_state = 'ended'") == 1
    posts = results_posts(h, "en")
    assert len(posts) == 1
    description = posts[0].json["embeds"][0]["description"]
    seed = await h.scalar("SELECT seed FROM giveaway_secrets")
    commitment = await h.scalar("SELECT commitment FROM giveaway_secrets")
    assert f"`{seed}`" in description
    winners = [int(m) for m in re.findall(r"<@(\d+)>", description.split("\n")[0])]
    assert len(winners) == 3 and set(winners) <= set(entrants)
    listing = next(c for c in activation_messages(h, [w.cooking]) if c.files).files[0][1]
    checked = verify_cli(tmp_path, seed, commitment, 3, listing, "--expect", ",".join(map(str, winners)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "round 0 (draw): " + ", ".join(map(str, winners)) in checked.stdout

    # A second restart and a duplicate job change nothing.
    await launcher.stop(h)
    h = await launcher.start()
    await engine(h).booted.wait()
    assert await engine(h).advance(activation_id) == 0
    await h.app.giveaways.finish(await h.app.store.activation_by_id(activation_id))
    await h.settle()
    assert len(results_posts(h, "en")) == 1  # the sandbox's log spans restarts: still the one post
    assert await h.scalar("SELECT count(*) FROM giveaway_draws") == 1

    # The entry button still answers after the restarts (a dynamic item): closed now.
    late = await click(h, int(opening["id"]), ENTER.format(activation_id), w.owner)
    assert late["content"] == i18n.t("en", "giveaway.closed")


async def test_entry_button_works_after_a_restart_while_live(launcher: Launcher):
    h = await launcher.start()
    activation_id, opening = await open_giveaway(h, "he")
    await click(h, opening, ENTER.format(activation_id), h.world.bob)
    await launcher.stop(h)
    h = await launcher.start()
    answer = await click(h, int(opening["id"]), ENTER.format(activation_id), h.world.carol)
    assert answer["content"] == i18n.t("he", "giveaway.entered")
    assert await h.scalar("SELECT count(*) FROM giveaway_entries") == 2


async def test_eligibility_rules_give_clear_reasons(harness: Harness):
    h, w = harness, harness.world
    role = h.sandbox.add_role(w.guild, "Regulars", permissions=BASIC)
    banned = h.sandbox.add_role(w.guild, "Muted", permissions=BASIC)
    activation_id, opening = await open_giveaway(
        h, "en", min_days=30, min_events=2, required_role=role, excluded_roles=f"<@&{banned}>"
    )
    veteran, quiet = add_members(h, 2, roles=(role,))
    (muted,) = add_members(h, 1, roles=(role, banned))
    (outsider,) = add_members(h, 1)
    (newcomer,) = add_members(h, 1, joined=h.clock.now - timedelta(days=3), roles=(role,))
    for uid in (veteran, muted, newcomer, outsider):
        for _ in range(2):
            await h.sandbox.send_message(w.general, uid, "")
    await h.flush()

    async def reason(uid: int) -> str:
        return (await click(h, opening, ENTER.format(activation_id), uid))["content"]

    assert await reason(veteran) == i18n.t("en", "giveaway.entered")
    assert await reason(outsider) == i18n.t("en", "giveaway.refused.required_role", role=f"<@&{role}>")
    assert await reason(muted) == i18n.t("en", "giveaway.refused.excluded_role", role=f"<@&{banned}>")
    assert await reason(newcomer) == i18n.t("en", "giveaway.refused.too_new", days=30, have=3)
    assert await reason(quiet) == i18n.t("en", "giveaway.refused.too_quiet", events=2, have=0)
    assert await h.scalar("SELECT count(*) FROM giveaway_entries") == 1


async def test_an_entry_whose_eligibility_waits_for_the_ledger_is_answered_in_time(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    """A giveaway asking for recent engagement writes the ingest buffer before judging an entrant;
    under load that takes longer than Discord's three seconds to answer an interaction (scaled down
    here). The button is acknowledged at once and answered when the entry is judged."""
    h, w = harness, harness.world
    activation_id, opening = await open_giveaway(h, "en", min_events=1)
    (fan,) = add_members(h, 1)
    await h.sandbox.send_message(w.general, fan, "")
    real = h.app.ingest.flush

    async def slow_flush() -> int:
        await asyncio.sleep(0.6)  # a busy writer
        return await real()

    monkeypatch.setattr(h.app.ingest, "flush", slow_flush)
    h.sandbox.interaction_deadline = 0.3  # Discord's 3 s, scaled down
    try:
        clicked = await h.sandbox.click(opening, ENTER.format(activation_id), fan, guild_id=w.guild)
        await clicked.response()
        assert clicked.responded_with == 5  # acknowledged within the deadline, answered after
        answer = await reply(clicked)
    finally:
        h.sandbox.interaction_deadline = None
    assert answer["flags"] & EPHEMERAL and answer["content"] == i18n.t("en", "giveaway.entered")
    assert await h.scalar("SELECT count(*) FROM giveaway_entries") == 1


async def test_entry_count_edits_are_coalesced(harness: Harness):
    h = harness
    counter = h.app.giveaways.counter
    counter.interval = 0.3
    activation_id, opening = await open_giveaway(h, "en")
    fans = add_members(h, 8)
    route = f"/channels/{h.world.cooking}/messages/{opening['id']}"
    before = len(h.rest.find("PATCH", route))
    for uid in fans:
        await click(h, opening, ENTER.format(activation_id), uid)
    await eventually(
        lambda: i18n.t("en", "giveaway.post_entries", count=8) in shown_description(h, opening),
        "the entry count on the post",
    )
    shown = shown_description(h, opening)
    edits = len(h.rest.find("PATCH", route)) - before
    assert 1 <= edits <= 3, edits  # eight entries, a burst of at most a few edits
    assert i18n.t("en", "giveaway.post_entries", count=8) in shown


async def drawn(h: Harness, lang: str, *, winners: int, entrants: int) -> tuple[int, list[int], str]:
    """A giveaway opened in `lang`, entered by `entrants` new members and drawn at its end: its id, the
    entrants and its revealed seed."""
    activation_id, opening = await open_giveaway(h, lang, winners=winners)
    fans = add_members(h, entrants)
    for uid in fans:
        await click(h, opening, ENTER.format(activation_id), uid)
    await move_to(h, h.clock.now + timedelta(days=1))
    return activation_id, fans, await h.scalar("SELECT seed FROM giveaway_secrets")


async def test_reroll_replaces_unclaimed_winners_deterministically(harness: Harness, tmp_path: Path):
    h, w = harness, harness.world
    activation_id, fans, seed = await drawn(h, "ar", winners=2, entrants=5)
    first, second = giveaway.draw(seed, fans, 2)
    result = int(results_posts(h, "ar")[0].response["id"])
    await click(h, result, CLAIM.format(activation_id), first)

    # Racing finishers (a duplicate job, the boot catch-up) change nothing: one draw, one post.
    ended = await h.app.store.activation_by_id(activation_id)
    await asyncio.gather(*(h.app.giveaways.finish(ended) for _ in range(3)))
    assert len(results_posts(h, "ar")) == 1
    assert await h.scalar("SELECT count(*) FROM giveaway_draws") == 1
    # /activation show lists the commitment.
    shown = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="show", permissions=MANAGE_GUILD
    )
    commitment = await h.scalar("SELECT commitment FROM giveaway_secrets")
    assert commitment in (await reply(shown))["embeds"][0]["description"]

    refused = await h.slash(
        "activation", w.bob, {"id": activation_id}, subcommand="reroll", permissions=BASIC
    )
    assert (await reply(refused))["flags"] & EPHEMERAL
    rerolled = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="reroll", permissions=MANAGE_GUILD
    )
    assert (await reply(rerolled))["flags"] & EPHEMERAL
    expected = giveaway.draw_rounds(seed, fans, [2, 1])
    assert expected[0] == [first, second]
    post = [c for c in activation_messages(h, [w.cooking]) if c.method == "POST"][-1]
    assert post.json["embeds"][0]["title"].startswith(disclosure.tag("ar", BRAND, "gifted"))
    # the reroll pings the new winner only
    assert post.json["allowed_mentions"] == {"parse": [], "users": [expected[1][0]]}
    assert f"<@{expected[1][0]}>" in post.json["embeds"][0]["description"]
    assert f"<@{second}>" in post.json["embeds"][0]["description"]
    # the replaced winner can no longer claim; the new one can
    new_post = int(post.response["id"])
    assert (await click(h, new_post, CLAIM.format(activation_id), second))["content"] == i18n.t(
        "ar", "giveaway.claim_not_winner"
    )
    assert (await click(h, new_post, CLAIM.format(activation_id), expected[1][0]))["content"] == i18n.t(
        "ar", "giveaway.claimed"
    )
    # nothing left to reroll: everyone claimed
    again = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="reroll", permissions=MANAGE_GUILD
    )
    assert (await reply(again))["content"] == i18n.t("ar", "giveaway.error.nothing_to_reroll")
    listing = "\n".join(map(str, sorted(fans))).encode()
    checked = verify_cli(
        tmp_path, seed, await h.scalar("SELECT commitment FROM giveaway_secrets"), 2, listing, "--reroll", "1"
    )
    assert f"round 1 (reroll 1): {expected[1][0]}" in checked.stdout
    assert_no_mass_mentions(h)


async def test_winner_lists_are_separated_with_the_arabic_comma_in_arabic(harness: Harness):
    """The results post, the reroll post and the reroll reply list their winners as Arabic does (the
    catalog's list separator, U+060C), never with a Latin comma."""
    h, w = harness, harness.world
    activation_id, fans, seed = await drawn(h, "ar", winners=3, entrants=6)
    winners = giveaway.draw(seed, fans, 3)
    listed = "\u060c ".join(f"<@{m}>" for m in winners)
    (results,) = results_posts(h, "ar")
    assert listed in results.json["embeds"][0]["description"]
    assert listed in results.json["content"]

    rerolled = await h.slash(
        "activation", w.owner, {"id": activation_id}, subcommand="reroll", permissions=MANAGE_GUILD
    )
    new = giveaway.draw_rounds(seed, fans, [3, 3])[1]
    answer = (await reply(rerolled))["content"]
    assert "\u060c ".join(f"<@{m}>" for m in new) in answer and ", <@" not in answer, answer
    post = [c for c in activation_messages(h, [w.cooking]) if c.method == "POST"][-1]
    description = post.json["embeds"][0]["description"]
    assert listed in description and "\u060c ".join(f"<@{m}>" for m in new) in description
    assert ", <@" not in description and ", <@" not in post.json["content"]


BAD_INPUT: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
    ({"winners": 0}, "giveaway.error.winners", {"low": 1, "high": 50, "value": 0}),
    ({"winners": 10_000}, "giveaway.error.winners", {"low": 1, "high": 50, "value": 10_000}),
    ({"prize": "p" * 2000}, "giveaway.error.prize_length", {"high": 200, "length": 2000}),
    ({"rules": "   "}, "giveaway.error.rules_missing", {}),
    ({"excluded_roles": "everyone"}, "giveaway.error.bad_roles", {}),
    ({"codes": ("codes.txt", b"A1\nB2\nA1\n")}, "codes.error.duplicate", {"line": 3, "first": 1}),
    ({"codes": ("codes.txt", b"A1\nB2\n"), "ends": "+0m"}, "activation.error.end_before_start", {}),
]


async def test_bad_input_is_refused_and_nothing_is_created(harness: Harness):
    """0 or 10,000 winners, a 2,000-character prize, missing rules, bad roles, a bad code pool, and a
    core check failing after the giveaway's own (the pool must not survive): each a clear ephemeral
    error in the community's language, nothing created."""
    h, w = harness, harness.world
    for lang in ("en", "ar", "he"):
        await set_locale(h, lang)
        brand = await seed_brand(h, f"Brand {lang}", contacts=[w.alice])
        for overrides, key, params in BAD_INPUT:
            data, created = await create(
                h, "giveaway", w.alice, options(h, brand=brand, **overrides), permissions=BASIC
            )
            assert created is None, (lang, key)
            assert data["flags"] & EPHEMERAL
            assert data["content"] == i18n.t(lang, key, **params), (lang, key)
    for table in ("activations", "giveaway_secrets", "activation_codes"):
        assert await h.scalar(f"SELECT count(*) FROM {table}") == 0, table


async def test_unapproved_brand_and_strangers_cannot_create(harness: Harness):
    h, w = harness, harness.world
    pending = await seed_brand(h, "Pending Co", status="pending", contacts=[w.alice])
    data, created = await create(h, "giveaway", w.alice, options(h, brand=pending), permissions=BASIC)
    assert created is None and data["flags"] & EPHEMERAL
    approved = await seed_brand(h, "Approved Co", contacts=[w.alice])
    data, created = await create(h, "giveaway", w.bob, options(h, brand=approved), permissions=BASIC)
    assert created is None and data["flags"] & EPHEMERAL
    assert await h.scalar("SELECT count(*) FROM giveaway_secrets") == 0


async def test_cancelled_giveaway_closes_without_a_draw_and_keeps_the_seed_secret(harness: Harness):
    h, w = harness, harness.world
    activation_id, opening = await open_giveaway(h, "en")
    await click(h, opening, ENTER.format(activation_id), w.bob)
    cancelled = await h.slash(
        "activation", w.alice, {"id": activation_id, "reason": "Stock issue"}, subcommand="cancel",
        permissions=BASIC,
    )  # fmt: skip
    assert (await reply(cancelled))["flags"] & EPHEMERAL
    await h.settle()
    assert await h.scalar("SELECT state FROM activations WHERE id = ?", activation_id) == "cancelled"
    message = h.sandbox.message(int(opening["id"]))
    assert all(c.get("disabled") for row in message["components"] for c in row["components"])
    assert await h.scalar("SELECT count(*) FROM giveaway_draws") == 0
    assert await h.scalar("SELECT revealed_at FROM giveaway_secrets") is None
    seed = await h.scalar("SELECT seed FROM giveaway_secrets")
    assert all(seed not in str(c.json) for c in h.rest.calls)
    late = await click(h, int(opening["id"]), ENTER.format(activation_id), w.carol)
    assert late["content"] == i18n.t("en", "giveaway.closed")
    assert_disclosed(
        h.rest.last("PATCH", f"/channels/{w.cooking}/messages/{opening['id']}"),
        disclosure.tag("en", BRAND, "gifted"),
    )


async def test_a_winner_who_left_the_server_can_be_rerolled_by_name(harness: Harness):
    """A winner leaves the server before claiming: a moderator picks them in `/activation reroll
    member:` (Discord resolves a user who left without member data) and only they are replaced."""
    h, w, sb = harness, harness.world, harness.sandbox
    activation_id, fans, seed = await drawn(h, "en", winners=2, entrants=5)
    first, second = giveaway.draw(seed, fans, 2)
    sb.remove_member(w.guild, second)
    await h.settle()
    rerolled = await h.slash(
        "activation",
        w.owner,
        {"id": activation_id, "member": second},
        subcommand="reroll",
        permissions=MANAGE_GUILD,
    )
    answer = await reply(rerolled)
    (new,) = giveaway.draw_rounds(seed, fans, [2, 1])[1]
    assert answer["flags"] & EPHEMERAL and f"<@{new}>" in answer["content"], answer
    assert new not in (first, second)
