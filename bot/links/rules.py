"""Account linking rules. Pure.

A member proves they own a Reddit account by sending a one-time code, shown only to them, from that
account to the bot's account by private message. Only the code's SHA-256 is stored; it expires; it
must arrive from the account named when it was issued (a code forwarded by someone else links
nothing). Identities are never merged by guesswork: only a completed link combines standings.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.text import clean

CODE_TTL = timedelta(minutes=30)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 10
CODE_PATTERN = re.compile(rf"\bMV-[A-Z2-9]{{{CODE_LENGTH}}}\b")
REDDIT_USERNAME = re.compile(r"^[A-Za-z0-9_-]{3,20}$")


def new_code() -> str:
    return "MV-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def reddit_username(text: str) -> str | None:
    """'alice' from 'u/alice', '/u/alice' or 'alice'; None if it cannot be a Reddit username."""
    name = clean(text).strip("/")
    if name.lower().startswith("u/"):
        name = name[2:]
    return name if REDDIT_USERNAME.fullmatch(name) else None


def codes_in(*texts: str) -> list[str]:
    """Every code-shaped token in a message's subject and body, as hashes."""
    return [code_hash(m.group(0)) for text in texts for m in CODE_PATTERN.finditer(text.upper())]


@dataclass(frozen=True)
class InboxMessage:
    """A private message to the bot's Reddit account (what linking reads of it)."""

    fullname: str
    author_name: str | None
    author_fullname: str | None
    subject: str
    body: str


@dataclass(frozen=True)
class Combined:
    """One scope of a linked member's standing: both identities' scores together."""

    scope: str
    rank: int
    score: float
    distinct_peers: int
    trusted_peers: int
    identities: int  # how many of the member's identities are ranked in this scope


def combine_scores(
    own: Sequence[tuple[str, float, int, int]], others_above: Iterable[tuple[str, int]]
) -> list[Combined]:
    """Combine a member's entries (scope, score, peers, trusted peers: one per ranked identity) into
    one per scope. Scores add (the ranking's scores are shares of one community-wide total, so the
    linked identities together hold the sum of their shares); peers add per identity. The rank is
    1 + the number of other members ranked above the combined score (`others_above`: scope and that
    count, computed by the caller against the stored listing)."""
    by_scope: dict[str, Combined] = {}
    for scope, score, peers, trusted in own:
        known = by_scope.get(scope)
        if known is None:
            by_scope[scope] = Combined(scope, 0, score, peers, trusted, 1)
        else:
            by_scope[scope] = replace(
                known,
                score=known.score + score,
                distinct_peers=known.distinct_peers + peers,
                trusted_peers=known.trusted_peers + trusted,
                identities=known.identities + 1,
            )
    above = dict(others_above)
    return [replace(c, rank=above.get(c.scope, 0) + 1) for c in by_scope.values()]
