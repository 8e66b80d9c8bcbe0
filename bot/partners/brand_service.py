"""Brands as a service: the moderator-controlled lifecycle and the brand view of opted-in partners.

A brand is registered pending; only moderators approve, suspend or remove it, each a guarded transition
(a double click never repeats it), and add or remove its contacts. While approved, its contacts are brand
managers for it alone; a contact who leaves the server stops being one for good. The
Discord role moderators may give contacts is returned as a plan (who gets or loses which role) for the
platform adapter to apply. Activations of a brand that stops being approved are cancelled by the
activation engine when they would go live.

Names in errors are the raw text: the adapter escapes them for its platform.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot import i18n
from bot.errors import Forbidden, InvalidInput
from bot.partners.brands import (
    MAX_CONTACTS,
    MAX_TOPICS,
    ContactFacts,
    check_brand_role,
    check_contact_removal,
    check_contacts,
    check_new_contact,
    clean_name,
    id_fallback,
    lookup_key,
    name_key,
    next_status,
    role_changes,
    scope_allowed,
)
from bot.roles import Standing

if TYPE_CHECKING:  # the store imports this package for `Partner` and `Terms`
    from bot.audit import AuditLog
    from bot.community import CommunityService
    from bot.store import Brand, PartnerListing, Store

log = logging.getLogger(__name__)

#: Autocomplete shows at most this many brands (Discord's limit for choices).
MAX_CHOICES = 25
#: A partners page is read at most this many times while members listed on it turn out to have left.
MAX_READS = 5

RoleChange = tuple[int, int]  # (member id, role id)


@dataclass(frozen=True)
class RoleFacts:
    """A platform role as the brand-role rule needs it."""

    id: int
    is_default: bool
    managed: bool
    permissions: int


@dataclass(frozen=True)
class BrandChange:
    """The brand before and after a change, and the role changes the platform should now make.

    `withheld` names why the brand role is not given although the brand is approved (a catalog key:
    the role gained a dangerous permission, or became unusable, since it was chosen).
    """

    before: Brand
    after: Brand
    changed: bool
    add: tuple[RoleChange, ...] = ()
    remove: tuple[RoleChange, ...] = ()
    withheld: str | None = None


@dataclass(frozen=True)
class PartnersPage:
    listings: list[PartnerListing]
    page: int
    pages: int
    total: int


#: Given member ids, the ones no longer in the community (a platform lookup).
GoneLookup = Callable[[list[int]], Awaitable[list[int]]]


class BrandService:
    def __init__(
        self,
        store: Store,
        communities: CommunityService,
        *,
        clock: Callable[[], datetime],
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.communities = communities
        self.clock = clock
        self.audit = audit

    # -- finding brands ---------------------------------------------------------------------------

    async def resolve(self, community_id: int, text: str) -> Brand:
        """A brand named by a user: '#12', or its name (`name_key`: case, width, invisible characters
        and look-alike letters do not matter); a plain number is an id only when no brand has that
        name. InvalidInput if there is none."""
        key = lookup_key(text)
        brand = await self.store.find_brand(community_id, key)
        if brand is None and (brand_id := id_fallback(key)) is not None:
            brand = await self.store.get_brand(community_id, brand_id)
        if brand is None:
            raise InvalidInput("brand.unknown", name=text[:100])
        return brand

    async def resolve_visible(self, community_id: int, text: str, standing: Standing) -> Brand:
        """`resolve`, for a caller who may see only some brands: one they may not see is as unknown
        as one that does not exist (a brand manager could otherwise learn which names, pending deals
        among them, and which ids exist)."""
        brand = await self.resolve(community_id, text)
        if not standing.moderator and brand.id not in standing.managed_brands:
            raise InvalidInput("brand.unknown", name=text[:100])
        return brand

    async def choices(self, community_id: int, typed: str, standing: Standing) -> list[Brand]:
        """Brands the caller may see (`visible`) whose name contains what they typed so far."""
        wanted = name_key(typed)
        brands = await self.visible(community_id, standing)
        return [b for b in brands if wanted in name_key(b.name)][:MAX_CHOICES]

    async def visible(self, community_id: int, standing: Standing) -> list[Brand]:
        """Every brand (not removed) for moderators; for a brand manager, the brands they manage;
        nothing for anyone else."""
        brands = await self.store.list_brands(community_id)
        if standing.moderator:
            return brands
        return [b for b in brands if b.id in standing.managed_brands]

    @staticmethod
    def check_access(brand: Brand, standing: Standing) -> None:
        """Moderators see every brand; a brand manager only the approved brands they are a contact of."""
        if not standing.moderator and brand.id not in standing.managed_brands:
            raise Forbidden("error.not_your_brand")

    async def for_partners(self, community_id: int, brand: Brand | None, standing: Standing) -> Brand:
        """The brand `/brand partners` lists for: the one named, or the only one the caller manages."""
        if brand is None:
            if len(standing.managed_brands) != 1:
                raise InvalidInput("brand.which")
            brand = await self.store.get_brand(community_id, standing.managed_brands[0])
            assert brand is not None
        if brand.status == "removed":
            raise InvalidInput("brand.unknown", name=brand.name)
        self.check_access(brand, standing)
        return brand

    @staticmethod
    def check_scope(brand: Brand, scope: str, standing: Standing) -> None:
        """Brand managers rank partners in the brand's topics only (moderators anywhere)."""
        if not scope_allowed(scope, brand.topics, moderator=standing.moderator):
            raise Forbidden("brand.topic_not_yours")

    async def by_id(self, community_id: int, brand_id: int, standing: Standing) -> Brand:
        """A brand by id for a caller who may see it (a removed brand is unknown)."""
        brand = await self.store.get_brand(community_id, brand_id)
        if brand is None or brand.status == "removed":
            raise InvalidInput("brand.unknown", name=f"#{brand_id}")
        self.check_access(brand, standing)
        return brand

    # -- lifecycle --------------------------------------------------------------------------------

    async def register(
        self,
        community_id: int,
        name: str,
        contacts: Sequence[ContactFacts],
        topics: Sequence[int],
        *,
        by: int,
    ) -> Brand:
        """A pending brand: a clean name, human contacts in the server, up to MAX_TOPICS topics."""
        clean = clean_name(name)
        members = check_contacts(contacts)
        chosen = tuple(dict.fromkeys(topics))[:MAX_TOPICS]
        brand = await self.store.create_brand(community_id, clean, members, chosen, by=by, now=self.clock())
        log.info("brand %s registered in %s by %s", brand.id, community_id, by)
        return brand

    async def transition(
        self, community_id: int, brand: Brand, action: str, *, by: int, role: RoleFacts | None = None
    ) -> BrandChange:
        """approve, suspend or remove; `changed` is False if someone changed the brand meanwhile.

        `role` is the brand's role as the platform sees it now (the platform adapter looks it up before
        an approval; a role that no longer exists is skipped when the changes are applied). It is
        checked again before it is given: a role that gained a dangerous permission since it was chosen
        is withheld (`withheld` says why), never given.
        """
        try:
            target = next_status(action, brand.status)
        except InvalidInput as exc:
            lang = await self.communities.lang(community_id)
            raise InvalidInput(exc.key, status=i18n.t(lang, f"brand.status_{brand.status}")) from exc
        changed = await self.store.set_brand_status(
            community_id, brand.id, expected=brand.status, status=target, by=by, now=self.clock()
        )
        log.info("brand %s in %s: %s by %s (%s)", brand.id, community_id, action, by, changed)
        if not changed:
            return BrandChange(brand, brand, False)
        if self.audit is not None:
            await self.audit.record(community_id, f"brand_{action}", by=by, name=brand.name, id=brand.id)
        after = await self.store.get_brand(community_id, brand.id)
        assert after is not None
        if brand.role_id is None:
            return BrandChange(brand, after, True)
        return await self._with_roles(community_id, brand, after, role)

    async def set_role(self, community_id: int, brand: Brand, role: RoleFacts | None) -> BrandChange:
        """Choose (or clear) the role contacts hold while the brand is approved; never a powerful one."""
        if brand.status == "removed":
            raise InvalidInput("brand.unknown", name=brand.name)
        if role is not None:
            check_brand_role(
                is_default=role.is_default,
                managed=role.managed,
                permissions=role.permissions,
                is_mod_role=role.id == await self._mod_role(community_id),
            )
            if await self.store.scalar(
                "SELECT 1 FROM voice_roles WHERE community_id = :c AND role_id = :r LIMIT 1",
                dict(c=community_id, r=role.id),
            ):
                # trusted voices hold it: the voice role's sync would take it from the brand's contacts
                raise InvalidInput("brand.role_is_voice_role")
        await self.store.set_brand_role(community_id, brand.id, role.id if role else None, now=self.clock())
        after = await self.store.get_brand(community_id, brand.id)
        assert after is not None
        return await self._with_roles(community_id, brand, after, role)

    async def _mod_role(self, community_id: int) -> int | None:
        return (await self.store.get_settings(community_id)).mod_role_id

    async def _with_roles(
        self, community_id: int, before: Brand, after: Brand, role: RoleFacts | None
    ) -> BrandChange:
        add, remove = role_changes(
            after.contacts, status=after.status, role_id=after.role_id, previous_role_id=before.role_id
        )
        if remove:
            # A role another approved brand gives the same contact stays: they still manage that one.
            kept = await self.store.roles_held_through_other_brands(community_id, after.id)
            remove = [(m, r) for m, r in remove if (m, r) not in kept]
        withheld = None
        if add and role is not None and role.id == after.role_id:
            withheld = await self._role_refusal(community_id, role)
            if withheld is not None:
                add = []
        return BrandChange(before, after, True, tuple(add), tuple(remove), withheld)

    # -- contacts ---------------------------------------------------------------------------------

    async def add_contact(
        self,
        community_id: int,
        brand: Brand,
        contact: ContactFacts,
        *,
        by: int,
        role: RoleFacts | None = None,
    ) -> BrandChange:
        """A moderator adds a contact (`check_new_contact`); one who had left the server is no longer
        listed as gone. Of an approved brand with a role, the new contact gets it (`role` as the platform
        sees it now, checked again as on approval; `withheld` says why not). `changed` is False if the
        brand changed meanwhile (removed, or filled up)."""
        if brand.status == "removed":
            raise InvalidInput("brand.unknown", name=brand.name)
        check_new_contact(contact, brand.contacts)
        member_id = contact.member_id
        added = await self.store.add_brand_contact(community_id, brand.id, member_id, limit=MAX_CONTACTS)
        log.info("brand %s in %s: contact added by %s (%s)", brand.id, community_id, by, added)
        if not added:
            return BrandChange(brand, brand, False)
        after = await self._contact_changed(community_id, brand, "brand_contact_add", member_id, by=by)
        add: list[RoleChange] = []
        withheld = None
        if after.status == "approved" and after.role_id is not None:
            add = [(member_id, after.role_id)]
            if role is not None and role.id == after.role_id:
                withheld = await self._role_refusal(community_id, role)
                if withheld is not None:
                    add = []
        return BrandChange(brand, after, True, tuple(add), (), withheld)

    async def remove_contact(
        self, community_id: int, brand: Brand, member_id: int, *, by: int
    ) -> BrandChange:
        """A moderator takes a contact off a brand (`check_contact_removal`: never the last one of an
        approved brand). They lose the brand's role unless another approved brand gives them the same
        one. `changed` is False if the brand changed meanwhile."""
        if brand.status == "removed":
            raise InvalidInput("brand.unknown", name=brand.name)
        check_contact_removal(member_id, brand.contacts, status=brand.status)
        removed = await self.store.remove_brand_contact(community_id, brand.id, member_id)
        log.info("brand %s in %s: contact removed by %s (%s)", brand.id, community_id, by, removed)
        if not removed:
            return BrandChange(brand, brand, False)
        after = await self._contact_changed(community_id, brand, "brand_contact_remove", member_id, by=by)
        remove: list[RoleChange] = []
        if after.status == "approved" and after.role_id is not None:
            kept = await self.store.roles_held_through_other_brands(community_id, after.id)
            if (member_id, after.role_id) not in kept:
                remove = [(member_id, after.role_id)]
        return BrandChange(brand, after, True, (), tuple(remove))

    async def _contact_changed(
        self, community_id: int, brand: Brand, event: str, member_id: int, *, by: int
    ) -> Brand:
        """The audit line of a contact added or removed, and the brand as it is now."""
        if self.audit is not None:
            await self.audit.record(
                community_id, event, by=by, member=member_id, id=brand.id, name=brand.name
            )
        after = await self.store.get_brand(community_id, brand.id)
        assert after is not None
        return after

    async def recheck_contacts(
        self, community_id: int, brand: Brand, gone: GoneLookup | None, *, skip: int | None = None
    ) -> Brand:
        """The brand with its contacts no longer in the community (`gone`, a platform lookup) treated as
        having left (`contact_left`): without the Server Members intent, or while the bot was offline, no
        leave event told it. `skip` is not asked about (the contact a moderator is removing anyway)."""
        asked = [m for m in brand.contacts if m != skip]
        left = await gone(asked) if gone is not None and asked else []
        for member_id in left:
            await self.contact_left(community_id, member_id)
        if not left:
            return brand
        after = await self.store.get_brand(community_id, brand.id)
        assert after is not None
        return after

    async def _role_refusal(self, community_id: int, role: RoleFacts) -> str | None:
        """Why `role` must not be given as a brand role now (a catalog key), or None."""
        try:
            check_brand_role(
                is_default=role.is_default,
                managed=role.managed,
                permissions=role.permissions,
                is_mod_role=role.id == await self._mod_role(community_id),
            )
        except InvalidInput as exc:
            return exc.key
        return None

    async def contact_left(self, community_id: int, member_id: int) -> list[int]:
        """The member left the server: they are no longer a contact (nor a manager) of any of its
        brands, and rejoining does not make them one again. Each brand's departure is in the audit log
        and `brand show`. The ids of the brands they were a contact of."""
        brand_ids = await self.store.contact_left(community_id, member_id, now=self.clock())
        if self.audit is not None:
            for brand_id in brand_ids:
                brand = await self.store.get_brand(community_id, brand_id)
                if brand is not None:
                    await self.audit.record(
                        community_id, "brand_contact_left", member=member_id, id=brand.id, name=brand.name
                    )
        if brand_ids:
            log.info("a contact of %d brands left community %s", len(brand_ids), community_id)
        return brand_ids

    async def contact_roles(self, community_id: int, member_id: int) -> list[int]:
        """The brand roles a member may hold as a brand contact (taken back before they are erased)."""
        return await self.store.contact_brand_roles(community_id, member_id)

    # -- the brand view of partners ---------------------------------------------------------------

    async def partners_page(
        self,
        community_id: int,
        scopes: Sequence[str],
        page: int,
        *,
        per_page: int,
        gone: GoneLookup | None = None,
    ) -> PartnersPage:
        """Opted-in partners only, ranked by their best trust among `scopes`, one page of them.

        `gone` names the listed members who are no longer in the community (a platform lookup, asked
        about each member once): their partner status ends and the page is read again, at most
        MAX_READS times. A member found gone is never on the page returned, even when the last read
        still found some (the page is then shorter).
        """
        page = max(0, page)
        listings: list[PartnerListing] = []
        total = 0
        checked: set[int] = set()
        left: list[int] = []
        for _ in range(MAX_READS):
            listings, total = await self.store.partner_ranking(
                community_id, scopes, offset=page * per_page, limit=per_page
            )
            last = max(0, math.ceil(total / per_page) - 1)
            if page > last:  # the list shrank since this page was asked for
                page = last
                listings, total = await self.store.partner_ranking(
                    community_id, scopes, offset=page * per_page, limit=per_page
                )
            unchecked = [e.member_id for e in listings if e.member_id not in checked]
            left = await gone(unchecked) if gone is not None and unchecked else []
            checked.update(unchecked)
            for member_id in left:
                await self.store.end_partnership(community_id, member_id, "left_server", now=self.clock())
            if not left:
                break
        if left:  # still finding departures after the last read: leave them out of this page
            listings = [e for e in listings if e.member_id not in left]
            total -= len(left)
        return PartnersPage(listings, page, max(1, math.ceil(total / per_page)), total)
