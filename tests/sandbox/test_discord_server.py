"""The Discord sandbox against the unmodified discord.py client.

Why: every e2e test and the demo trust the sandbox to behave like Discord. These tests pin the behaviours the
bot depends on (READY/GUILD_CREATE caching, MESSAGE_CONTENT redaction, replies, reactions, slash commands,
components, modals, 429/5xx handling, RESUME replay) using a plain discord.py client, not our bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import threading
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.http import Route

from sandbox.discord_server import DiscordSandbox, Intents, snowflake_time
from sandbox.redirect import discord_targets, point_discord_at, restore_discord_targets

pytestmark = pytest.mark.asyncio


@dataclass
class World:
    guild: int
    general: int
    role: int
    alice: int
    bob: int


class Bot:
    """A plain discord.Client + CommandTree that records what it receives."""

    def __init__(
        self, sandbox: DiscordSandbox, *, message_content: bool = False, members: bool = False
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        intents.members = members
        self.sandbox = sandbox
        # A short guild_ready_timeout keeps on_ready fast; it is a normal discord.py option.
        self.client = discord.Client(intents=intents, guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self.client)
        self.messages: list[discord.Message] = []
        self.raw_adds: list[discord.RawReactionActionEvent] = []
        self.raw_removes: list[discord.RawReactionActionEvent] = []
        self.resumed = 0
        self._changed = asyncio.Event()
        for handler in (
            self.on_message,
            self.on_raw_reaction_add,
            self.on_raw_reaction_remove,
            self.on_resumed,
        ):
            self.client.event(handler)
        self.task: asyncio.Task[None] | None = None

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message)
        self._poke()

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        self.raw_adds.append(event)
        self._poke()

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        self.raw_removes.append(event)
        self._poke()

    async def on_resumed(self) -> None:
        self.resumed += 1
        self._poke()

    async def wait(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not (result := predicate()):
                await self._changed.wait()
            return result

    def message(self, message_id: int | str) -> discord.Message | None:
        return next((m for m in self.messages if m.id == int(message_id)), None)

    async def __aenter__(self) -> Bot:
        self.task = asyncio.create_task(self.client.start(self.sandbox.token))
        await self.sandbox.wait_ready(timeout=5)
        await asyncio.wait_for(self.client.wait_until_ready(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        if self.task is not None:
            # A client parked in discord.py's 5 s re-IDENTIFY back-off does not notice close(); cancel it.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.task, 1)
        # A connection opened for that re-IDENTIFY (its HELLO started a heartbeat thread) is not yet
        # the client's, so close() leaves its thread beating against this test's loop once it closed.
        loop = asyncio.get_running_loop()
        for thread in threading.enumerate():
            if isinstance(thread, discord.gateway.KeepAliveHandler) and thread.ws.loop is loop:
                thread.stop()


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[DiscordSandbox]:
    targets = discord_targets()
    sb = DiscordSandbox()
    await sb.start()
    point_discord_at(sb.api_base, sb.gateway_url)
    try:
        yield sb
        assert not sb.internal_errors, sb.internal_errors
    finally:
        await sb.stop()
        restore_discord_targets(targets)


@pytest.fixture
def world(sandbox: DiscordSandbox) -> World:
    guild = sandbox.add_guild("Vegan Cooks")
    general = sandbox.add_channel(guild, "general")
    role = sandbox.add_role(guild, "Cooks")
    alice = sandbox.add_user("alice")
    bob = sandbox.add_user("bob")
    sandbox.add_member(guild, alice, roles=[role])
    sandbox.add_member(guild, bob)
    return World(guild, general, role, alice, bob)


async def test_redirect_points_discord_py_at_the_sandbox(sandbox: DiscordSandbox) -> None:
    assert sandbox.api_base == Route.BASE
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == sandbox.gateway_url
    assert sandbox.cdn_base == discord.asset.Asset.BASE


async def test_connect_ready_and_guild_cache(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        client = bot.client
        assert client.user is not None and client.user.id == sandbox.bot_user_id
        assert client.application_id == sandbox.application_id
        guild = client.get_guild(world.guild)
        assert guild is not None and guild.name == "Vegan Cooks" and not guild.unavailable
        assert [c.id for c in guild.text_channels] == [world.general]
        assert {r.name for r in guild.roles} == {"@everyone", "Microvoice", "Cooks"}
        assert guild.me is not None and guild.me.guild_permissions.administrator
        assert guild.member_count == 4  # owner, bot, alice, bob
        # The client connected with its compression (zlib-stream, or zstd-stream if zstandard is installed).
        expected = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
        assert sandbox.gateway_connections[0]["query"]["compress"] == expected
        assert sandbox.intents == discord.Intents.default().value
        assert sandbox.identify_payloads[0]["token"] == sandbox.token
        ready = next(d for e, d in sandbox.dispatched if e == "READY")
        assert ready["resume_gateway_url"] == sandbox.resume_gateway_url
        assert ready["guilds"] == [{"id": str(world.guild), "unavailable": True}]
        assert sandbox.rest.last("GET", "/users/@me").status == 200


async def test_bad_token_is_rejected(sandbox: DiscordSandbox) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.start("not-the-token")
    await client.close()
    assert sandbox.rest.last("GET", "/users/@me").status == 401


async def test_message_content_is_empty_without_the_intent(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        plain = await sandbox.send_message(world.general, world.alice, "secret recipe")
        mention = await sandbox.send_message(world.general, world.bob, f"<@{sandbox.bot_user_id}> hi")
        await bot.wait(lambda: bot.message(mention["id"]))
        got = bot.message(plain["id"])
        assert got is not None and got.content == "" and got.author.id == world.alice
        assert isinstance(got.author, discord.Member) and got.author.joined_at is not None
        assert [r.id for r in got.author.roles if not r.is_default()] == [world.role]
        # Messages that mention the bot keep their content, as on Discord.
        assert bot.message(mention["id"]).content == f"<@{sandbox.bot_user_id}> hi"
        # The stored message still has the text (REST reads are governed by the portal toggle).
        assert sandbox.message(int(plain["id"]))["content"] == "secret recipe"


async def test_message_content_and_members_when_requested(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox, message_content=True, members=True) as bot:
        assert sandbox.intents & Intents.MESSAGE_CONTENT
        guild = bot.client.get_guild(world.guild)
        assert guild is not None and guild.chunked  # GUILD_MEMBERS_CHUNK answered the op 8 request
        assert guild.get_member(world.alice) is not None
        sent = await sandbox.send_message(world.general, world.alice, "secret recipe")
        got = await bot.wait(lambda: bot.message(sent["id"]))
        assert got.content == "secret recipe"
        assert got.created_at == snowflake_time(int(sent["id"]))


async def test_reply_carries_reference_and_referenced_message(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox, message_content=True) as bot:
        root = await sandbox.send_message(world.general, world.alice, "tofu or tempeh?")
        reply = await sandbox.send_message(world.general, world.bob, "tempeh", reply_to=int(root["id"]))
        assert reply["type"] == 19
        assert reply["message_reference"] == {
            "type": 0,
            "channel_id": str(world.general),
            "message_id": root["id"],
            "guild_id": str(world.guild),
        }
        assert reply["referenced_message"]["id"] == root["id"]
        assert [m["id"] for m in reply["mentions"]] == [str(world.alice)]  # the default reply ping
        got = await bot.wait(lambda: bot.message(reply["id"]))
        assert got.type is discord.MessageType.reply
        assert got.reference is not None and got.reference.message_id == int(root["id"])
        resolved = got.reference.resolved
        assert isinstance(resolved, discord.Message) and resolved.content == "tofu or tempeh?"


async def test_raw_reaction_add_and_remove(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        msg = await sandbox.send_message(world.general, world.alice, "")
        added = await sandbox.add_reaction(world.general, int(msg["id"]), world.bob, "🔥")
        assert added["message_author_id"] == str(world.alice) and added["member"]["user"]["id"] == str(
            world.bob
        )
        await sandbox.remove_reaction(world.general, int(msg["id"]), world.bob, "🔥")
        await bot.wait(lambda: bot.raw_removes)
        add = bot.raw_adds[0]
        assert (add.message_id, add.user_id, add.message_author_id) == (
            int(msg["id"]),
            world.bob,
            world.alice,
        )
        assert add.member is not None and add.member.id == world.bob
        assert str(add.emoji) == "🔥" and add.burst is False and add.event_type == "REACTION_ADD"
        remove = bot.raw_removes[0]
        assert remove.user_id == world.bob and remove.member is None and remove.message_author_id is None


async def test_slash_command_synced_and_invoked(sandbox: DiscordSandbox, world: World) -> None:
    bot = Bot(sandbox)
    calls: list[tuple[str, int, int]] = []
    group = app_commands.Group(name="recipe", description="Recipes", guild_ids=[world.guild])

    @bot.tree.command(name="rate", description="Rate someone", guild=discord.Object(world.guild))
    @app_commands.describe(who="Who", stars="How many")
    async def rate(interaction: discord.Interaction, who: discord.Member, stars: int, note: str = "") -> None:
        calls.append((interaction.command.name, who.id, stars))
        await interaction.response.send_message(f"{who.name} gets {stars} {note}".strip())
        await interaction.followup.send("saved", ephemeral=True)

    @group.command(name="share", description="Share a recipe")
    async def share(interaction: discord.Interaction, role: discord.Role) -> None:
        calls.append(("share", role.id, 0))
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content=f"shared with {role.name}")

    bot.tree.add_command(group)
    async with bot:
        synced = await bot.tree.sync(guild=discord.Object(world.guild))
        assert sorted(c.name for c in synced) == ["rate", "recipe"]
        put = sandbox.rest.last("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
        assert put.status == 200 and {c["name"] for c in put.json} == {"rate", "recipe"}

        it = await sandbox.slash(
            world.guild, world.general, world.alice, "rate", {"who": world.bob, "stars": 5}
        )
        assert it.payload["data"]["resolved"]["users"][str(world.bob)]["username"] == "bob"
        response = await it.response()
        assert response.status == 200 and response.json["type"] == 4
        assert response.response["resource"]["message"]["content"] == "bob gets 5"
        assert (
            response.response["interaction"]["response_message_id"]
            == response.response["resource"]["message"]["id"]
        )
        followup = await it.wait_followup()
        assert followup.status == 200 and followup.json["flags"] == 64
        assert calls == [("rate", world.bob, 5)]
        assert it.message is not None and it.message["type"] == 20

        it2 = await sandbox.slash(world.guild, world.general, world.alice, "recipe", {"role": world.role},
                                  subcommand="share")  # fmt: skip
        assert (await it2.response()).json["type"] == 5
        edit = await sandbox.wait_for_call("PATCH", "/webhooks/{application_id}/{token}/messages/@original")
        assert edit.status == 200 and it2.message["content"] == "shared with Cooks"
        assert calls[-1] == ("share", world.role, 0)


async def test_button_click_routes_to_view_callback(sandbox: DiscordSandbox, world: World) -> None:
    bot = Bot(sandbox)
    clicked: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Confirm(discord.ui.View):
        @discord.ui.button(label="Yes", custom_id="confirm:yes", style=discord.ButtonStyle.green)
        async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
            clicked.set_result(interaction.user.id)
            await interaction.response.edit_message(content="confirmed", view=None)

    @bot.tree.command(name="confirm", description="Ask", guild=discord.Object(world.guild))
    async def confirm(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Sure?", view=Confirm())

    async with bot:
        await bot.tree.sync(guild=discord.Object(world.guild))
        it = await sandbox.slash(world.guild, world.general, world.alice, "confirm")
        await it.response()
        assert (
            it.message is not None
            and it.message["components"][0]["components"][0]["custom_id"] == "confirm:yes"
        )
        with pytest.raises(LookupError):
            await sandbox.click(it.message, "no-such-button", world.bob)
        press = await sandbox.click(it.message, "confirm:yes", world.bob)
        assert await asyncio.wait_for(clicked, 5) == world.bob
        response = await press.response()
        assert response.json["type"] == 7
        assert sandbox.message(int(it.message["id"]))["content"] == "confirmed"
        assert sandbox.message(int(it.message["id"]))["components"] == []


async def test_modal_submit(sandbox: DiscordSandbox, world: World) -> None:
    bot = Bot(sandbox)
    answers: list[str] = []

    class Feedback(discord.ui.Modal, title="Feedback"):
        answer: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="Answer", custom_id="answer")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            answers.append(self.answer.value)
            await interaction.response.send_message(f"thanks: {self.answer.value}", ephemeral=True)

    @bot.tree.command(name="feedback", description="Tell us", guild=discord.Object(world.guild))
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback(custom_id="feedback-modal"))

    async with bot:
        await bot.tree.sync(guild=discord.Object(world.guild))
        opener = await sandbox.slash(world.guild, world.general, world.alice, "feedback")
        assert (await opener.response()).json["type"] == 9
        assert opener.modal is not None and opener.modal["custom_id"] == "feedback-modal"
        submit = await sandbox.submit_modal(
            "feedback-modal",
            {"answer": "more tempeh"},
            world.alice,
            guild_id=world.guild,
            channel_id=world.general,
        )
        response = await submit.response()
        assert answers == ["more tempeh"]
        assert response.json["type"] == 4 and response.json["data"]["flags"] == 64
        assert submit.message is not None and submit.message["content"] == "thanks: more tempeh"
        assert int(submit.message["id"]) not in [int(m["id"]) for m in sandbox.messages(world.general)]


async def test_429_is_retried_and_the_message_is_sent(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        sandbox.fail_next("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.05)
        channel = bot.client.get_channel(world.general)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("after the rate limit")
        calls = sandbox.rest.find("POST", "/channels/{channel_id}/messages")
        assert [c.status for c in calls] == [429, 200]
        assert calls[0].response["retry_after"] == 0.05
        assert [m["content"] for m in sandbox.messages(world.general)] == ["after the rate limit"]
        assert sent.id == int(calls[1].response["id"])


async def test_server_errors(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        channel = bot.client.get_channel(world.general)
        assert isinstance(channel, discord.TextChannel)
        sandbox.fail_next("POST", "/channels/{channel_id}/messages", status=503)
        with pytest.raises(discord.DiscordServerError) as caught:
            await channel.send("nope")
        assert caught.value.status == 503
        sandbox.fail_next("POST", "/channels/{channel_id}/messages", status=500)
        await channel.send("eventually")  # discord.py retries a 500 once after ~1 s
        statuses = [c.status for c in sandbox.rest.find("POST", "/channels/{channel_id}/messages")]
        assert statuses == [503, 500, 200]
        assert [m["content"] for m in sandbox.messages(world.general)] == ["eventually"]


async def test_a_fault_after_the_work_and_a_held_answer(sandbox: DiscordSandbox, world: World) -> None:
    """`carried_out`: Discord made the message but the client hears a 503; `hold_next`: the answer comes
    late. A nonce repeated with enforce_nonce returns the first message, and a fetch never shows it."""
    async with Bot(sandbox) as bot:
        channel = bot.client.get_channel(world.general)
        assert isinstance(channel, discord.TextChannel)
        sandbox.fail_next("POST", "/channels/{channel_id}/messages", status=503, carried_out=True)
        with pytest.raises(discord.DiscordServerError):
            await channel.send("made anyway", nonce="mv1.post")
        assert [m["content"] for m in sandbox.messages(world.general)] == ["made anyway"]
        again = await channel.send("made anyway", nonce="mv1.post")  # discord.py sets enforce_nonce
        assert [m["content"] for m in sandbox.messages(world.general)] == ["made anyway"]
        assert again.id == int(sandbox.messages(world.general)[0]["id"])
        fetched = [m async for m in channel.history(limit=5)]
        assert [m.nonce for m in fetched] == [None]

        sandbox.hold_next("POST", "/channels/{channel_id}/messages", seconds=0.3)
        sending = asyncio.ensure_future(channel.send("slow answer"))
        await sandbox.wait_until(lambda: len(sandbox.messages(world.general)) == 2, 2, "the held message")
        assert not sending.done()
        assert (await sending).content == "slow answer"
        assert [c.status for c in sandbox.rest.find("POST", "/channels/{channel_id}/messages")] == [
            503,
            200,
            200,
        ]


async def test_validation_errors_look_like_discord(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        channel = bot.client.get_channel(world.general)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.status == 400 and too_long.value.code == 50035
        with pytest.raises(discord.HTTPException) as empty:
            await channel.send("")
        assert empty.value.code == 50006


async def test_drop_gateway_replays_missed_events_exactly_once(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox, message_content=True) as bot:
        before = await sandbox.send_message(world.general, world.alice, "before")
        await bot.wait(lambda: bot.message(before["id"]))
        await sandbox.drop_gateway()
        during = [await sandbox.send_message(world.general, world.bob, f"during {i}") for i in range(3)]
        await sandbox.wait_resumed(timeout=5)
        await bot.wait(lambda: bot.resumed)
        after = await sandbox.send_message(world.general, world.alice, "after")
        await bot.wait(lambda: bot.message(after["id"]))

        assert sandbox.resume_payloads and sandbox.replay_counts[-1] >= 3
        assert sandbox.gateway_connections[-1]["path"] == "/gateway-resume"  # used READY's resume_gateway_url
        assert sandbox.ready_count == 1, "the client resumed instead of re-identifying"
        counts = Counter(m.id for m in bot.messages)
        ids = [int(m["id"]) for m in (before, *during, after)]
        assert all(counts[i] == 1 for i in ids), counts
        assert [m.id for m in bot.messages] == ids
        assert [m.content for m in bot.messages][1:4] == ["during 0", "during 1", "during 2"]


async def test_close_code_4009_invalidates_the_session(sandbox: DiscordSandbox, world: World) -> None:
    """4009 (session timed out) makes the RESUME fail with INVALID_SESSION, so the client starts over.

    (discord.py then waits 5 s before re-IDENTIFYing, so we stop at its new connection.)
    """
    async with Bot(sandbox):
        await sandbox.drop_gateway(code=4009)
        await sandbox.wait_until(lambda: len(sandbox.gateway_connections) == 3, 5, "a fresh connection")
        assert len(sandbox.resume_payloads) == 1 and sandbox.invalid_sessions_sent == 1
        assert sandbox.resumed_count == 0


async def test_unknown_route_is_404_and_recorded(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        with pytest.raises(discord.NotFound):
            await bot.client.http.request(Route("GET", "/nope/{thing_id}", thing_id=7))
        call = sandbox.rest.last("GET", "/nope/7")
        assert (call.status, call.route, call.response) == (
            404,
            "/nope/7",
            {"message": "404: Not Found", "code": 0},
        )
        with pytest.raises(AssertionError, match="no DELETE /never"):
            sandbox.rest.last("DELETE", "/never")


async def test_wire_format_is_discord_shaped(sandbox: DiscordSandbox, world: World) -> None:
    """Raw HTTP + websocket: exact Content-Type, rate-limit headers, zlib-stream frames, snowflake strings."""
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {sandbox.token}"}
        async with session.get(f"{sandbox.api_base}/guilds/{world.guild}", headers=headers) as resp:
            assert resp.headers["Content-Type"] == "application/json"
            assert resp.headers["Via"] and resp.headers["X-RateLimit-Bucket"]
            guild = await resp.json()
        assert guild["id"] == str(world.guild) and guild["roles"][0]["id"] == str(world.guild)
        member = sandbox.member(world.guild, world.alice)
        assert member["user"]["id"] == str(world.alice) and member["joined_at"].endswith("+00:00")

        url = f"{sandbox.gateway_url}?v=10&encoding=json&compress=zlib-stream"
        async with session.ws_connect(url) as ws:
            inflater = zlib.decompressobj()
            hello = json.loads(inflater.decompress(await ws.receive_bytes()))
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250
            await ws.send_json({"op": 1, "d": None})
            assert json.loads(inflater.decompress(await ws.receive_bytes()))["op"] == 11
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 513, "properties": {}}})
            closing = await ws.receive()
            assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4004


async def test_multipart_upload_cdn_and_webhooks(sandbox: DiscordSandbox, world: World) -> None:
    async with Bot(sandbox) as bot:
        channel = bot.client.get_channel(world.general)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("report", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "r.csv"))
        call = sandbox.rest.last("POST", "/channels/{channel_id}/messages")
        assert call.json["content"] == "report" and call.files == [("r.csv", b"a,b\n1,2\n")]
        assert sent.attachments[0].url.startswith(sandbox.cdn_base)
        assert await sent.attachments[0].read() == b"a,b\n1,2\n"

        hook = await channel.create_webhook(name="Relay")
        relayed = await hook.send("via hook", username="Bridge", wait=True)
        assert relayed.webhook_id == hook.id and relayed.author.name == "Bridge"
        assert sandbox.rest.last("POST", "/webhooks/{webhook_id}/{webhook_token}").query["wait"] == "1"
        assert [w["name"] for w in sandbox.webhooks(world.general)] == ["Relay"]


async def test_strict_client_enforces_what_the_discord_client_would() -> None:
    strict = DiscordSandbox(strict_client=True)
    guild = strict.add_guild("Strict")
    chan = strict.add_channel(guild, "general")
    user = strict.add_user("carol")
    strict.add_member(guild, user)
    admin_only = {
        "name": "purge",
        "type": 1,
        "description": "Purge",
        "default_member_permissions": "32",
        "options": [{"name": "days", "description": "Days", "type": 4, "min_value": 1}],
    }
    strict.add_command(admin_only, guild_id=guild)
    with pytest.raises(PermissionError):
        await strict.slash(guild, chan, user, "purge", {"days": 3})
    with pytest.raises(ValueError, match="outside"):
        await strict.slash(guild, chan, user, "purge", {"days": 0}, permissions=32)
    with pytest.raises(LookupError):
        await strict.slash(guild, chan, user, "unknown")
