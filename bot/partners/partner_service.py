"""The partner program as a service: terms, consent, leaving, and who holds which Microvoice role.

Every opt-in and opt-out goes through here, so the append-only consent log and the partners table never
disagree; brand-facing lists read the partners table at query time, so leaving takes effect at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot import i18n
from bot.partners.rules import Partner, Terms, clean_terms, default_terms, needs_consent
from bot.roles import Standing

if TYPE_CHECKING:  # the store imports this package for `Partner` and `Terms`
    from bot.audit import AuditLog
    from bot.community import CommunityService
    from bot.store import Store

log = logging.getLogger(__name__)

#: Why a partnership ended without the member asking: they left the server, or were banned from it.
ENDED_BY_COMMUNITY = frozenset({"left_server", "banned"})


@dataclass(frozen=True)
class JoinOffer:
    """What `/partner join` shows: the current terms, and the member's partnership if they have one."""

    terms: Terms
    partner: Partner | None

    @property
    def needs_consent(self) -> bool:
        return needs_consent(self.partner, self.terms)


@dataclass(frozen=True)
class PartnerStatus:
    """What a member agreed to and since when; `newer_version` is set when newer terms exist."""

    partner: Partner | None
    accepted_at: str | None
    newer_version: int | None


class PartnerService:
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

    async def terms(self, community_id: int) -> Terms:
        """The terms in force: the latest version moderators wrote, or the built-in default (version 0)."""
        return await self.store.current_terms(community_id) or default_terms(
            await self.communities.lang(community_id)
        )

    async def offer(self, community_id: int, member_id: int) -> JoinOffer:
        partner = await self.store.get_partner(community_id, member_id)
        return JoinOffer(await self.terms(community_id), partner)

    async def accept(
        self, community_id: int, member_id: int, version: int, *, lang: str | None = None
    ) -> bool:
        """Join (or renew) under `version`; False if those terms are no longer the current ones. The
        consent record keeps the text accepted: for the built-in default, as shown in `lang` (the
        language it was shown in; the community's when not known)."""
        if lang not in i18n.LANGUAGES:
            lang = await self.communities.lang(community_id)
        shown = default_terms(lang).body
        if not await self.store.accept_terms(
            community_id, member_id, version, now=self.clock(), default_text=shown
        ):
            return False
        log.info("member %s joined the partner program of %s (terms v%s)", member_id, community_id, version)
        return True

    async def decline(self, community_id: int, member_id: int, version: int) -> Partner | None:
        """The member declines terms `version`. Declining never ends a partnership: a partner who
        declines newer terms stays one under the terms they accepted (leaving is `/partner leave`).

        Returns that partnership while it is active, None when the member is not a partner. A Decline
        clicked after the member accepted these (or newer) terms elsewhere records nothing.
        """
        partner = await self.store.get_partner(community_id, member_id)
        active = partner if partner is not None and partner.active else None
        if active is None or active.terms_version < version:
            await self.store.log_consent(community_id, member_id, "declined", version, now=self.clock())
        return active

    async def set_terms(self, community_id: int, body: str, *, by: int) -> int:
        """A new version of the terms (checked by `clean_terms`); partners keep the one they accepted."""
        version = await self.store.add_terms(community_id, clean_terms(body), by=by, now=self.clock())
        if self.audit is not None:
            await self.audit.record(community_id, "terms", by=by, version=version)
        return version

    async def leave(self, community_id: int, member_id: int) -> bool:
        """The member leaves at once; False if they were not a partner."""
        return await self.store.end_partnership(community_id, member_id, "left", now=self.clock())

    async def end(self, community_id: int, member_id: int, reason: str) -> bool:
        """End a partnership because the member left the community or was banned from it."""
        if reason not in ENDED_BY_COMMUNITY:
            raise ValueError(f"unknown reason {reason!r}")
        ended = await self.store.end_partnership(community_id, member_id, reason, now=self.clock())
        if ended:
            log.info("partner %s of %s: partnership ended (%s)", member_id, community_id, reason)
        return ended

    async def status(self, community_id: int, member_id: int) -> PartnerStatus:
        partner = await self.store.get_partner(community_id, member_id)
        if partner is None or not partner.active:
            return PartnerStatus(partner, None, None)
        history = await self.store.consent_history(community_id, member_id)
        accepted = next(
            (
                e.at
                for e in reversed(history)
                if e.action == "accepted" and e.terms_version == partner.terms_version
            ),
            partner.opted_in_at,
        )
        current = await self.terms(community_id)
        newer = current.version if current.version > partner.terms_version else None
        return PartnerStatus(partner, accepted, newer)

    async def standing(self, community_id: int, member_id: int, *, moderator: bool) -> Standing:
        """The member's Microvoice roles here; whether they moderate is a platform fact the caller knows."""
        return Standing(
            moderator=moderator,
            managed_brands=tuple(await self.store.managed_brand_ids(community_id, member_id)),
            partner=await self.store.is_partner(community_id, member_id),
        )
