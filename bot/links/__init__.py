"""Opt-in linking of a member's Discord identity and Reddit account: the rules (one-time codes,
combined standing) and `LinkService`."""

from bot.links.rules import CODE_TTL, Combined, InboxMessage, code_hash, codes_in, combine_scores, new_code
from bot.links.service import Confirmation, InboxResult, LinkService, LinkStart

__all__ = [
    "CODE_TTL",
    "Combined",
    "Confirmation",
    "InboxMessage",
    "InboxResult",
    "LinkService",
    "LinkStart",
    "code_hash",
    "codes_in",
    "combine_scores",
    "new_code",
]
