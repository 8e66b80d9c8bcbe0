"""Microvoice roles and the permission matrix: who may run which command. Pure data and logic.

The matrix is the single source of truth: cogs check it server-side on every call (Discord's default
command permissions are only a hint a server admin can override), docs/permissions.md renders it, and a
unit test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MODERATOR = "moderator"
    BRAND_MANAGER = "brand_manager"
    PARTNER = "partner"
    MEMBER = "member"


ROLE_ORDER: tuple[Role, ...] = (Role.MODERATOR, Role.BRAND_MANAGER, Role.PARTNER, Role.MEMBER)
EVERYONE = frozenset(ROLE_ORDER)
MODERATORS = frozenset({Role.MODERATOR})
MANAGERS = frozenset({Role.MODERATOR, Role.BRAND_MANAGER})

#: command (qualified name) -> roles allowed to run it. A member may hold several roles at once.
MATRIX: dict[str, frozenset[Role]] = {
    "partner join": EVERYONE,
    "partner leave": frozenset({Role.PARTNER}),
    "partner status": EVERYONE,
    "partner terms": EVERYONE,
    "partner set-terms": MODERATORS,
    "brand register": MODERATORS,
    "brand approve": MODERATORS,
    "brand suspend": MODERATORS,
    "brand remove": MODERATORS,
    "brand role": MODERATORS,
    "brand contact-add": MODERATORS,
    "brand contact-remove": MODERATORS,
    "brand list": frozenset({Role.MODERATOR, Role.BRAND_MANAGER}),
    "brand show": frozenset({Role.MODERATOR, Role.BRAND_MANAGER}),
    "brand partners": frozenset({Role.MODERATOR, Role.BRAND_MANAGER}),
    "privacy export": EVERYONE,
    "privacy forget": EVERYONE,
    "privacy forget-member": MODERATORS,
    # A member's own, opt-in link to a Reddit account (cogs/subreddits.py; only when Reddit is configured).
    "link reddit": EVERYONE,
    "link status": EVERYONE,
    "link remove": EVERYONE,
    "help": EVERYONE,
    # Commands of other cogs, checked there with the same rule (moderator = Manage Server or the role).
    "microvoice setup": MODERATORS,
    "microvoice status": MODERATORS,
    "microvoice audit": MODERATORS,
    # Subreddits bound to the server's community (cogs/subreddits.py; only when Reddit is configured).
    "microvoice reddit add": MODERATORS,
    "microvoice reddit remove": MODERATORS,
    "microvoice reddit list": MODERATORS,
    "microvoice reddit flair": MODERATORS,
    "microvoice reddit voices": MODERATORS,
    "voices top": MODERATORS,
    "voices member": MODERATORS,
    "voices me": EVERYONE,
    "voices recompute": MODERATORS,
    "voices override": MODERATORS,
    "voices role": MODERATORS,
    # Brand activations (cogs/activations.py, qa.py, takeover.py, giveaway.py).
    "activation create qa": MANAGERS,
    "activation create giveaway": MANAGERS,
    "activation create takeover": MANAGERS,
    # In a bound subreddit (cogs/reddit_activations.py; only when Reddit is configured).
    "activation create reddit-qa": MANAGERS,
    "activation create reddit-giveaway": MANAGERS,
    "activation create reddit-announcement": MANAGERS,
    "activation approve": MODERATORS,
    "activation reject": MODERATORS,
    "activation cancel": MANAGERS,
    "activation list": MANAGERS,
    "activation show": MANAGERS,
    "activation retry": MODERATORS,
    "activation reroll": MODERATORS,
    "activation codes": MANAGERS,
    "activation redemptions": MANAGERS,
    # Giveaway controls (cogs/giveaway_controls.py): community giveaways are the moderators' own.
    "giveaway create": MODERATORS,
    "giveaway end": MODERATORS,
    "giveaway list": EVERYONE,
    # Reports (cogs/report.py): aggregates only, figures about fewer than k members hidden.
    "report community": MODERATORS,
    "report activation": MANAGERS,
    # An answer is posted as the brand's ("Acme answers:"), so only the brand's own managers give it.
    "qa answer": frozenset({Role.BRAND_MANAGER}),
    # Only the member taking the channel over posts, and a taker is a partner or a brand manager.
    "takeover post": frozenset({Role.BRAND_MANAGER, Role.PARTNER}),
}

#: Commands whose brand-manager permission is limited to the brands the caller manages (the cog checks
#: the brand of the named brand, activation or question and refuses any other one).
OWN_BRAND_ONLY = frozenset(
    {
        "brand list",
        "brand show",
        "brand partners",
        "activation create qa",
        "activation create giveaway",
        "activation create takeover",
        "activation create reddit-qa",
        "activation create reddit-giveaway",
        "activation create reddit-announcement",
        "activation cancel",
        "activation list",
        "activation show",
        "activation codes",
        "activation redemptions",
        "report activation",
        "qa answer",
    }
)

#: Commands that exist only when Reddit is configured (a Discord-only bot registers none of them).
REDDIT_ONLY = frozenset(
    {
        "link reddit",
        "link status",
        "link remove",
        "microvoice reddit add",
        "microvoice reddit remove",
        "microvoice reddit list",
        "microvoice reddit flair",
        "microvoice reddit voices",
        "activation create reddit-qa",
        "activation create reddit-giveaway",
        "activation create reddit-announcement",
    }
)

#: Commands only the taker of a live takeover in that channel may run (whatever else they are).
TAKER_ONLY = frozenset({"takeover post"})

#: The message a refused caller sees, by the role that would have let them in.
REFUSAL_KEYS: dict[Role, str] = {
    Role.MODERATOR: "error.moderator_only",
    Role.BRAND_MANAGER: "error.brand_manager_only",
    Role.PARTNER: "error.partner_only",
}


@dataclass(frozen=True)
class Standing:
    """What one member is in one community, from facts the caller gathered."""

    moderator: bool
    managed_brands: tuple[int, ...]
    partner: bool

    @property
    def roles(self) -> frozenset[Role]:
        roles = {Role.MEMBER}
        if self.moderator:
            roles.add(Role.MODERATOR)
        if self.managed_brands:
            roles.add(Role.BRAND_MANAGER)
        if self.partner:
            roles.add(Role.PARTNER)
        return frozenset(roles)


def allowed(command: str, roles: Collection[Role]) -> bool:
    return bool(MATRIX[command] & set(roles))


def cell(command: str, role: Role) -> str:
    """One cell of the matrix: "yes", "—" (refused), or the limit the cog enforces ("own brands")."""
    if role not in MATRIX[command]:
        return "—"
    if role is Role.BRAND_MANAGER and command in OWN_BRAND_ONLY:
        return "own brands"
    if role in (Role.BRAND_MANAGER, Role.PARTNER) and command in TAKER_ONLY:
        return "the taker"
    return "yes"


def refusal_key(command: str) -> str:
    """The catalog key explaining a refusal: names the role(s) that would have been allowed."""
    wanted = set(MATRIX[command])
    if command in TAKER_ONLY:
        return "error.taker_only"
    if wanted == {Role.MODERATOR, Role.BRAND_MANAGER}:
        return "error.brand_or_moderator_only"
    for role in (Role.PARTNER, Role.BRAND_MANAGER, Role.MODERATOR):
        if role in wanted:
            return REFUSAL_KEYS[role]
    return "error.forbidden"


#: The order `/help` shows its groups in: what everyone may run first, then what each role adds.
HELP_ORDER: tuple[Role, ...] = (Role.MEMBER, Role.PARTNER, Role.BRAND_MANAGER, Role.MODERATOR)


def help_sections(
    roles: Collection[Role], registered: Collection[str] | None = None
) -> list[tuple[Role, list[str]]]:
    """The commands a member holding `roles` may run, grouped by role, in matrix order: each command once,
    under the first role of `HELP_ORDER` the member holds that allows it; empty groups are left out.
    With `registered`, only those commands (a Discord-only bot has no Reddit command to offer)."""
    held = [role for role in HELP_ORDER if role in roles]
    sections: dict[Role, list[str]] = {role: [] for role in held}
    for command, allowed_roles in MATRIX.items():
        if registered is not None and command not in registered:
            continue
        first = next((role for role in held if role in allowed_roles), None)
        if first is not None:
            sections[first].append(command)
    return [(role, commands) for role, commands in sections.items() if commands]


def matrix_markdown() -> str:
    """The permission matrix as a Markdown table (docs/permissions.md and the README)."""
    header = "| Command | Moderator | Brand manager | Partner | Member |"
    lines = [header, "|---|:-:|:-:|:-:|:-:|"]
    for command in MATRIX:
        cells = [cell(command, role) for role in ROLE_ORDER]
        lines.append(f"| `/{command}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
