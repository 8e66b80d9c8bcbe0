"""The bot's invite link: the OAuth2 scopes and the exact permissions Microvoice asks for. Pure.

The README lists the same permissions and integer; a test keeps them in step, and `python -m bot
invite` prints the link (the bot also logs it at start-up while it is in no server).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

SCOPES = ("bot", "applications.commands")

#: (name as Discord shows it, permission bit, why Microvoice needs it)
PERMISSIONS: tuple[tuple[str, int, str], ...] = (
    ("Manage Channels", 4, "takeovers: the channel's topic, restored after"),
    ("Add Reactions", 6, "reaction buttons on posts"),
    ("View Channels", 10, "see the channels it records and posts in"),
    ("Send Messages", 11, "replies, activation posts, reports, the audit log"),
    ("Embed Links", 14, "rankings, activation posts and results as embeds"),
    ("Attach Files", 15, "exports, giveaway entrant lists"),
    ("Read Message History", 16, "replies to earlier messages"),
    ("Manage Roles", 28, "takeovers: the taker's permission overwrite; a role for brand contacts or voices"),
    ("Manage Webhooks", 29, "takeover posts shown in the taker's name"),
    ("Manage Threads", 34, "Q&A threads"),
    ("Create Public Threads", 35, "Q&A threads"),
    ("Send Messages in Threads", 38, "answers in Q&A threads"),
)
AUTHORIZE_URL = "https://discord.com/oauth2/authorize"


def permission_integer() -> int:
    value = 0
    for _, bit, _ in PERMISSIONS:
        value |= 1 << bit
    return value


def invite_url(client_id: int | str) -> str:
    query = urlencode(
        {"client_id": str(client_id), "permissions": str(permission_integer()), "scope": " ".join(SCOPES)}
    )
    return f"{AUTHORIZE_URL}?{query}"


def application_id_from_token(token: str) -> int | None:
    """A bot token starts with its bot user's id in base64, which is the application's id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None
