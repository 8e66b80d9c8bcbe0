"""Partner programs and brands: the rules (pure) and the services the cogs call.

- `rules`: versioned partner terms, who must consent again.
- `brands`: brand names, contacts, the moderator-controlled lifecycle, brand roles.
- `PartnerService`: terms, join/leave/status with the append-only consent log, who holds which role.
- `BrandService`: register, approve, suspend, remove, contacts added, removed or gone, roles as a plan,
  and the brand view of partners.

Activations of a brand that is no longer approved are cancelled by the activation engine when they
would go live; nothing here reaches into it.
"""

from __future__ import annotations

from bot.partners.brand_service import (
    BrandChange,
    BrandService,
    GoneLookup,
    PartnersPage,
    RoleFacts,
)
from bot.partners.brands import (
    MAX_CONTACTS,
    MAX_TOPICS,
    NAME_MAX,
    ContactFacts,
    check_brand_role,
    check_contact_removal,
    check_contacts,
    check_new_contact,
    clean_name,
    has_mention,
    lookup_key,
    name_key,
    next_status,
    role_changes,
    scope_allowed,
    strip_invisible,
)
from bot.partners.partner_service import JoinOffer, PartnerService, PartnerStatus
from bot.partners.rules import TERMS_MAX, TERMS_MIN, Partner, Terms, clean_terms, default_terms, needs_consent

__all__ = [
    "MAX_CONTACTS",
    "MAX_TOPICS",
    "NAME_MAX",
    "TERMS_MAX",
    "TERMS_MIN",
    "BrandChange",
    "BrandService",
    "ContactFacts",
    "GoneLookup",
    "JoinOffer",
    "Partner",
    "PartnerService",
    "PartnerStatus",
    "PartnersPage",
    "RoleFacts",
    "Terms",
    "check_brand_role",
    "check_contact_removal",
    "check_contacts",
    "check_new_contact",
    "clean_name",
    "clean_terms",
    "default_terms",
    "has_mention",
    "lookup_key",
    "name_key",
    "needs_consent",
    "next_status",
    "role_changes",
    "scope_allowed",
    "strip_invisible",
]
