"""Takeover activations: a partner or brand contact gets posting rights in one channel for a window.

At the start the bot stores the channel's overwrite for the taker (or that there was none) and its
topic, *then* adds the overwrite and puts the disclosure at the front of the topic. At the end it
restores exactly what it stored: the old overwrite, or none at all, and the old topic.

Disclosure of the taker's own posts (see docs/activations.md):
* with the Message Content intent (``MICROVOICE_MESSAGE_CONTENT_INTENT=true``) the bot relays each
  message through a channel webhook with the tag as its first line (same name and avatar) and deletes
  the original;
* without it the bot cannot read the text, so it replies to each message with the disclosure attached
  to it, and ``/takeover post`` lets the taker post through a modal with the tag already in place.
"""

from __future__ import annotations

import logging

import aiosqlite
import discord
from discord import app_commands
from discord.ext import commands

from bot import disclosure, i18n
from bot.activations import TEXT_MAX, Activation, ActivationError, State, validate_text
from bot.app import App, MicrovoiceBot, reply_error
from bot.discord_adapter.checks import require_role
from bot.errors import InvalidInput
from cogs.activations import (
    CONNECTION_CHOICES,
    ENDS_HELP,
    STARTS_HELP,
    app_of,
    brand_autocomplete,
    create_activation,
    create_group,
    created_reply,
    post_disclosed,
    register_kind,
    tag_for,
)

log = logging.getLogger(__name__)

MEMBER_OVERWRITE = 1
GRANT = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
).value
WEBHOOK_NAME = "Microvoice takeover"
POST_INPUT = "microvoice:takeover:text"


def taker_of(activation: Activation) -> int:
    return int(activation.config["taker_id"])


class TakeoverKind:
    async def on_live(self, bot: MicrovoiceBot, activation: Activation) -> None:
        assert bot.app is not None
        store, taker = bot.app.store, taker_of(activation)
        raw = await bot.http.get_channel(activation.channel_id)
        current = next(
            (
                o
                for o in raw.get("permission_overwrites", [])
                if int(o["id"]) == taker and int(o["type"]) == 1
            ),
            None,
        )
        snapshot = await store.save_takeover_snapshot(
            activation.community_id,
            activation.id,
            channel_id=activation.channel_id,
            taker_id=taker,
            overwrite=(int(current["type"]), str(current["allow"]), str(current["deny"]))
            if current
            else None,
            topic=raw.get("topic"),  # type: ignore[arg-type]
            now=bot.app.clock(),
        )
        # Built from the snapshot, not from the channel now: a retried start changes nothing twice.
        allow = int(snapshot.allow or 0) | GRANT
        deny = int(snapshot.deny or 0) & ~GRANT
        reason = f"Microvoice takeover #{activation.id}"
        await bot.http.edit_channel_permissions(
            activation.channel_id, taker, str(allow), str(deny), MEMBER_OVERWRITE, reason=reason
        )
        await bot.http.edit_channel(
            activation.channel_id,
            reason=reason,
            topic=disclosure.disclose_topic(tag_for(activation), snapshot.topic),
        )
        how = "takeover.how_relay" if bot.settings.message_content_intent else "takeover.how_reply"
        await post_disclosed(
            bot,
            activation,
            activation.channel_id,
            content=i18n.t(
                activation.locale,
                "takeover.started",
                taker=f"<@{taker}>",
                title=i18n.isolate(activation.title),
                end=discord.utils.format_dt(activation.ends_at, "f"),
                how=i18n.t(activation.locale, how),
            ),
        )

    async def on_end(self, bot: MicrovoiceBot, activation: Activation) -> None:
        assert bot.app is not None
        store = bot.app.store
        snapshot = await store.takeover_snapshot(activation.community_id, activation.id)
        if snapshot is None or snapshot.restored:
            return
        reason = f"Microvoice takeover #{activation.id} ended"
        if snapshot.had_overwrite:
            await bot.http.edit_channel_permissions(
                snapshot.channel_id,
                snapshot.taker_id,
                snapshot.allow or "0",
                snapshot.deny or "0",
                snapshot.overwrite_type if snapshot.overwrite_type is not None else MEMBER_OVERWRITE,
                reason=reason,
            )
        else:
            await bot.http.delete_channel_permissions(snapshot.channel_id, snapshot.taker_id, reason=reason)
        await bot.http.edit_channel(snapshot.channel_id, reason=reason, topic=snapshot.topic)
        await store.mark_takeover_restored(activation.community_id, activation.id, now=bot.app.clock())
        key = "takeover.cancelled" if activation.state == State.CANCELLED else "takeover.ended"
        await post_disclosed(
            bot,
            activation,
            activation.channel_id,
            content=i18n.t(activation.locale, key, taker=f"<@{snapshot.taker_id}>"),
        )

    def describe(self, activation: Activation, lang: str) -> list[str]:
        taker = taker_of(activation)  # negative: a pseudonym, the taker was erased (/privacy forget)
        return [i18n.t(lang, "takeover.describe", taker=f"<@{taker}>" if taker > 0 else "\N{EM DASH}")]


@create_group.command(name="takeover", description="Propose a channel takeover (brand managers, moderators)")
@app_commands.describe(
    brand="The brand (approved) behind the takeover",
    channel="The channel taken over",
    taker="Who posts: an opted-in partner or a contact of the brand",
    title="What the takeover is about",
    starts=STARTS_HELP,
    ends=ENDS_HELP,
    connection="The material connection the disclosure names (default: paid partnership)",
)
@app_commands.choices(connection=CONNECTION_CHOICES)
@app_commands.autocomplete(brand=brand_autocomplete)
@require_role("activation create takeover")
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
    assert interaction.guild_id is not None
    store = app_of(interaction).store
    eligible = not taker.bot and (
        await store.is_partner(interaction.guild_id, taker.id)
        or brand in await store.managed_brand_ids(interaction.guild_id, taker.id)
    )

    async def check_taker(db: aiosqlite.Connection, activation_id: int) -> None:
        # Raised inside the insert transaction, after the shared checks: their errors come first,
        # and this one rolls the insert back.
        if not eligible:
            raise InvalidInput("takeover.error.not_partner", taker=f"<@{taker.id}>")

    activation = await create_activation(
        interaction,
        kind="takeover",
        brand_id=brand,
        channel_id=channel.id,
        starts_at=starts,
        ends_at=ends,
        connection=connection.value if connection else "paid",
        title=title,
        config={"taker_id": taker.id},
        after_insert=check_taker,
    )
    await created_reply(interaction, activation)


class PostModal(discord.ui.Modal):
    def __init__(self, activation: Activation, lang: str) -> None:
        super().__init__(
            title=i18n.t(lang, "takeover.modal_title")[:45],
            custom_id=f"microvoice:takeover:post:{activation.id}",
        )
        self.activation_id = activation.id
        self.text: discord.ui.TextInput[PostModal] = discord.ui.TextInput(
            label=i18n.t(lang, "takeover.modal_label")[:45],
            style=discord.TextStyle.paragraph,
            custom_id=POST_INPUT,
            max_length=TEXT_MAX,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        app = app_of(interaction)
        assert interaction.guild_id is not None
        body = validate_text(self.text.value or "", limit=TEXT_MAX, what="post")
        activation = await app.store.get_activation(interaction.guild_id, self.activation_id)
        if (
            activation is None
            or activation.state != State.LIVE
            or taker_of(activation) != interaction.user.id
        ):
            raise ActivationError("takeover.error.no_live")
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot: MicrovoiceBot = interaction.client  # type: ignore[assignment]
        message = await post_disclosed(
            bot,
            activation,
            activation.channel_id,
            content=i18n.t(activation.locale, "takeover.post", taker=f"<@{interaction.user.id}>", body=body),
        )
        await app.store.record_takeover_post(
            interaction.guild_id,
            activation.id,
            source_message_id=message.id,
            author_id=interaction.user.id,
            mode="command",
            disclosed_message_id=message.id,
            now=app.clock(),
        )
        await interaction.followup.send(
            await app.say(interaction, "takeover.posted", link=message.jump_url), ephemeral=True
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await reply_error(interaction, error)


class Takeover(commands.Cog):
    takeover = app_commands.Group(name="takeover", description="Channel takeovers", guild_only=True)

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app
        self._webhooks: dict[int, discord.Webhook] = {}

    @takeover.command(name="post", description="Post in the channel you are taking over, with the disclosure")
    @require_role("takeover post")
    async def post(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        activation = await self.app.store.live_activation_in_channel(
            interaction.guild_id, interaction.channel_id, "takeover"
        )
        if activation is None or taker_of(activation) != interaction.user.id:
            raise ActivationError("takeover.error.no_live")
        await interaction.response.send_modal(
            PostModal(activation, await self.app.lang(interaction.guild_id))
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        activation = await self.app.store.live_activation_in_channel(
            message.guild.id, message.channel.id, "takeover"
        )
        if (
            activation is None
            or activation.channel_id != message.channel.id
            or taker_of(activation) != message.author.id
        ):
            return
        # Only plain text is relayed (attachments and stickers would be lost); the rest gets a reply.
        relay = (
            self.bot.settings.message_content_intent
            and bool(message.content)
            and not (message.attachments or message.stickers or message.embeds)
        )
        first = await self.app.store.record_takeover_post(
            message.guild.id,
            activation.id,
            source_message_id=message.id,
            author_id=message.author.id,
            mode="relay" if relay else "reply",
            disclosed_message_id=None,
            now=self.app.clock(),
        )
        if not first:  # a replayed gateway event: already disclosed
            return
        try:
            if relay:
                await self._relay(activation, message)
            else:
                await post_disclosed(
                    self.bot,
                    activation,
                    message.channel.id,
                    content=i18n.t(
                        activation.locale, "takeover.reply_notice", taker=f"<@{message.author.id}>"
                    ),
                    reference=message,
                )
        except discord.HTTPException:
            log.exception("takeover %s: could not disclose message %s", activation.id, message.id)

    async def _relay(self, activation: Activation, message: discord.Message) -> None:
        """Repost the taker's message through a webhook with the tag first, then remove the original."""
        channel = message.channel
        assert isinstance(channel, discord.TextChannel)
        webhook = self._webhooks.get(channel.id)
        if webhook is None:
            hooks = [h for h in await channel.webhooks() if h.name == WEBHOOK_NAME and h.token]
            webhook = hooks[0] if hooks else await channel.create_webhook(name=WEBHOOK_NAME)
            self._webhooks[channel.id] = webhook
        author = message.author
        await webhook.send(
            content=disclosure.disclose_content(tag_for(activation), message.content),
            username=author.display_name[:80],
            avatar_url=author.display_avatar.url,
            allowed_mentions=discord.AllowedMentions.none(),
            wait=True,
        )
        await message.delete()


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    register_kind("takeover", TakeoverKind())
    await bot.add_cog(Takeover(bot, bot.app))
