"""Reddit identities as ledger ids.

Reddit names things by base-36 ids with a type prefix ("fullnames": t1_ comment, t2_ account, t3_
submission, t5_ subreddit). The ledger keys members, communities and channels by integers shared with
Discord, so a Reddit id is stored as its base-36 value with bit 62 set: Discord snowflakes stay below
2**62 until 2049, Reddit's ids are far below 2**62 (eleven base-36 digits would be needed to reach
it), and erased members' pseudonyms are negative. A Reddit identity therefore never collides with a
Discord one, and the two are never merged unless a member links them (`bot.links`).
"""

from __future__ import annotations

import hashlib

REDDIT_BIT = 1 << 62
ACCOUNT, COMMENT, SUBMISSION, MESSAGE, SUBREDDIT = "t2", "t1", "t3", "t4", "t5"


class BadFullname(ValueError):
    """Not a Reddit fullname of the expected kind."""


def split(fullname: str) -> tuple[str, str]:
    """('t1', 'abc12') from 't1_abc12'."""
    kind, sep, id36 = fullname.partition("_")
    # ASCII only: str.isalnum also takes other scripts' digits (which int() reads as digits, so two
    # fullnames would name one id) and letters (which int() refuses with a ValueError).
    if not sep or len(kind) != 2 or not id36 or not (id36.isascii() and id36.isalnum()):
        raise BadFullname(fullname)
    return kind, id36.lower()


def id_value(id36: str) -> int:
    """The base-36 id as a number (ids grow with time, so this orders items)."""
    return int(id36, 36)


def ledger_id(fullname: str, kind: str = ACCOUNT) -> int:
    """The ledger id of an account (t2_) or subreddit (t5_) fullname."""
    got, id36 = split(fullname)
    if got != kind:
        raise BadFullname(f"{fullname} is not a {kind} fullname")
    value = id_value(id36)
    # A subreddit's ledger id shares the space of `thing_id`s, which keep their kind in bits 56-59.
    if value >= (1 << _THING_SHIFT if kind == SUBREDDIT else REDDIT_BIT):
        raise BadFullname(f"{fullname} is beyond the id range Microvoice maps")
    return REDDIT_BIT | value


def is_reddit_id(value: int) -> bool:
    return value > 0 and bool(value & REDDIT_BIT)


def platform_of(value: int) -> str:
    """Which platform a channel, message or member id belongs to: "reddit" or "discord"."""
    return "reddit" if is_reddit_id(value) else "discord"


def account_fullname(value: int) -> str:
    """The t2_ fullname of an account's ledger id."""
    if not is_reddit_id(value):
        raise ValueError(f"{value} is not a Reddit ledger id")
    return f"{ACCOUNT}_{_base36(value & (REDDIT_BIT - 1))}"


def topic_id(subreddit_fullname: str, flair: str | None) -> int:
    """The ledger channel of a link flair in a subreddit ("topic", as a channel is on Discord).

    Posts without flair share one topic per subreddit. Derived from the subreddit and the flair's
    text, so the same flair maps to the same channel after a restart.
    """
    digest = hashlib.sha256(f"{subreddit_fullname}\x00{flair or ''}".encode()).digest()
    return REDDIT_BIT | (int.from_bytes(digest[:8], "big") >> 3)


#: Posts and comments the bot makes or reads for activations, as platform message ids: the kind's number
#: in bits 56-59 keeps a comment, a post and a subreddit with the same base-36 id apart.
_THING_KINDS = {COMMENT: 1, SUBMISSION: 3}
_THING_SHIFT = 56


def thing_id(fullname: str) -> int:
    """The message id of a comment (t1_) or submission (t3_) fullname."""
    kind, id36 = split(fullname)
    if kind not in _THING_KINDS:
        raise BadFullname(f"{fullname} is not a comment or a submission")
    value = id_value(id36)
    if value >= 1 << _THING_SHIFT:
        raise BadFullname(f"{fullname} is beyond the id range Microvoice maps")
    return REDDIT_BIT | (_THING_KINDS[kind] << _THING_SHIFT) | value


def thing_kind(value: int) -> str | None:
    """"t1" or "t3" for a `thing_id`, "t5" for a subreddit's ledger id, None for anything else."""
    if not is_reddit_id(value):
        return None
    number = (value >> _THING_SHIFT) & 0xF
    if number == 0:
        return SUBREDDIT
    return next((k for k, n in _THING_KINDS.items() if n == number), None)


def fullname_of(value: int) -> str:
    """The fullname of a `thing_id` or of a subreddit's ledger id."""
    kind = thing_kind(value)
    if kind is None:
        raise ValueError(f"{value} is not a Reddit post, comment or subreddit id")
    return f"{kind}_{_base36(value & ((1 << _THING_SHIFT) - 1))}"


def _base36(n: int) -> str:
    digits = ""
    while True:
        n, rem = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rem] + digits
        if n == 0:
            return digits


def newer(a: str, b: str | None) -> bool:
    """Whether fullname `a` is newer than `b` (same kind; ids increase with time)."""
    if b is None:
        return True
    return id_value(split(a)[1]) > id_value(split(b)[1])
