"""Property-based tests (hypothesis) over every slash command, modal and button, through the sandbox.

The commands and their options are read from what the bot synced, so a new command is covered without
editing this file. Values are drawn the way a hostile client could send them in a real interaction
payload: free text full of mentions, bidi controls, zero-width characters, NUL, markdown, emoji and
right-to-left script, choice values that were never offered, integers outside their range, ids of
things that do not exist, roles including @everyone, and arbitrary uploaded files. After every call:

* the bot answered the interaction, and never with the generic error (a refusal names the problem);
* an answer a moderator or member gets to a refused or read-only command is ephemeral;
* nothing was logged at ERROR (no exception reached discord.py's handler or our generic path);
* no recorded REST call could ping @everyone, @here or a role;
* every message the bot posted in a channel (activation posts) starts with a disclosure tag.

One bot serves the whole module's run; hypothesis runs in a worker thread and hands each call to the
bot's event loop. Runs are derandomized (the same examples every time, in CI too) and small.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import i18n
from bot.activations import disclosure
from bot.activations.model import CONNECTIONS
from sandbox.discord_server import Interaction
from tests.e2e.activation_helpers import (
    EPHEMERAL,
    approve,
    assert_no_mass_mentions,
    create,
    move_to,
    seed_brand,
    seed_partner,
    set_locale,
    wait_state,
    when,
)
from tests.e2e.conftest import BASIC, MANAGE_GUILD, Harness, Launcher, listeners_done

T = TypeVar("T")
EXAMPLES_PER_COMMAND = 8
#: Commands that create or approve activations get more examples (their text ends up in posts), and so
#: do the ones that open a modal.
EXAMPLES_FOR = {"create": 30, "approve": 30, "set-terms": 16, "post": 16}
CLICKS = 40
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
GENERIC = {i18n.t(lang, "error.generic") for lang in i18n.LANGUAGES}
#: (command path, option that makes the reply public): replies anyone may choose to show the channel.
PUBLIC_REPLIES = {("voices", "top"): "public"}
#: Commands that end or change things for everyone run last, after the clock has run every approved
#: activation, so the others meet live activations, approved brands and the staged settings.
ENDINGS = {"cancel", "reject", "remove", "suspend", "forget", "forget-member", "leave", "setup", "role"}


# -- hostile values ---------------------------------------------------------------------------------

PIECES = [
    "@everyone",
    "@here",
    "@\u200beveryone",
    "<@&{role}>",
    "<@{user}>",
    "<@!{user}>",
    "<#{channel}>",
    "</activation approve:1>",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "**",
    "||",
    "# ",
    "```",
    "> ",
    "[link](https://example.com)",
    FAMILY,
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "שלום",
    "مرحبا",
    "Ad · Paid partnership with ",
    "now",
    "+1h",
    "in 3d",
    "9999-12-31 23:59",
    "0001-01-01",
    "-1",
    "１２３",
    "¹²³",
    "٣",
    " ",
    "x",
]


def hostile_text(world: dict[str, int]) -> st.SearchStrategy[str]:
    pieces = [p.format(**world) for p in PIECES]
    return st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=40),
        st.lists(st.sampled_from(pieces), min_size=1, max_size=8).map("".join),
        st.sampled_from(pieces),
        st.integers(1, 6000).map(lambda n: "y" * n),
    )


def times(h: Harness, name: str) -> st.SearchStrategy[str]:
    """Mostly times that make a valid window after the staged activations (days 4-12), some that do
    not (past, too long, overlapping), and hostile text."""
    offset = 0 if name == "starts" else 2
    days = [when(h, timedelta(days=d, hours=offset)) for d in range(4, 12)]
    odd = [when(h, timedelta(days=n)) for n in (-1, 0, 45)] + ["now", "+1h"]
    return st.one_of(st.sampled_from(days), st.sampled_from(odd), hostile_text(world_ids(h)))


def world_ids(h: Harness) -> dict[str, int]:
    w = h.world
    return {"role": w.mod_role, "user": w.alice, "channel": w.cooking}


def files(h: Harness) -> st.SearchStrategy[tuple[str, bytes]]:
    codes = st.lists(st.one_of(st.sampled_from(["OAT-1", "OAT-2", "code"]), hostile_text(world_ids(h))))
    text = codes.map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))
    return st.tuples(
        st.sampled_from(["codes.txt", "shop.csv", "../../etc/passwd", "\u202etxt.exe"]),
        st.one_of(text, st.binary(max_size=300), st.just(b"code,redeemed_at\nOAT-1,not a date\n")),
    )


def pick(current: Callable[[], list[int]]) -> st.SearchStrategy[int]:
    """One of a list that changes as the bot runs (drawn as an index, so the strategy itself is fixed
    and hypothesis can replay a case); 0 while the list is empty."""
    return st.integers(0, 2**16).map(lambda i: current()[i % len(current())] if current() else 0)


class Ids:
    """Ids an integer option may name, read from the database before each example."""

    def __init__(self) -> None:
        self.activations: list[int] = []
        self.brands: list[int] = []
        self.questions: list[int] = []
        self.pending: list[int] = []

    async def refresh(self, h: Harness) -> None:
        self.activations = [r[0] for r in await h.rows("SELECT id FROM activations")]
        self.brands = [r[0] for r in await h.rows("SELECT id FROM brands")]
        self.questions = [r[0] for r in await h.rows("SELECT id FROM qa_questions")]
        self.pending = [r[0] for r in await h.rows("SELECT id FROM activations WHERE state = 'pending'")]


def option_value(h: Harness, ids: Ids, definition: dict[str, Any]) -> st.SearchStrategy[Any]:
    """What a hostile client could put in this option of a real payload (the type Discord guarantees)."""
    w, kind, name = h.world, definition["type"], definition["name"]
    choices = [c["value"] for c in definition.get("choices") or []]
    if kind == 3:
        text = times(h, name) if name in ("starts", "ends") else hostile_text(world_ids(h))
        if name == "brand":
            text = st.one_of(text, pick(lambda: ids.brands).map(str))
        return st.one_of(st.sampled_from(choices), text) if choices else text
    if kind in (4, 10):
        known = {"brand": "brands", "question": "questions"}.get(name, "activations")
        numbers = st.one_of(
            st.integers(-(2**53), 2**53),
            st.integers(-3, 60),
            st.sampled_from([definition.get("min_value", 0), definition.get("max_value", 0)]),
        )
        if choices:
            numbers = st.one_of(st.sampled_from(choices), numbers)
        return st.one_of(pick(lambda: getattr(ids, known)), numbers)
    if kind == 5:
        return st.booleans()
    if kind == 6:
        return st.sampled_from([w.owner, w.mod, w.alice, w.bob, w.carol, w.helper_bot])
    if kind == 7:
        return st.sampled_from([w.general, w.cooking, w.category])
    if kind == 8:
        return st.sampled_from([w.mod_role, w.guild])  # the guild id is the @everyone role
    if kind == 9:
        return st.sampled_from([w.alice, w.mod_role, w.guild])
    if kind == 11:
        return files(h)
    raise AssertionError(f"option type {kind} of {name!r} has no strategy")


def plausible_value(
    h: Harness, ids: Ids, path: list[str], definition: dict[str, Any], day: int
) -> st.SearchStrategy[Any]:
    """A value that passes the structural checks (an existing brand or activation, a free window, a
    small count, an offered choice), so the hostile text in the other options gets all the way to the
    posts and the database."""
    name, kind = definition["name"], definition["type"]
    choices = [c["value"] for c in definition.get("choices") or []]
    if choices:
        return st.sampled_from(choices)
    if name in ("starts", "ends"):
        return st.just(when(h, timedelta(days=day, hours=0 if name == "starts" else 2)))
    if name == "brand":
        return pick(lambda: ids.brands).map(str) if kind == 3 else pick(lambda: ids.brands)
    if name == "taker":
        return st.just(h.world.carol)
    if kind == 4:
        known = {"question": "questions"}.get(name, "pending" if "approve" in path else "activations")
        return pick(lambda: getattr(ids, known)) if name in ("id", "question") else st.integers(1, 3)
    if kind == 3:
        pieces = st.sampled_from([p.format(**world_ids(h)) for p in PIECES])
        return st.lists(pieces, min_size=1, max_size=6).map(lambda parts: "".join(parts) + " ok")
    return option_value(h, ids, definition)


@st.composite
def options_for(
    draw: st.DrawFn, h: Harness, ids: Ids, path: list[str], definitions: list[dict[str, Any]]
) -> dict[str, Any]:
    plausible = draw(st.booleans(), label="plausible")
    day = draw(st.integers(4, 40), label="day")
    chosen: dict[str, Any] = {"plausible": plausible}
    for definition in definitions:
        if definition.get("required") or draw(st.booleans()):
            if plausible and definition["type"] != 11:
                value = draw(plausible_value(h, ids, path, definition, day))
            else:
                value = draw(option_value(h, ids, definition))
            chosen[definition["name"]] = value
    return chosen


def commands(h: Harness) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """Every synced slash command as (path, option definitions), subcommands expanded."""
    found: list[tuple[list[str], list[dict[str, Any]]]] = []

    def walk(path: list[str], options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o["type"] in (1, 2)]
        if not subs:
            found.append((path, options))
        for sub in subs:
            walk([*path, sub["name"]], sub.get("options") or [])

    for command in h.sandbox.state.guild_commands.get(h.world.guild, {}).values():
        if command["type"] == 1:
            walk([command["name"]], command.get("options") or [])
    return sorted(found, key=lambda c: (bool(ENDINGS & set(c[0])), "approve" in c[0], c[0]))


# -- checks -----------------------------------------------------------------------------------------


class Errors(logging.Handler):
    """Every record at ERROR or above, from any logger (discord.py's handlers and ours)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def walk_inputs(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        if component.get("type") == 4:
            yield component
        yield from walk_inputs(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from walk_inputs([component["component"]])


class Checker:
    def __init__(self, h: Harness, errors: Errors) -> None:
        self.h, self.errors = h, errors
        self.seen_calls = 0
        self.answered = 0
        self.modals = 0
        self.posts = 0

    async def answered_clearly(self, interaction: Interaction, what: str, *, public_ok: bool) -> None:
        call = await interaction.response()
        await self.h.settle()
        await listeners_done()
        self.answered += 1
        replies = [call.json.get("data") or {}] if call.json["type"] in (4, 7) else []
        replies += [f.json for f in interaction.followups()]
        for data in replies:
            content = str(data.get("content") or "")
            assert content not in GENERIC, (what, content)
        if call.json["type"] == 4 and not public_ok:
            assert call.json["data"].get("flags", 0) & EPHEMERAL, (what, call.json)
        assert not self.errors.records, (what, [r.getMessage() for r in self.errors.records])

    async def channel_posts_are_disclosed(self) -> None:
        h = self.h
        brands = [r[0] for r in await h.rows("SELECT name FROM brands")]
        tags = {disclosure.tag(lang, b, c) for lang in i18n.LANGUAGES for b in brands for c in CONNECTIONS}
        if await h.scalar("SELECT count(*) FROM community_giveaways"):  # no brand: no ad tag, this label
            tags |= {disclosure.community_label(lang) for lang in i18n.LANGUAGES}
        # The one role a moderator chose to ping when a giveaway opens may be notified; no other role.
        configs = [json.loads(r[0] or "{}") for r in await h.rows("SELECT config FROM activations")]
        pinged = [(c["ping_role_id"],) for c in configs if c.get("ping_role_id") is not None]
        # Audit-log lines are the server's own record, not activation posts (they notify nobody).
        audit = await h.scalar("SELECT max(audit_channel_id) FROM guild_settings")
        calls = h.rest.calls[self.seen_calls :]
        self.seen_calls = len(h.rest.calls)
        for call in calls:
            posted = call.matches("POST", "/channels/{channel_id}/messages") or call.matches(
                "PATCH", "/channels/{channel_id}/messages/{message_id}"
            )
            interaction_reply = call.path.startswith(f"/webhooks/{h.sandbox.application_id}/")
            relayed = call.matches("POST", "/webhooks/{webhook_id}/{webhook_token}") and not interaction_reply
            if not (posted or relayed) or not isinstance(call.json, dict):
                continue
            if posted and audit is not None and call.path.split("/")[2] == str(audit):
                continue
            content, embeds = call.json.get("content"), call.json.get("embeds") or []
            if content is None and not embeds:
                continue  # an edit of the buttons only
            self.posts += 1
            if content:
                assert any(disclosure.starts_disclosed(content, t) for t in tags), (call.path, content)
            for embed in embeds:
                title = str(embed.get("title") or "")
                assert any(title.startswith(t) for t in tags), (call.path, embed)
        # Each call once, when it is new: the roles allowed only grow, so a later check would be weaker.
        assert_no_mass_mentions(h, allowed_roles={str(r[0]) for r in pinged}, calls=calls)


# -- the run ----------------------------------------------------------------------------------------


def run_in(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, T]], T]:
    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    return run


SETTINGS = settings(
    max_examples=EXAMPLES_PER_COMMAND,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


async def stage(h: Harness) -> list[datetime]:
    """A server mid-season: an approved brand managed by alice, a live Q&A, then a giveaway and a
    takeover of #general by carol (one after the other: the saturation guard allows no overlap).
    Hostile calls then land on real objects. Returns when the next two start."""
    w = h.world
    await h.app.store.update_settings(
        w.guild, {"max_sponsored_per_week": 50, "min_gap_hours": 0}, by=w.owner, now=h.clock.now
    )
    brand = await seed_brand(h, f"Oat {FAMILY} @everyone", contacts=[w.alice])
    await seed_partner(h, w.carol)
    hour = timedelta(hours=1)
    steps = [h.clock.now + n * hour for n in range(4)]

    def window(n: int) -> dict[str, Any]:
        start = "now" if n == 0 else steps[n].strftime("%Y-%m-%d %H:%M")
        return {"brand": brand, "channel": w.cooking, "starts": start, "ends": when(h, (n + 1) * hour)}

    made = [
        await create(h, "qa", w.alice, {**window(0), "title": "Ask \u202eus"}, permissions=BASIC),
        await create(
            h, "giveaway", w.alice, {**window(1), "prize": "Oats", "rules": "Be nice", "winners": 1},
            permissions=BASIC,
        ),
        await create(
            h, "takeover", w.alice, {**window(2), "channel": w.general, "taker": w.carol, "title": "Ours"},
            permissions=BASIC,
        ),
    ]
    for reply_data, activation in made:
        assert activation is not None, reply_data
        await approve(h, activation)
    await wait_state(h, made[0][1], "live")
    return [steps[1] + timedelta(minutes=1), steps[2] + timedelta(minutes=1)]


@pytest.fixture
async def fuzz(launcher: Launcher) -> Harness:
    return await launcher.start()


async def test_every_command_modal_and_button_answers_clearly_and_never_pings(fuzz: Harness):
    h = fuzz
    w = h.world
    later = await stage(h)
    errors = Errors()
    logging.getLogger().addHandler(errors)
    checker = Checker(h, errors)
    ids = Ids()
    run = run_in(asyncio.get_running_loop())
    users = [(w.owner, MANAGE_GUILD), (w.alice, BASIC), (w.bob, BASIC), (w.carol, BASIC)]

    async def modal_submitted(opened: Interaction, values: dict[str, str], user: int, what: str) -> None:
        modal = opened.modal
        assert modal is not None
        checker.modals += 1
        submitted = await h.sandbox.submit_modal(
            modal["custom_id"], values, user, guild_id=w.guild, channel_id=w.general
        )
        await checker.answered_clearly(submitted, f"{what} modal", public_ok=False)

    async def slash(path: list[str], options: dict[str, Any], user: int, perms: int) -> Interaction:
        name, *sub = path
        return await h.slash(name, user, options, subcommand=sub or None, permissions=perms)

    def check_command(path: list[str], definitions: list[dict[str, Any]]) -> None:
        public = PUBLIC_REPLIES.get((path[0], path[-1]))
        examples = max([EXAMPLES_PER_COMMAND, *(EXAMPLES_FOR.get(part, 0) for part in path)])

        @settings(SETTINGS, max_examples=examples)
        @given(st.data())
        def one_call(data: st.DataObject) -> None:
            run(ids.refresh(h))
            options = data.draw(options_for(h, ids, path, definitions), label="options")
            user, perms = data.draw(st.sampled_from(users), label="caller")
            if options.pop("plausible", False):  # someone who may do it: a moderator or the brand manager
                user, perms = data.draw(st.sampled_from(users[:2]), label="allowed caller")
            interaction = run(slash(path, options, user, perms))
            what = f"/{' '.join(path)} {options!r}"
            run(checker.answered_clearly(interaction, what, public_ok=bool(public and options.get(public))))
            if interaction.responded_with == 9:
                inputs = [c["custom_id"] for c in walk_inputs(interaction.modal["components"])]  # type: ignore[index]
                values = {i: data.draw(hostile_text(world_ids(h)), label=i) for i in inputs}
                run(modal_submitted(interaction, values, user, what))
            run(checker.channel_posts_are_disclosed())

        one_call()

    def check_buttons() -> None:
        @settings(SETTINGS, max_examples=CLICKS)
        @given(st.data())
        def one_click(data: st.DataObject) -> None:
            buttons = [
                (message_id, component["custom_id"])
                for message_id, message in sorted(h.sandbox.state.messages.items())
                for component in h.sandbox.walk_components(message.get("components") or [])
                if component.get("type") == 2 and component.get("custom_id")
            ]
            index = data.draw(st.integers(0, 2**16), label="button")
            if not buttons:
                return
            message_id, custom_id = buttons[index % len(buttons)]
            user, perms = data.draw(st.sampled_from(users), label="clicker")
            clicked = run(
                h.sandbox.click(message_id, custom_id, user, guild_id=w.guild, permissions=perms)
            )
            run(checker.answered_clearly(clicked, f"click {custom_id}", public_ok=True))
            if clicked.responded_with == 9:
                inputs = [c["custom_id"] for c in walk_inputs(clicked.modal["components"])]  # type: ignore[index]
                values = {i: data.draw(hostile_text(world_ids(h)), label=i) for i in inputs}
                run(modal_submitted(clicked, values, user, f"click {custom_id}"))
            run(checker.channel_posts_are_disclosed())

        one_click()

    try:
        every = commands(h)
        assert len(every) > 30, [c[0] for c in every]
        ending = next(n for n, (path, _) in enumerate(every) if ENDINGS & set(path))
        for n, (path, definitions) in enumerate(every):
            if later and n >= ending * (3 - len(later)) // 3:  # the giveaway, then the takeover, go live
                await move_to(h, later.pop(0))
            if n == ending:  # every approved activation runs: its posts carry what was typed
                for _ in range(2):
                    await move_to(h, h.clock.now + timedelta(days=45))
            await asyncio.to_thread(check_command, path, definitions)
        await set_locale(h, "ar")
        await asyncio.to_thread(check_buttons)
        # Everything still open ends: the closing posts are disclosed too.
        await move_to(h, h.clock.now + timedelta(days=60))
        await checker.channel_posts_are_disclosed()
        assert not errors.records, [r.getMessage() for r in errors.records]
    finally:
        logging.getLogger().removeHandler(errors)
    assert checker.answered > len(every) * EXAMPLES_PER_COMMAND // 2
    assert checker.modals > 0 and checker.posts > 5  # hostile text reached modals and activation posts
