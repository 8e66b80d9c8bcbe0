"""Channel takeovers on Discord: `/activation create takeover`, `/takeover post` and its modal, and the
listener that hands the taker's messages to the service for disclosure.

Thin: the start (overwrite and topic stored, then changed), the exact restore at the end and the
disclosure of the taker's posts are in bot/activations/takeovers.py (docs/activations.md). With the
Message Content intent (``MICROVOICE_MESSAGE_CONTENT_INTENT=true``) plain-text posts are republished
through a webhook with the tag; without it each gets a disclosed reply.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.activations.model import TEXT_MAX
from bot.activations.service import Proposal
from bot.activations.takeovers import TakerMessage
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.activation_commands import (
    actor_of,
    add_commands,
    app_of,
    create_command,
    create_group,
    created_reply,
)
from bot.discord_adapter.checks import require_role
from bot.discord_adapter.components import Form, answer_if_expired
from bot.discord_adapter.gateway import selective_listener
from bot.discord_adapter.platform import member_of
from bot.platform import Author

POST_INPUT = "microvoice:takeover:text"
#: Custom ids of post forms: this, the takeover's id, a colon and the opening's own token.
POST_FORM = "microvoice:takeover:post:"
#: How many messages of a taken-over channel are read back after a reconnect (from the opening post on).
CATCH_UP_MESSAGES = 500
log = logging.getLogger(__name__)


@create_command(
    "takeover",
    "Propose a channel takeover (brand managers, moderators)",
    connection_default="paid",
    brand="The brand (approved) behind the takeover",
    channel="The channel taken over",
    taker="Who posts: an opted-in partner or a contact of the brand",
    title="What the takeover is about",
)
async def create_takeover(
    interaction: discord.Interaction,
    brand: int,
    channel: discord.TextChannel,
    taker: discord.Member,
    title: str,
    starts: str,
    ends: str,
    connection: app_commands.Choice[str] | None = None,
) -> None:
    proposal = Proposal(brand, channel.id, starts, ends, title, connection.value if connection else "paid")
    activation = await app_of(interaction).takeovers.create(
        await actor_of(interaction), proposal, taker.id, member_of(taker)
    )
    await created_reply(interaction, activation)


add_commands(create_group, create_takeover)


class PostModal(Form):
    def __init__(self, activation_id: int, lang: str) -> None:
        super().__init__(title=i18n.t(lang, "takeover.modal_title"), prefix=f"{POST_FORM}{activation_id}:")
        self.activation_id = activation_id
        self.text: discord.ui.TextInput[PostModal] = discord.ui.TextInput(
            label=i18n.t(lang, "takeover.modal_label")[:45],
            style=discord.TextStyle.paragraph,
            custom_id=POST_INPUT,
            max_length=TEXT_MAX,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        app = app_of(interaction)
        actor = await actor_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        posted = await app.takeovers.post(actor, self.activation_id, self.text.value or "")
        await interaction.followup.send(
            await app.say(interaction, "takeover.posted", link=posted.link), ephemeral=True
        )


class Takeover(commands.Cog):
    takeover = app_commands.Group(name="takeover", description="Channel takeovers", guild_only=True)

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self._catching_up: set[asyncio.Task[None]] = set()

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await answer_if_expired(interaction, POST_FORM)

    @takeover.command(name="post", description="Post in the channel you are taking over, with the disclosure")
    @require_role("takeover post")
    async def post(self, interaction: discord.Interaction) -> None:
        assert interaction.channel_id is not None
        activation = await self.app.takeovers.live_for(await actor_of(interaction), interaction.channel_id)
        await interaction.response.send_modal(
            PostModal(activation.id, await self.app.lang(interaction.guild_id))
        )

    @commands.Cog.listener()
    @selective_listener  # only messages in channels (and their threads) with a taker posting
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        parent = message.channel.parent_id if isinstance(message.channel, discord.Thread) else None
        if not self.app.live_takeovers.may_have(message.guild.id, parent or message.channel.id):
            return  # in memory: no database round trip for messages outside a taken-over channel
        await self.app.takeovers.on_message(self.taker_message(message, parent))

    def taker_message(self, message: discord.Message, parent: int | None) -> TakerMessage:
        assert message.guild is not None
        author = message.author
        return TakerMessage(
            community_id=message.guild.id,
            channel_id=message.channel.id,
            message_id=message.id,
            author_id=author.id,
            author=Author(author.display_name, author.display_avatar.url),
            text=message.content if self.bot.settings.message_content_intent else None,
            plain=not (message.attachments or message.stickers or message.embeds),
            parent_id=parent,
        )

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """A new gateway session: messages a taker posted while the bot was not connected were never
        delivered, so each taken-over channel is read back to the takeover's opening post."""
        self._start_catch_up(None)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        """One shard of several got a new session (the others kept theirs): its servers' channels."""
        self._start_catch_up(shard_id)

    def _start_catch_up(self, shard_id: int | None) -> None:
        task = asyncio.create_task(self._catch_up(shard_id), name="microvoice-takeover-catch-up")
        self._catching_up.add(task)
        task.add_done_callback(self._catching_up.discard)

    async def _catch_up(self, shard_id: int | None) -> None:
        try:
            posting = await self.app.takeovers.posting()
        except Exception:
            log.exception("takeover catch-up after a reconnect failed")
            return
        for channel_id, taker, opening in posting:
            channel = self.bot.get_channel(channel_id)
            if opening is None or not isinstance(channel, discord.TextChannel | discord.VoiceChannel):
                continue
            if shard_id is not None and channel.guild.shard_id != shard_id:
                continue
            try:
                await self.app.takeovers.catch_up(await self._read_back(channel, taker, opening))
            except Exception:  # one channel (no Read Message History there, say) does not stop the rest
                log.exception("takeover catch-up of channel %s failed", channel_id)

    async def _read_back(
        self, channel: discord.abc.Messageable, taker: int, opening: int
    ) -> list[TakerMessage]:
        """The taker's messages since the opening post, oldest first, from the newest
        `CATCH_UP_MESSAGES` (the gap is at the end of the channel)."""
        read: list[TakerMessage] = []
        async for message in channel.history(limit=CATCH_UP_MESSAGES):  # newest first
            if message.id <= opening:
                break
            if (
                message.author.id == taker
                and message.webhook_id is None
                and message.type in (discord.MessageType.default, discord.MessageType.reply)
            ):
                read.append(self.taker_message(message, None))
        return read[::-1]

    async def cog_unload(self) -> None:
        for task in list(self._catching_up):
            task.cancel()


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Takeover(bot, bot.app))
