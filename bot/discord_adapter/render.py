"""How shared values look in Discord: times, user-typed names, errors that carry a name."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import discord
from discord import app_commands

from bot import i18n
from bot.errors import InvalidInput
from bot.ledger import parse_iso
from bot.text import clean

#: How much of a refused option value the error reply repeats.
SHOWN_VALUE_MAX = 50


#: What Discord takes at most in an embed's description.
EMBED_DESCRIPTION_MAX = 4096
#: What Discord takes at most in a message's content, and in an embed field's value.
CONTENT_MAX = 2000
FIELD_MAX = 1024


#: What Discord takes at most in an autocomplete choice's name.
CHOICE_MAX = 100


def fitted_choice(build: Callable[[str], str], name: str, limit: int = CHOICE_MAX) -> str:
    """`build(name)` within `limit` characters: a long name is shortened, with an ellipsis, so what
    follows it (an id, a status) stays whole, and never ends in a dangling joiner or selector."""
    text = build(name)
    if len(text) <= limit:
        return text
    keep = max(0, len(name) - (len(text) - limit) - 1)
    short = name[:keep].rstrip("\u200d\ufe0e\ufe0f")
    return build(short + "…")[:limit]


def more_of(lang: str) -> Callable[[int], str]:
    """The line that ends a list cut to fit: "…and 3 more."."""
    return lambda count: i18n.t(lang, "activation.list_more", count=count)


#: How many ids a reply lists before it stops with an ellipsis.
IDS_SHOWN = 20


def some_ids(ids: list[int], lang: str, at_most: int = IDS_SHOWN) -> str:
    """`#1, #2, …`: the first `at_most` ids, listed as `lang` lists (the reply says how many there are)."""
    shown = [f"#{i}" for i in ids[:at_most]]
    return i18n.join(lang, [*shown, "…"] if len(ids) > at_most else shown)


def fit_lines(lines: list[str], more: Callable[[int], str], limit: int = EMBED_DESCRIPTION_MAX) -> str:
    """Whole lines, as many as fit in `limit` characters with `more(count)` (the lines left out) after
    them when some are: a cut never splits a line, a mention or a name."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept, used = 0, -1  # lines kept, and their length joined (none: no newline either)
    for k, line in enumerate(lines, start=1):
        used += len(line) + 1
        if used > limit:
            break
        if used + 1 + len(more(len(lines) - k)) <= limit:  # the tail as it will be shown
            kept = k
    tail = more(len(lines) - kept)
    return "\n".join([*lines[:kept], tail]) if kept else tail[:limit]


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


def bad_option(
    interaction: discord.Interaction, error: app_commands.TransformerError
) -> tuple[str, dict[str, Any]]:
    """The catalog key and parameters for an option value discord.py could not use: a value that is not
    one of the command's choices (a client sending its own payload), a user who is not a member of the
    server where a member is asked for, or one that does not convert.

    The option is found by its raw value in the interaction's options; the value is cleaned, cut short
    and escaped before it is repeated.
    """
    options = dict(iter(interaction.namespace))
    option = next((name for name, value in options.items() if value == error.value), None)
    value = shown(clean(str(error.value))[:SHOWN_VALUE_MAX])
    command = interaction.command
    parameter = None
    if option and isinstance(command, app_commands.Command):
        parameter = command.get_parameter(option)
    label = f"`{option}`" if option else "?"
    if error.type is discord.AppCommandOptionType.user and isinstance(error.value, discord.User):
        # Discord resolves a picked user who is not in the server (never joined, or left) without
        # member data, so an option that needs a member cannot take them: say that, not "choose again".
        name = shown(clean(error.value.display_name)[:SHOWN_VALUE_MAX])
        return "error.not_a_member", {"member": name, "option": label}
    if parameter is not None and parameter.choices:
        choices = [f"{c.name} (`{c.value}`)" for c in parameter.choices]
        return "error.bad_choice", {"value": value, "option": label, "choices": choices}
    return "error.bad_value", {"option": label}
