"""The sandbox refuses what Discord refuses: every documented size limit on what a bot sends, on every
endpoint the bot sends it to, answered with a 400 "Invalid Form Body" (50035) whose ``errors`` point at
the field, and one character less is accepted.

Raw HTTP, not discord.py: a client library's own checks must not hide what the server would do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio

from sandbox.discord_server import DiscordSandbox, Interaction

pytestmark = pytest.mark.asyncio

WIDE = "\U0001f96c"  # one character, two UTF-16 units and four UTF-8 bytes: lengths count characters


class Api:
    def __init__(self, sandbox: DiscordSandbox, session: aiohttp.ClientSession) -> None:
        self.sandbox, self.session = sandbox, session

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, reason: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bot {self.sandbox.token}"}
        if reason is not None:
            headers["X-Audit-Log-Reason"] = quote(reason, safe="/ ")  # as discord.py sends it
        async with self.session.request(
            method, self.sandbox.api_base + path, json=body, headers=headers
        ) as r:
            return r.status, (await r.json() if r.status != 204 else None)


@pytest_asyncio.fixture
async def api() -> AsyncIterator[Api]:
    sb = DiscordSandbox()
    await sb.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(sb, session)
        assert not sb.internal_errors, sb.internal_errors
    finally:
        await sb.stop()


class Place:
    """A guild with a text channel, a member, a role, and a slash command that member can run."""

    def __init__(self, sb: DiscordSandbox) -> None:
        self.sb = sb
        self.guild = sb.add_guild("Cooks")
        self.channel = sb.add_channel(self.guild, "general")
        self.role = sb.add_role(self.guild, "Cooks")
        self.member = sb.add_user("alice")
        sb.add_member(self.guild, self.member)
        sb.add_command(
            {
                "name": "ask",
                "description": "Ask",
                "type": 1,
                "options": [{"type": 3, "name": "q", "description": "Q", "autocomplete": True}],
            },
            guild_id=self.guild,
        )

    async def interaction(self, kind: str = "slash") -> Interaction:
        if kind == "autocomplete":
            return await self.sb.autocomplete(self.guild, self.channel, self.member, "ask", "q", {"q": "x"})
        return await self.sb.slash(self.guild, self.channel, self.member, "ask")

    def callback(self, it: Interaction) -> str:
        return f"/interactions/{it.id}/{it.token}/callback"

    def webhook(self, it: Interaction) -> str:
        return f"/webhooks/{self.sb.application_id}/{it.token}"


def error_path(body: dict[str, Any]) -> list[str]:
    """The path of the first error in Discord's nested ``errors`` object."""
    path, node = [], body["errors"]
    while "_errors" not in node:
        key = next(iter(node))
        path.append(key)
        node = node[key]
    return path


def embed(**fields: Any) -> dict[str, Any]:
    return {"embeds": [{"title": "t", **fields}]}


def row(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(children)}


def button(label: str = "ok", custom_id: str = "b") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def select(n_options: int = 1, *, text: str = "o", placeholder: str = "p", **extra: Any) -> dict[str, Any]:
    options = [{"label": f"{text}{i}"[-len(text) :], "value": f"v{i}"} for i in range(n_options)]
    return {"type": 3, "custom_id": "s", "placeholder": placeholder, "options": options, **extra}


def text_input(**fields: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": "i", "style": 1, "label": "Q", **fields}


#: (name, message payload over a limit, the same payload at the limit, the path Discord names)
MESSAGE_CASES: list[tuple[str, Callable[[int], dict[str, Any]], int, list[str]]] = [
    ("content", lambda n: {"content": WIDE * n}, 2000, ["content"]),
    ("embeds", lambda n: {"embeds": [{"title": "t"}] * n}, 10, ["embeds"]),
    ("title", lambda n: embed(title=WIDE * n), 256, ["embeds", "0", "title"]),
    ("description", lambda n: embed(description=WIDE * n), 4096, ["embeds", "0", "description"]),
    ("fields", lambda n: embed(fields=[{"name": "n", "value": "v"}] * n), 25, ["embeds", "0", "fields"]),
    (
        "field name",
        lambda n: embed(fields=[{"name": WIDE * n, "value": "v"}]),
        256,
        ["embeds", "0", "fields", "0", "name"],
    ),
    (
        "field value",
        lambda n: embed(fields=[{"name": "n", "value": WIDE * n}]),
        1024,
        ["embeds", "0", "fields", "0", "value"],
    ),
    ("footer", lambda n: embed(footer={"text": WIDE * n}), 2048, ["embeds", "0", "footer", "text"]),
    ("author", lambda n: embed(author={"name": WIDE * n}), 256, ["embeds", "0", "author", "name"]),
    (
        "all embeds",
        lambda n: {"embeds": [{"description": "x" * 4000}, {"description": "x" * (n - 4000)}]},
        6000,
        ["embeds"],
    ),
    ("rows", lambda n: {"components": [row(button(custom_id=f"b{i}")) for i in range(n)]}, 5, ["components"]),
    (
        "row width",
        lambda n: {"components": [row(*(button(custom_id=f"b{i}") for i in range(n)))]},
        5,
        ["components", "0", "components"],
    ),
    (
        "button label",
        lambda n: {"components": [row(button(label=WIDE * n))]},
        80,
        ["components", "0", "components", "0", "label"],
    ),
    (
        "custom_id",
        lambda n: {"components": [row(button(custom_id="c" * n))]},
        100,
        ["components", "0", "components", "0", "custom_id"],
    ),
    (
        "select options",
        lambda n: {"components": [row(select(n))]},
        25,
        ["components", "0", "components", "0", "options"],
    ),
    (
        "option label",
        lambda n: {"components": [row(select(text=WIDE * n))]},
        100,
        ["components", "0", "components", "0", "options", "0", "label"],
    ),
    (
        "placeholder",
        lambda n: {"components": [row(select(placeholder=WIDE * n))]},
        150,
        ["components", "0", "components", "0", "placeholder"],
    ),
]


@pytest.mark.parametrize(("name", "build", "limit", "path"), MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
async def test_every_message_endpoint_refuses_a_payload_over_a_limit(
    api: Api, name: str, build: Callable[[int], dict[str, Any]], limit: int, path: list[str]
) -> None:
    place = Place(api.sandbox)
    status, made = await api.call("POST", f"/channels/{place.channel}/messages", {"content": "first"})
    assert status == 200
    slash, deferred = await place.interaction(), await place.interaction()
    assert (await api.call("POST", place.callback(deferred), {"type": 5}))[0] == 204
    routes: list[tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
        ("POST", f"/channels/{place.channel}/messages", lambda p: p),
        ("PATCH", f"/channels/{place.channel}/messages/{made['id']}", lambda p: p),
        ("POST", place.callback(slash), lambda p: {"type": 4, "data": p}),
        ("POST", place.webhook(deferred), lambda p: p),
        ("PATCH", place.webhook(deferred) + "/messages/@original", lambda p: p),
    ]
    for method, route, wrap in routes:
        status, body = await api.call(method, route, wrap(build(limit + 1)))
        assert status == 400 and body["code"] == 50035, (method, route, body)
        assert error_path(body) == (["data", *path] if route.endswith("/callback") else path), (route, body)
    for method, route, wrap in routes:
        status, body = await api.call(method, route, wrap(build(limit)))
        assert status in (200, 204), (method, route, body)


MODAL_CASES: list[tuple[str, Callable[[int], dict[str, Any]], int, list[str]]] = [
    ("title", lambda n: {"title": WIDE * n}, 45, ["title"]),
    ("custom_id", lambda n: {"custom_id": "m" * n}, 100, ["custom_id"]),
    (
        "inputs",
        lambda n: {"components": [row(text_input(custom_id=f"i{i}")) for i in range(n)]},
        5,
        ["components"],
    ),
    (
        "label",
        lambda n: {"components": [row(text_input(label=WIDE * n))]},
        45,
        ["components", "0", "components", "0", "label"],
    ),
    (
        "placeholder",
        lambda n: {"components": [row(text_input(placeholder=WIDE * n))]},
        100,
        ["components", "0", "components", "0", "placeholder"],
    ),
    (
        "value",
        lambda n: {"components": [row(text_input(value=WIDE * n))]},
        4000,
        ["components", "0", "components", "0", "value"],
    ),
    (
        "max_length",
        lambda n: {"components": [row(text_input(max_length=n))]},
        4000,
        ["components", "0", "components", "0", "max_length"],
    ),
    (
        "label component",
        lambda n: {"components": [{"type": 18, "label": WIDE * n, "component": text_input(label=None)}]},
        45,
        ["components", "0", "label"],
    ),
]


@pytest.mark.parametrize(("name", "build", "limit", "path"), MODAL_CASES, ids=[c[0] for c in MODAL_CASES])
async def test_a_modal_over_a_limit_is_refused(
    api: Api, name: str, build: Callable[[int], dict[str, Any]], limit: int, path: list[str]
) -> None:
    place = Place(api.sandbox)

    def modal(n: int) -> dict[str, Any]:
        return {
            "type": 9,
            "data": {"custom_id": "m", "title": "T", "components": [row(text_input())], **build(n)},
        }

    refused = await place.interaction()
    status, body = await api.call("POST", place.callback(refused), modal(limit + 1))
    assert status == 400 and body["code"] == 50035 and error_path(body) == ["data", *path], body
    assert refused.responded_with is None  # a refused answer leaves the interaction unanswered
    status, body = await api.call("POST", place.callback(await place.interaction()), modal(limit))
    assert status == 204, body


@pytest.mark.parametrize(
    ("choices", "path"),
    [
        ([{"name": f"c{i}", "value": f"v{i}"} for i in range(26)], ["data", "choices"]),
        ([{"name": WIDE * 101, "value": "v"}], ["data", "choices", "0", "name"]),
        ([{"name": "", "value": "v"}], ["data", "choices", "0", "name"]),
        ([{"name": "n", "value": WIDE * 101}], ["data", "choices", "0", "value"]),
    ],
    ids=["26 choices", "long name", "empty name", "long value"],
)
async def test_autocomplete_choices_over_a_limit_are_refused(
    api: Api, choices: list[dict[str, Any]], path: list[str]
) -> None:
    place = Place(api.sandbox)
    status, body = await api.call(
        "POST",
        place.callback(await place.interaction("autocomplete")),
        {"type": 8, "data": {"choices": choices}},
    )
    assert status == 400 and body["code"] == 50035 and error_path(body) == path, body
    at_limit = [{"name": WIDE * 100, "value": WIDE * 100}] * 25
    status, _ = await api.call(
        "POST",
        place.callback(await place.interaction("autocomplete")),
        {"type": 8, "data": {"choices": at_limit}},
    )
    assert status == 204


async def test_names_topics_and_audit_reasons_over_their_limits_are_refused(api: Api) -> None:
    place = Place(api.sandbox)
    status, made = await api.call("POST", f"/channels/{place.channel}/messages", {"content": "m"})
    assert status == 200
    thread_route = f"/channels/{place.channel}/messages/{made['id']}/threads"
    cases = [
        ("POST", thread_route, {"name": WIDE * 101}, None, ["name"]),
        ("POST", f"/channels/{place.channel}/threads", {"name": WIDE * 101, "type": 11}, None, ["name"]),
        ("PATCH", f"/channels/{place.channel}", {"topic": WIDE * 1025}, None, ["topic"]),
        ("POST", f"/guilds/{place.guild}/roles", {"name": WIDE * 101}, None, ["name"]),
        ("PATCH", f"/guilds/{place.guild}/roles/{place.role}", {"name": WIDE * 101}, None, ["name"]),
        ("PATCH", f"/channels/{place.channel}", {"topic": "t"}, WIDE * 513, ["reason"]),
    ]
    for method, route, body, reason, path in cases:
        status, answer = await api.call(method, route, body, reason=reason)
        assert status == 400 and answer["code"] == 50035 and error_path(answer) == path, (route, answer)
    status, _ = await api.call(
        "PATCH", f"/channels/{place.channel}", {"topic": WIDE * 1024}, reason=WIDE * 512
    )
    assert status == 200
    status, _ = await api.call("PATCH", f"/guilds/{place.guild}/roles/{place.role}", {"name": WIDE * 100})
    assert status == 200
    status, _ = await api.call("POST", thread_route, {"name": WIDE * 100})
    assert status == 200
    assert api.sandbox.channel(place.channel)["topic"] == WIDE * 1024
