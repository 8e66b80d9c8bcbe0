"""Brands a community works with: name validation and the moderator-controlled lifecycle. Pure.

A brand is registered *pending*; only moderators approve, suspend or remove it. Its contacts are brand
managers inside Microvoice while (and only while) the brand is approved.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.text import clean, clean_field, strip_invisible

NAME_MAX = 100
MAX_CONTACTS = 3
MAX_TOPICS = 3
#: Longest brand id a lookup reads as a number (SQLite integers are 64-bit).
ID_DIGITS = 18
STATUSES = ("pending", "approved", "suspended", "removed")

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"pending", "suspended"}), "approved"),
    "suspend": (frozenset({"pending", "approved"}), "suspended"),
    "remove": (frozenset({"pending", "approved", "suspended"}), "removed"),
}

# Mass pings, user/role/channel mentions and slash-command mentions in any spelling Discord parses.
_MENTION = re.compile(r"@(everyone|here)\b|<(@[!&]?|#|/[^:>]+:)\d+>", re.IGNORECASE)
# Direction marks are kept by the cleaner (right-to-left writers need them) but could split "@everyone"
# for a reader, so the mention check looks through them.
_MARKS = re.compile("[\u200e\u200f\u061c]")


def has_mention(text: str) -> bool:
    """True if the text would mention someone (or everyone) were mentions allowed."""
    return _MENTION.search(_MARKS.sub("", strip_invisible(text))) is not None


def clean_name(raw: str) -> str:
    """A brand name as stored: cleaned by `bot.text.clean` (one line; emoji sequences intact).

    Raises InvalidInput for an empty name, one longer than NAME_MAX, or one containing a mention.
    """
    name = clean_field(
        raw, max_len=NAME_MAX, too_short="brand.bad_name_empty", too_long="brand.bad_name_long"
    )
    if has_mention(name):
        raise InvalidInput("brand.bad_name_mention")
    return name


@dataclass(frozen=True)
class ContactFacts:
    member_id: int
    is_bot: bool
    in_server: bool = True


def check_contacts(contacts: Sequence[ContactFacts]) -> tuple[int, ...]:
    """Distinct human contacts in the order given. A bot, someone not in the server, or no contact at
    all is refused."""
    if not contacts:
        raise InvalidInput("brand.no_contacts")
    for contact in contacts:
        if contact.is_bot:
            raise InvalidInput("brand.contact_is_bot", member=f"<@{contact.member_id}>")
        if not contact.in_server:
            raise InvalidInput("brand.contact_not_member", member=f"<@{contact.member_id}>")
    ordered = tuple(dict.fromkeys(c.member_id for c in contacts))
    if len(ordered) > MAX_CONTACTS:
        raise InvalidInput("brand.too_many_contacts", max=MAX_CONTACTS)
    return ordered


def check_new_contact(contact: ContactFacts, contacts: Sequence[int]) -> None:
    """A member a moderator adds to a brand's contacts: a human in the server, not a contact already,
    and room for them (MAX_CONTACTS)."""
    member = f"<@{contact.member_id}>"
    if contact.is_bot:
        raise InvalidInput("brand.add_contact_bot", member=member)
    if not contact.in_server:
        raise InvalidInput("brand.add_contact_not_member", member=member)
    if contact.member_id in contacts:
        raise InvalidInput("brand.add_contact_already", member=member)
    if len(contacts) >= MAX_CONTACTS:
        raise InvalidInput("brand.add_contact_full", max=MAX_CONTACTS)


def check_contact_removal(member_id: int, contacts: Sequence[int], *, status: str) -> None:
    """A contact a moderator takes off a brand: one it has, and never the last one of an approved brand
    (it would be live with nobody to act for it; suspending it first says so on purpose)."""
    member = f"<@{member_id}>"
    if member_id not in contacts:
        raise InvalidInput("brand.remove_contact_unknown", member=member)
    if status == "approved" and len(contacts) == 1:
        raise InvalidInput("brand.remove_contact_last", member=member)


def next_status(action: str, current: str) -> str:
    """The state `action` leads to from `current`; InvalidInput if the move is not allowed."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise InvalidInput(f"brand.cannot_{action}", status=current)
    return target


# Characters that show nothing (Unicode's default-ignorable code points: direction marks, joiners,
# variation selectors, fillers, tags): a name with them looks the same as the name without them.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
# Greek and Cyrillic letters whose capital looks like a Latin letter, as the Latin letter (after
# casefolding): "Αcme" with a Greek Alpha is the same name as "Acme".
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("αβεζηικμνορτυχ", "abezhikmnoptyx", strict=True)),
        **dict(zip("авекмнорстхуѕіјԛԝү", "abekmhopctxysijqwy", strict=True)),
    }
)


def name_key(name: str) -> str:
    """What makes two brand names the same name: compatibility forms folded (NFKC: full-width
    "Ａｃｍｅ" is "acme"), case folded the Unicode way ("Straße" is "strasse", "Émile" is "émile"),
    invisible characters and direction marks dropped, Greek and Cyrillic look-alikes of Latin letters
    read as Latin, whitespace collapsed. Live brand names are unique per community by this key."""
    text = unicodedata.normalize("NFKC", _IGNORABLE.sub("", name))
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_LOOKALIKES)
    return " ".join(text.split())


def lookup_key(text: str) -> int | str:
    """A brand reference typed by a user: '#12' is the brand with id 12, anything else a `name_key`
    (a number without '#' is read as an id only when no brand has that name: `BrandService.resolve`)."""
    typed = clean(text)
    digits = typed.removeprefix("#")
    if typed.startswith("#") and digits.isdecimal() and len(digits) <= ID_DIGITS:
        return int(digits)
    return name_key(typed)


def id_fallback(key: int | str) -> int | None:
    """The brand id a name key also spells when it is a plain number ('12'), else None."""
    if isinstance(key, str) and key.isdecimal() and len(key) <= ID_DIGITS:
        return int(key)
    return None


# Permissions a brand role must not carry: moderation, server management, seeing the audit log and mass
# pings. A brand manager is a guest with a say in their own activations, never a moderator.
DANGEROUS_PERMISSIONS = (
    (1 << 1)  # kick members
    | (1 << 2)  # ban members
    | (1 << 3)  # administrator
    | (1 << 4)  # manage channels
    | (1 << 5)  # manage server
    | (1 << 7)  # view audit log
    | (1 << 13)  # manage messages
    | (1 << 17)  # mention @everyone
    | (1 << 22)  # mute members
    | (1 << 23)  # deafen members
    | (1 << 24)  # move members
    | (1 << 27)  # manage nicknames
    | (1 << 28)  # manage roles
    | (1 << 29)  # manage webhooks
    | (1 << 30)  # manage expressions
    | (1 << 33)  # manage events
    | (1 << 34)  # manage threads
    | (1 << 40)  # timeout members
    | (1 << 44)  # create events
    | (1 << 51)  # pin messages (split from Manage Messages)
    | (1 << 52)  # bypass slowmode
)


def check_brand_role(*, is_default: bool, managed: bool, permissions: int, is_mod_role: bool = False) -> None:
    """A role moderators may give brand contacts: not @everyone, not a bot's, nothing dangerous, and
    not the server's Microvoice moderator role (it makes moderators of whoever holds it, whatever its
    Discord permissions)."""
    if is_default or managed:
        raise InvalidInput("brand.role_unusable")
    if is_mod_role:
        raise InvalidInput("brand.role_is_moderator")
    if permissions & DANGEROUS_PERMISSIONS:
        raise InvalidInput("brand.role_too_powerful")


def role_changes(
    contacts: Sequence[int], *, status: str, role_id: int | None, previous_role_id: int | None
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(member, role) pairs to add and to remove so contacts hold the brand role only while approved."""
    wanted = role_id if status == "approved" else None
    add = [(m, wanted) for m in contacts] if wanted is not None else []
    remove: list[tuple[int, int]] = []
    for old in {previous_role_id, role_id} - {None, wanted}:
        assert old is not None
        remove.extend((m, old) for m in contacts)
    return add, remove


def scope_allowed(scope: str, topics: Sequence[int], *, moderator: bool) -> bool:
    """Whether a caller may rank a brand's partners in `scope` ('topics', 'all', 'channel:<id>' or
    'category:<id>'): moderators anywhere; a brand manager only in the brand's topics, one of them or
    all together (the whole server when the brand has none)."""
    if moderator or scope == "topics":
        return True
    kind, _, ident = scope.partition(":")
    return kind in ("channel", "category") and ident.isdecimal() and int(ident) in topics
