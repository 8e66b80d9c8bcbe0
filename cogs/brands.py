"""`/brand`: brands sanctioned by moderators, and the brand view of opted-in partners.

Moderators register a brand (pending) with its contacts and topic channels, then approve, suspend or
remove it, and add or remove contacts later. Contacts of an approved brand are its brand managers inside
Microvoice; Microvoice never gives them a Discord permission. A contact no longer in the server is
treated as having left when the brand is shown, approved or its contacts changed (no leave event
arrives without the Server Members intent, nor while the bot is offline). `/brand partners` lists only
members who opted in, ranked by trust in the brand's topics; a member who did not opt in never appears,
however trusted.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.app import App, MicrovoiceBot
from bot.discord_adapter.checks import can_give, member_standing, require_role
from bot.discord_adapter.components import SafeCallback, page_button
from bot.discord_adapter.moderation import DiscordModeration
from bot.discord_adapter.rankings import channel_namer
from bot.discord_adapter.render import (
    CONTENT_MAX,
    fit_lines,
    fitted_choice,
    names_shown,
    shown,
    some_ids,
    stamp,
)
from bot.errors import InvalidInput
from bot.partners import BrandChange, ContactFacts, GoneLookup, RoleFacts
from bot.trust import render_why

if TYPE_CHECKING:
    from bot.partners.brand_service import Brand

PER_PAGE = 5
TopicChannel = discord.TextChannel | discord.ForumChannel | discord.CategoryChannel
_SCOPE = r"all|topics|channel:\d+|category:\d+"


def label(brand: Brand) -> str:
    """A brand name safe to show: markdown escaped, isolated for right-to-left text."""
    return shown(brand.name)


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


def brand_choice(lang: str, brand: Brand) -> str:
    """A brand as autocomplete offers it: its name, shortened if need be, and its status."""
    status = i18n.t(lang, f"brand.status_{brand.status}")
    return fitted_choice(lambda name: i18n.t(lang, "brand.choice", brand=name, status=status), brand.name)


def scope_text(lang: str, brand: Brand, scope: str, guild: discord.Guild | None) -> str:
    """The scope as the partners' title names it: channels by name (a mention shows as raw text in a
    title), by id where the server no longer has them."""

    def name(channel_id: int) -> str:
        channel = guild.get_channel(channel_id) if guild else None
        return f"#{discord.utils.escape_markdown(channel.name)}" if channel else f"#{channel_id}"

    if scope == "all" or (scope == "topics" and not brand.topics):
        return i18n.t(lang, "voices.scope_all")
    if scope == "topics":
        return i18n.join(lang, (name(t) for t in brand.topics))
    ident = scope.partition(":")[2]
    return name(int(ident)) if ident.isdigit() else f"#{ident}"


async def resolve_brand(app: App, guild_id: int, text: str) -> Brand:
    with names_shown():
        return await app.brands.resolve(guild_id, text)


def departures(app: App, guild: discord.Guild | None) -> GoneLookup | None:
    """Which listed partners (or a brand's contacts) left the server, including while the bot was
    offline (no leave event reached it then). With the Server Members intent and the member list loaded
    in full (the guild is chunked), a member missing from it left; otherwise Discord is asked about each
    one not known."""
    if guild is None:
        return None
    tracked = app.settings.members_intent  # joins and leaves keep the member list up to date

    async def gone(member_ids: list[int]) -> list[int]:
        if tracked and guild.chunked:
            return [m for m in member_ids if guild.get_member(m) is None]
        left: list[int] = []
        for member_id in member_ids:
            if tracked and guild.get_member(member_id) is not None:
                continue
            try:
                await guild.fetch_member(member_id)
            except discord.NotFound:
                left.append(member_id)
        return left

    return gone


async def role_facts(interaction: discord.Interaction, role_id: int) -> RoleFacts | None:
    """The role as the server has it now (read fresh: its permissions may have changed since it was
    chosen), or None if it no longer exists."""
    assert interaction.guild_id is not None
    info = await DiscordModeration(interaction.client).role_info(interaction.guild_id, role_id)
    return None if info is None else RoleFacts(info.id, info.is_default, info.managed, info.permissions)


async def partners_page(
    app: App, guild: discord.Guild | None, guild_id: int, brand: Brand, scope: str, page: int
) -> tuple[discord.Embed, discord.ui.View]:
    lang = await app.lang(guild_id)
    found = await app.brands.partners_page(
        guild_id,
        brand_scopes(guild, brand, scope),
        page,
        per_page=PER_PAGE,
        gone=departures(app, guild),
    )
    page, pages, listings = found.page, found.pages, found.listings
    scope_shown = scope_text(lang, brand, scope, guild)
    title = i18n.t(lang, "brand.partners_title", brand=label(brand), scope=scope_shown)
    embed = discord.Embed(title=title[:256])
    if not listings and found.total:  # everyone read for this page had left the server
        embed.description = i18n.t(lang, "brand.partners_all_left")
    elif not listings:
        embed.description = i18n.t(lang, "brand.partners_empty")
    else:
        whys = [json.loads(e.why) for e in listings]
        topic = await channel_namer(app, guild_id, whys)  # a subreddit's topic by name, not a mention
        embed.description = "\n".join(
            i18n.t(
                lang,
                "brand.partners_line",
                position=page * PER_PAGE + i + 1,
                member=f"<@{e.member_id}>",
                why=render_why(why, lang, topic),
            )
            for i, (e, why) in enumerate(zip(listings, whys, strict=True))
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


async def apply_roles(app: App, interaction: discord.Interaction, change: BrandChange) -> int:
    """Make the role changes the brand service planned, so contacts hold the role only while approved.

    Returns how many changes Discord refused (missing Manage Roles or role hierarchy) or failed (a 5xx
    past discord.py's retries); a contact who left the server or a role that was deleted is skipped.
    """
    assert interaction.guild_id is not None
    if not (change.add or change.remove):
        return 0
    brand, lang = change.after, await app.lang(interaction.guild_id)
    http, failed = interaction.client.http, 0
    status = i18n.t(lang, f"brand.status_{brand.status}")
    reason = i18n.t(lang, "brand.role_reason", id=brand.id, status=status)  # shown in the audit log
    steps = [(http.remove_role, m, r) for m, r in change.remove]
    steps += [(http.add_role, m, r) for m, r in change.add]
    for call, member_id, role_id in steps:
        try:
            await call(interaction.guild_id, member_id, role_id, reason=reason)
        except discord.NotFound:
            pass
        except discord.HTTPException:  # refused (403), or Discord failing past discord.py's retries
            failed += 1  # the brand's status is saved already: the moderator is told, not shown an error
    return failed


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
            page_button(f"microvoice:brandpartners:{brand_id}:{scope}:{page}", disabled=disabled, emoji=emoji)
        )
        self.brand_id, self.scope, self.page = brand_id, scope, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PartnersPageButton:
        return cls(int(match["brand"]), match["scope"], int(match["page"]))

    async def run(self, interaction: discord.Interaction) -> None:
        app: App = interaction.client.app  # type: ignore[attr-defined]
        if interaction.guild_id is None:
            raise InvalidInput("error.button_guild_only")
        standing = await member_standing(interaction)
        brand = await app.brands.by_id(interaction.guild_id, self.brand_id, standing)
        app.brands.check_scope(brand, self.scope, standing)  # the custom_id is the client's to send
        await interaction.response.defer()  # a page may look up its members one by one
        embed, view = await partners_page(
            app, interaction.guild, interaction.guild_id, brand, self.scope, self.page
        )
        await interaction.edit_original_response(embed=embed, view=view)


class Brands(commands.Cog):
    brand = app_commands.Group(name="brand", description="Brands this community works with", guild_only=True)

    def __init__(self, app: App) -> None:
        self.app = app

    async def brand_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Only the brands the caller may see: discord.py runs no command check for autocomplete."""
        if interaction.guild_id is None:
            return []
        lang = await self.app.lang(interaction.guild_id)
        standing = await member_standing(interaction)
        return [
            app_commands.Choice(
                name=brand_choice(lang, b),
                value=f"#{b.id}",  # an id: a brand may be named like a number
            )
            for b in await self.app.brands.choices(interaction.guild_id, current, standing)
        ]

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
        contacts = [
            ContactFacts(u.id, u.bot, isinstance(u, discord.Member))
            for u in (contact, contact2, contact3)
            if u is not None
        ]
        topics = [t.id for t in (topic, topic2, topic3) if t is not None]
        with names_shown():  # the name is taken: show it escaped and isolated
            brand = await self.app.brands.register(
                interaction.guild_id, name, contacts, topics, by=interaction.user.id
            )
        await interaction.response.send_message(
            await self.app.say(
                interaction,
                "brand.registered",
                brand=label(brand),
                id=brand.id,
                contacts=i18n.join(
                    await self.app.lang(interaction.guild_id), (f"<@{c}>" for c in brand.contacts)
                ),
            ),
            ephemeral=True,
        )

    async def _transition(self, interaction: discord.Interaction, brand_text: str, action: str) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)  # one role call per contact
        brand = await resolve_brand(self.app, interaction.guild_id, brand_text)
        role = None
        if action == "approve":  # the contacts it makes managers are still here; the role checked again
            gone = departures(self.app, interaction.guild)
            brand = await self.app.brands.recheck_contacts(interaction.guild_id, brand, gone)
            if brand.role_id is not None:
                role = await role_facts(interaction, brand.role_id)
        change = await self.app.brands.transition(
            interaction.guild_id, brand, action, by=interaction.user.id, role=role
        )
        key = f"brand.done_{action}" if change.changed else "brand.changed_meanwhile"
        failed = await apply_roles(self.app, interaction, change)
        lang = await self.app.lang(interaction.guild_id)
        contacts = i18n.join(lang, (f"<@{c}>" for c in brand.contacts))
        text = await self.app.say(interaction, key, brand=label(brand), contacts=contacts)
        if change.withheld is not None:  # the role gained a dangerous permission since it was chosen
            text += "\n" + await self.app.say(interaction, "brand.role_withheld", role=f"<@&{brand.role_id}>")
        if failed:
            text += "\n" + await self.app.say(
                interaction, "brand.role_failed", count=failed, role=f"<@&{brand.role_id}>"
            )
        if change.changed and action in ("suspend", "remove"):
            # Its activations: those to come lapse at their start, those running are the moderator's call.
            live, upcoming = await self.app.activations.of_brand(interaction.guild_id, brand.id)
            if live:
                text += "\n" + await self.app.say(
                    interaction, "brand.still_live", count=len(live), ids=some_ids(live, lang)
                )
            if upcoming:
                text += "\n" + await self.app.say(
                    interaction, "brand.upcoming_lapse", count=len(upcoming), ids=some_ids(upcoming, lang)
                )
        # Saved already: the answer must reach the moderator whatever its length (many contacts).
        await interaction.followup.send(
            fit_lines(text.split("\n"), lambda _: "…", CONTENT_MAX), ephemeral=True
        )

    @brand.command(
        name="approve", description="Approve a brand: its contacts become brand managers (moderators)"
    )
    @app_commands.describe(brand="The brand")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand approve")
    async def approve(self, interaction: discord.Interaction, brand: str) -> None:
        await self._transition(interaction, brand, "approve")

    @brand.command(name="suspend", description="Suspend a brand: its managers lose access (moderators)")
    @app_commands.describe(brand="The brand")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand suspend")
    async def suspend(self, interaction: discord.Interaction, brand: str) -> None:
        await self._transition(interaction, brand, "suspend")

    @brand.command(name="remove", description="Remove a brand for good (moderators)")
    @app_commands.describe(brand="The brand")
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
        facts = None
        if role is not None:
            if not can_give(interaction, role):
                raise InvalidInput("brand.role_not_yours", role=role.mention)
            facts = RoleFacts(role.id, role.is_default(), role.managed, role.permissions.value)
        with names_shown():
            change = await self.app.brands.set_role(interaction.guild_id, found, facts)
        await interaction.response.defer(ephemeral=True, thinking=True)
        failed = await apply_roles(self.app, interaction, change)
        if role is None:
            text = await self.app.say(interaction, "brand.role_cleared", brand=label(found))
        else:
            text = await self.app.say(interaction, "brand.role_set", brand=label(found), role=role.mention)
        if failed:
            role_shown = role.mention if role else f"<@&{found.role_id}>"
            text += "\n" + await self.app.say(interaction, "brand.role_failed", count=failed, role=role_shown)
        await interaction.followup.send(text, ephemeral=True)

    @brand.command(name="contact-add", description="Add a contact to a brand (moderators)")
    @app_commands.describe(brand="The brand", member="A member who acts for the brand (not a bot)")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand contact-add")
    async def contact_add(self, interaction: discord.Interaction, brand: str, member: discord.User) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        await interaction.response.defer(ephemeral=True, thinking=True)  # contacts looked up; a role call
        found = await resolve_brand(self.app, guild_id, brand)
        found = await self.app.brands.recheck_contacts(
            guild_id, found, departures(self.app, interaction.guild)
        )
        role = None
        if found.status == "approved" and found.role_id is not None:  # checked again before it is given
            role = await role_facts(interaction, found.role_id)
        contact = ContactFacts(member.id, member.bot, isinstance(member, discord.Member))
        with names_shown():
            change = await self.app.brands.add_contact(
                guild_id, found, contact, by=interaction.user.id, role=role
            )
        await self._contact_changed(interaction, change, member.id, "brand.contact_added")

    @brand.command(name="contact-remove", description="Remove a contact from a brand (moderators)")
    @app_commands.describe(brand="The brand", member="The contact who no longer acts for the brand")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand contact-remove")
    async def contact_remove(
        self, interaction: discord.Interaction, brand: str, member: discord.User
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        await interaction.response.defer(ephemeral=True, thinking=True)  # contacts looked up; a role call
        found = await resolve_brand(self.app, guild_id, brand)
        # The others only: whether the one removed is still here does not matter.
        gone = departures(self.app, interaction.guild)
        found = await self.app.brands.recheck_contacts(guild_id, found, gone, skip=member.id)
        with names_shown():
            change = await self.app.brands.remove_contact(guild_id, found, member.id, by=interaction.user.id)
        await self._contact_changed(interaction, change, member.id, "brand.contact_removed")

    async def _contact_changed(
        self, interaction: discord.Interaction, change: BrandChange, member_id: int, key: str
    ) -> None:
        """The reply to a contact added or removed, with the role changes made and what they could not do."""
        assert interaction.guild_id is not None
        brand, lang = change.after, await self.app.lang(interaction.guild_id)
        failed = await apply_roles(self.app, interaction, change)
        if change.changed:
            status = i18n.t(lang, f"brand.status_{brand.status}")
            text = i18n.t(lang, key, member=f"<@{member_id}>", brand=label(brand), status=status)
        else:
            text = i18n.t(lang, "brand.changed_meanwhile", brand=label(brand))
        if change.withheld is not None:
            text += "\n" + i18n.t(lang, "brand.role_withheld", role=f"<@&{brand.role_id}>")
        if failed:
            text += "\n" + i18n.t(lang, "brand.role_failed", count=failed, role=f"<@&{brand.role_id}>")
        await interaction.followup.send(text, ephemeral=True)

    @brand.command(name="list", description="Brands of this server (moderators) or the ones you manage")
    @require_role("brand list")
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        lang = await self.app.lang(interaction.guild_id)
        brands = await self.app.brands.visible(interaction.guild_id, await member_standing(interaction))
        embed = discord.Embed(title=i18n.t(lang, "brand.list_title"))
        lines = [
            i18n.t(
                lang,
                "brand.list_line",
                id=b.id,
                brand=label(b),
                status=i18n.t(lang, f"brand.status_{b.status}"),
                contacts=i18n.join(lang, (f"<@{c}>" for c in b.contacts)),
            )
            for b in brands
        ]
        embed.description = fit_lines(
            lines, lambda count: i18n.t(lang, "brand.list_more", count=count)
        ) or i18n.t(lang, "brand.list_empty")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @brand.command(name="show", description="One brand's status, contacts and topics")
    @app_commands.describe(brand="The brand")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand show")
    async def show(self, interaction: discord.Interaction, brand: str) -> None:
        assert interaction.guild_id is not None
        standing = await member_standing(interaction)
        with names_shown():
            found = await self.app.brands.resolve_visible(interaction.guild_id, brand, standing)
        await interaction.response.defer(ephemeral=True, thinking=True)  # its contacts may be looked up
        gone = departures(self.app, interaction.guild)
        found = await self.app.brands.recheck_contacts(interaction.guild_id, found, gone)
        lang = await self.app.lang(interaction.guild_id)
        embed = discord.Embed(title=label(found))
        text = i18n.t(
            lang,
            "brand.show",
            id=found.id,
            status=i18n.t(lang, f"brand.status_{found.status}"),
            contacts=i18n.join(lang, (f"<@{c}>" for c in found.contacts)) or i18n.t(lang, "brand.no_contact"),
            topics=i18n.join(lang, (f"<#{t}>" for t in found.topics)) or i18n.t(lang, "voices.scope_all"),
            created=stamp(found.created_at),
            approved_by=f"<@{found.approved_by}>" if found.approved_by and found.approved_by > 0 else "—",
            role=f"<@&{found.role_id}>" if found.role_id else "—",
        )
        if found.left:  # contacts who left the server: moderators see why there are fewer
            gone = i18n.join(lang, (f"<@{m}> ({stamp(at)})" for m, at in found.left))
            text += "\n" + i18n.t(lang, "brand.contacts_left", members=gone)
        embed.description = text
        await interaction.followup.send(embed=embed, ephemeral=True)

    @brand.command(name="partners", description="Opted-in partners ranked by trust in a brand's topics")
    @app_commands.describe(brand="The brand (default: the one you manage)", topic="One channel or category")
    @app_commands.autocomplete(brand=brand_autocomplete)
    @require_role("brand partners")
    async def partners(
        self, interaction: discord.Interaction, brand: str | None = None, topic: TopicChannel | None = None
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        standing = await member_standing(interaction)
        with names_shown():
            named = None
            if brand is not None:
                named = await self.app.brands.resolve_visible(guild_id, brand, standing)
            found = await self.app.brands.for_partners(guild_id, named, standing)
        scope = "topics" if topic is None else scope_of(topic, topic.id)
        self.app.brands.check_scope(found, scope, standing)
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, view = await partners_page(self.app, interaction.guild, guild_id, found, scope, 0)
        await interaction.followup.send(embed=embed, view=view, ephemeral=True)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A contact who leaves (or is banned) stops being one. Needs the Server Members intent."""
        await self.app.brands.contact_left(payload.guild_id, payload.user.id)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    bot.add_dynamic_items(PartnersPageButton)
    await bot.add_cog(Brands(bot.app))
