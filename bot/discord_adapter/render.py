"""How shared values look in Discord: times, user-typed names, errors that carry a name."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import discord

from bot import i18n
from bot.errors import InvalidInput
from bot.ledger import parse_iso


def stamp(at: str | None) -> str:
    """An ISO time as Discord renders it in the reader's own time zone (`<t:...:f>`)."""
    if not at:
        return "—"
    return f"<t:{int(parse_iso(at).timestamp())}:f>"


def shown(text: str) -> str:
    """User-typed text safe to show: markdown escaped, isolated for right-to-left text."""
    return i18n.isolate(discord.utils.escape_markdown(text))


@contextlib.contextmanager
def names_shown() -> Iterator[None]:
    """Services put raw user-typed names in their errors; show them escaped and isolated."""
    try:
        yield
    except InvalidInput as exc:
        if "name" not in exc.params:
            raise
        raise InvalidInput(exc.key, **{**exc.params, "name": shown(str(exc.params["name"]))}) from exc
