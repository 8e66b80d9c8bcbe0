"""`/brand`: brands sanctioned by moderators, and the brand view of opted-in partners.

Moderators register a brand (pending) with its contacts and topic channels, then approve, suspend or
remove it. Contacts of an approved brand are its brand managers inside Microvoice; Microvoice never
gives them a Discord permission. `/brand partners` lists only members who opted in, ranked by trust in
the brand's topics; a member who did not opt in never appears, however trusted.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.brands import (
    MAX_TOPICS,
    ContactFacts,
    check_brand_role,
    check_contacts,
    clean_name,
    lookup_key,
    next_status,
    role_changes,
)
from bot.errors import InvalidInput
from bot.store_partners import Brand, PartnerListing
from bot.trust import render_why
from cogs.checks import RoleRequired, member_standing, require_role
from cogs.partners import SafeCallback, stamp

log = logging.getLogger(__name__)

PER_PAGE = 5
TopicChannel = discord.TextChannel | discord.ForumChannel | discord.CategoryChannel
_SCOPE = r"all|topics|channel:\d+|category:\d+"


def label(brand: Brand) -> str:
    """A brand name safe to show: markdown escaped, isolated for right-to-left text."""
    return i18n.isolate(discord.utils.escape_markdown(brand.name))


def scope_of(channel: discord.abc.GuildChannel | discord.Object | None, channel_id: int) -> str:
    if isinstance(channel, discord.CategoryChannel):
        return f"category:{channel_id}"
    return f"channel:{channel_id}"


def brand_scopes(guild: discord.Guild | None, brand: Brand, scope: str) -> list[str]:
    """The trust scopes a listing reads: one topic, the brand's topics, or the whole server."""
    if scope != "topics":
        return [scope]
    if not brand.topics:
        return ["all"]
    return [scope_of(guild.get_channel(t) if guild else None, t) for t in brand.topics]


def scope_text(lang: str, brand: Brand, scope: str) -> str:
    if scope == "all" or (scope == "topics" and not brand.topics):
        return i18n.t(lang, "voices.scope_all")
    if scope == "topics":
        return ", ".join(f"<#{t}>" for t in brand.topics)
    return f"<#{scope.partition(':')[2]}>"


async def resolve_brand(app: App, guild_id: int, text: str) -> Brand:
    brand = await app.store.find_brand(guild_id, lookup_key(text))
    if brand is None:
        raise InvalidInput("brand.unknown", name=i18n.isolate(discord.utils.escape_markdown(text[:100])))
    return brand


async def verify_members(app: App, guild: discord.Guild | None, listings: list[PartnerListing]) -> bool:
    """Without the Server Members intent leaves are not seen, so ask Discord about each listed partner.

    Ends the partner status of anyone no longer in the server; True if someone was dropped (re-query).
    """
    if guild is None or app.settings.members_intent:
        return False
    dropped = False
    for entry in listings:
        try:
            await guild.fetch_member(entry.member_id)
        except discord.NotFound:
            await app.store.end_partnership(guild.id, entry.member_id, "left_server", now=app.clock())
            dropped = True
    return dropped


async def partners_page(
    app: App, guild: discord.Guild | None, guild_id: int, brand: Brand, scope: str, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    lang = await app.lang(guild_id)
    scopes = brand_scopes(guild, brand, scope)
    page = max(0, page)
    for _ in range(3):
        listings, total = await app.store.partner_ranking(
            guild_id, scopes, offset=page * PER_PAGE, limit=PER_PAGE
        )
        last = max(0, math.ceil(total / PER_PAGE) - 1)
        if page > last:  # the list shrank since this button was drawn
            page = last
            listings, total = await app.store.partner_ranking(
                guild_id, scopes, offset=page * PER_PAGE, limit=PER_PAGE
            )
        if not await verify_members(app, guild, listings):
            break
    pages = max(1, math.ceil(total / PER_PAGE))
    embed = discord.Embed(
        title=i18n.t(lang, "brand.partners_title", brand=label(brand), scope=scope_text(lang, brand, scope))
    )
    if not listings:
        embed.description = i18n.t(lang, "brand.partners_empty")
    else:
        embed.description = "\n".join(
            i18n.t(
                lang,
                "brand.partners_line",
                position=page * PER_PAGE + i + 1,
                member=f"<@{e.member_id}>",
                why=render_why(json.loads(e.why), lang, lambda c: f"<#{c}>"),
            )
            for i, e in enumerate(listings)
        )
    embed.set_footer(
        text=i18n.t(lang, "voices.page", page=page + 1, pages=pages)
        + " · "
        + i18n.t(lang, "brand.partners_footer")
    )
    view = discord.ui.View(timeout=None)
    if pages > 1:
        for delta, emoji in (
            (-1, "\N{BLACK LEFT-POINTING TRIANGLE}"),
            (1, "\N{BLACK RIGHT-POINTING TRIANGLE}"),
        ):
            target = page + delta
            view.add_item(
                PartnersPageButton(brand.id, scope, target, disabled=not 0 <= target < pages, emoji=emoji)
            )
    return embed, view


async def sync_role(interaction: discord.Interaction, brand: Brand, *, previous_role_id: int | None) -> int:
    """Give or take the brand role so contacts hold it only while the brand is approved.

    Returns how many changes Discord refused (missing Manage Roles or role hierarchy); a contact who
    left the server or a role that was deleted is skipped.
    """
    assert interaction.guild_id is not None
    add, remove = role_changes(
        brand.contacts, status=brand.status, role_id=brand.role_id, previous_role_id=previous_role_id
    )
    http, failed = interaction.client.http, 0
    reason = f"Microvoice brand #{brand.id} ({brand.status})"
    for member_id, role_id in remove:
        try:
            await http.remove_role(interaction.guild_id, member_id, role_id, reason=reason)
        except discord.NotFound:
            pass
        except discord.Forbidden:
            failed += 1
    for member_id, role_id in add:
        try:
            await http.add_role(interaction.guild_id, member_id, role_id, reason=reason)
        except discord.NotFound:
            pass
        except discord.Forbidden:
            failed += 1
    return failed


async def check_brand_access(interaction: discord.Interaction, brand: Brand) -> None:
    """Moderators see every brand; a brand manager only the approved brands they are a contact of."""
    standing = await member_standing(interaction)
    if standing.moderator:
        return
    if brand.id not in standing.managed_brands:
        raise RoleRequired("error.not_your_brand")


class PartnersPageButton(
    SafeCallback,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"microvoice:brandpartners:(?P<brand>\d+):(?P<scope>{_SCOPE}):(?P<page>-?\d+)",
):
    """Pagination of /brand partners; its state lives in the custom_id, so it survives a restart."""

    def __init__(
        self, brand_id: int, scope: str, page: int, *, disabled: bool = False, emoji: str = ""
    ) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji=emoji or None,
                custom_id=f"microvoice:brandpartners:{brand_id}:{scope}:{page}",
                disabled=disabled,
            )
        )
        self.brand_id, self.scope, self.page = brand_id, scope, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PartnersPageButton:
        return cls(int(match["brand"]), match["scope"], int(match["page"]))

    async def run(self, interaction: discord.Interaction) -> None:
        app: App = interaction.client.app  # type: ignore[attr-defined]
        assert interaction.guild_id is not None
        brand = await app.store.get_brand(interaction.guild_id, self.brand_id)
        if brand is None or brand.status == "removed":
            raise InvalidInput("brand.unknown", name=f"#{self.brand_id}")
        await check_brand_access(interaction, brand)
        embed, view = await partners_page(
            app, interaction.guild, interaction.guild_id, brand, self.scope, self.page
        )
        await interaction.response.edit_message(embed=embed, view=view)


class Brands(commands.Cog):
    brand = app_commands.Group(name="brand", description="Brands this community works with", guild_only=True)

    def __init__(self, app: App) -> None:
        self.app = app

    async def brand_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        brands = await self.app.store.list_brands(interaction.guild_id)
        wanted = current.casefold().strip()
        return [
            app_commands.Choice(name=f"{b.name} ({b.status})"[:100], value=str(b.id))
            for b in brands
            if wanted in b.name.casefold()
        ][:25]

    @brand.command(name="register", description="Register a brand, pending approval (moderators)")
    @app_commands.describe(
        name="The brand's name (up to 100 characters)",
        contact="A member who acts for the brand (becomes its brand manager once approved)",
        contact2="Another contact",
        contact3="Another contact",
        topic="A channel or category this brand is about",
        topic2="Another topic",
        topic3="Another topic",
    )
    @require_role("brand register")
    async def register(
        self,
        interaction: discord.Interaction,
        name: str,
        contact: discord.User,
        contact2: discord.User | None = None,
        contact3: discord.User | None = None,
        topic: TopicChannel | None = None,
        topic2: TopicChannel | None = None,
        topic3: TopicChannel | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        clean = clean_name(name)
        contacts = check_contacts(
            [
                ContactFacts(u.id, u.bot, isinstance(u, discord.Member))
                for u in (contact, contact2, contact3)
                if u is not None
            ]
        )
        topics = tuple(dict.fromkeys(t.id for t in (topic, topic2, topic3) if t is not None))[:MAX_TOPICS]
        try:
            brand = await self.app.store.create_brand(
                interaction.guild_id, clean, contacts, topics, by=interaction.user.id, now=self.app.clock()
            )
        except InvalidInput as exc:  # the name is taken: show it escaped and isolated
            shown = i18n.isolate(discord.utils.escape_markdown(clean))
            raise InvalidInput(exc.key, **{**exc.params, "name": shown}) from exc
        log.info("brand %s registered in %s by %s", brand.id, interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(
            await self.app.say(
                interaction,
                "brand.registered",
                brand=label(brand),
                id=brand.id,
                contacts=", ".join(f"<@{c}>" for c in brand.contacts),
            ),
            ephemeral=True,
        )

    async def _transition(self, interaction: discord.Interaction, brand_text: str, action: str) -> None:
        assert interaction.guild_id is not None
        brand = await resolve_brand(self.app, interaction.guild_id, brand_text)
        try:
            target = next_status(action, brand.status)
        except InvalidInput as exc:
            status = await self.app.say(interaction, f"brand.status_{brand.status}")
            raise InvalidInput(exc.key, status=status) from exc
        changed = await self.app.store.set_brand_status(
            interaction.guild_id,
            brand.id,
            expected=brand.status,
            status=target,
            by=interaction.user.id,
            now=self.app.clock(),
        )
        key = f"brand.done_{action}" if changed else "brand.changed_meanwhile"
        failed = 0
        if changed and brand.role_id is not None:
            updated = await self.app.store.get_brand(interaction.guild_id, brand.id)
            assert updated is not None
            failed = await sync_role(interaction, updated, previous_role_id=brand.role_id)
        log.info(
            "brand %s in %s: %s by %s (%s)",
            brand.id,
            interaction.guild_id,
            action,
            interaction.user.id,
            changed,
        )
        text = await self.app.say(
            interaction, key, brand=label(brand), contacts=", ".join(f"<@{c}>" for c in brand.contacts)
        )
        if failed:
            text += "\n" + await self.app.say(
                interaction, "brand.role_failed", count=failed, role=f"<@&{brand.role_id}>"
            )
        await interaction.response.send_message(text, ephemeral=True)

    @brand.command(
        name="approve", description="Approve a brand: its contacts become brand managers (moderators)"
    )
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand approve")
    async def approve(self, interaction: discord.Interaction, brand: str) -> None:
        await self._transition(interaction, brand, "approve")

    @brand.command(name="suspend", description="Suspend a brand: its managers lose access (moderators)")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand suspend")
    async def suspend(self, interaction: discord.Interaction, brand: str) -> None:
        await self._transition(interaction, brand, "suspend")

    @brand.command(name="remove", description="Remove a brand for good (moderators)")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand remove")
    async def remove(self, interaction: discord.Interaction, brand: str) -> None:
        await self._transition(interaction, brand, "remove")

    @brand.command(
        name="role", description="Give a brand's contacts a Discord role while approved (moderators)"
    )
    @app_commands.describe(brand="The brand", role="The role (leave empty to stop giving one)")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand role")
    async def role(
        self, interaction: discord.Interaction, brand: str, role: discord.Role | None = None
    ) -> None:
        assert interaction.guild_id is not None
        found = await resolve_brand(self.app, interaction.guild_id, brand)
        if found.status == "removed":
            raise InvalidInput("brand.unknown", name=label(found))
        if role is not None:
            check_brand_role(
                is_default=role.is_default(), managed=role.managed, permissions=role.permissions.value
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.app.store.set_brand_role(
            interaction.guild_id, found.id, role.id if role else None, now=self.app.clock()
        )
        updated = await self.app.store.get_brand(interaction.guild_id, found.id)
        assert updated is not None
        failed = await sync_role(interaction, updated, previous_role_id=found.role_id)
        if role is None:
            text = await self.app.say(interaction, "brand.role_cleared", brand=label(found))
        else:
            text = await self.app.say(interaction, "brand.role_set", brand=label(found), role=role.mention)
        if failed:
            shown = role.mention if role else f"<@&{found.role_id}>"
            text += "\n" + await self.app.say(interaction, "brand.role_failed", count=failed, role=shown)
        await interaction.followup.send(text, ephemeral=True)

    @brand.command(name="list", description="Brands of this server (moderators) or the ones you manage")
    @require_role("brand list")
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        standing = await member_standing(interaction)
        brands = await self.app.store.list_brands(interaction.guild_id)
        if not standing.moderator:
            brands = [b for b in brands if b.id in standing.managed_brands]
        embed = discord.Embed(title=i18n.t(lang, "brand.list_title"))
        embed.description = "\n".join(
            i18n.t(
                lang,
                "brand.list_line",
                id=b.id,
                brand=label(b),
                status=i18n.t(lang, f"brand.status_{b.status}"),
                contacts=", ".join(f"<@{c}>" for c in b.contacts),
            )
            for b in brands[:40]
        ) or i18n.t(lang, "brand.list_empty")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @brand.command(name="show", description="One brand's status, contacts and topics")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand show")
    async def show(self, interaction: discord.Interaction, brand: str) -> None:
        assert interaction.guild_id is not None
        found = await resolve_brand(self.app, interaction.guild_id, brand)
        await check_brand_access(interaction, found)
        lang = await self.app.lang(interaction.guild_id)
        embed = discord.Embed(title=label(found))
        embed.description = i18n.t(
            lang,
            "brand.show",
            id=found.id,
            status=i18n.t(lang, f"brand.status_{found.status}"),
            contacts=", ".join(f"<@{c}>" for c in found.contacts),
            topics=", ".join(f"<#{t}>" for t in found.topics) or i18n.t(lang, "voices.scope_all"),
            created=stamp(found.created_at),
            approved_by=f"<@{found.approved_by}>" if found.approved_by else "—",
            role=f"<@&{found.role_id}>" if found.role_id else "—",
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @brand.command(name="partners", description="Opted-in partners ranked by trust in a brand's topics")
    @app_commands.describe(brand="The brand (default: the one you manage)", topic="One channel or category")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand partners")
    async def partners(
        self, interaction: discord.Interaction, brand: str | None = None, topic: TopicChannel | None = None
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        if brand is not None:
            found = await resolve_brand(self.app, guild_id, brand)
        else:
            managed = (await member_standing(interaction)).managed_brands
            if len(managed) != 1:
                raise InvalidInput("brand.which")
            found = await self.app.store.get_brand(guild_id, managed[0])
            assert found is not None
        if found.status == "removed":
            raise InvalidInput("brand.unknown", name=label(found))
        await check_brand_access(interaction, found)
        scope = "topics" if topic is None else scope_of(topic, topic.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, view = await partners_page(self.app, interaction.guild, guild_id, found, scope, 0)
        await interaction.followup.send(embed=embed, view=view, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(PartnersPageButton)
    await bot.add_cog(Brands(bot.app))
