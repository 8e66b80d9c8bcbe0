"""Partner programs: members opt in to being seen by brands under versioned terms. Pure.

Version 0 is the built-in default text in the community's language; moderators write versions 1, 2, ...
A partner stays a partner under the version they accepted; newer terms are offered on `/partner join`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n
from bot.errors import InvalidInput
from bot.partners.brands import has_mention
from bot.text import clean_field

TERMS_MAX = 4000
TERMS_MIN = 20


@dataclass(frozen=True)
class Terms:
    version: int
    body: str
    created_at: str | None  # None for the built-in default


@dataclass(frozen=True)
class Partner:
    community_id: int
    member_id: int
    terms_version: int
    opted_in_at: str
    opted_out_at: str | None

    @property
    def active(self) -> bool:
        return self.opted_out_at is None


def default_terms(lang: str) -> Terms:
    return Terms(0, i18n.t(lang, "partner.default_terms"), None)


def clean_terms(raw: str) -> str:
    """Terms text as stored: cleaned by `bot.text.clean` (multi-line), trailing spaces trimmed per line.

    Refused (InvalidInput): shorter than TERMS_MIN or longer than TERMS_MAX characters, or containing
    a mention (@everyone, @here, a user, role or channel mention): terms are shown to every member who
    runs /partner join and must never ping anyone.
    """
    text = clean_field(
        raw,
        min_len=TERMS_MIN,
        max_len=TERMS_MAX,
        multiline=True,
        too_short="partner.bad_terms_short",
        too_long="partner.bad_terms_long",
    )
    if has_mention(text):
        raise InvalidInput("partner.bad_terms_mention")
    return text


def needs_consent(partner: Partner | None, current: Terms) -> bool:
    """Whether `/partner join` should offer the terms (not a partner, or partner under older terms)."""
    return partner is None or not partner.active or partner.terms_version < current.version
