"""The permission matrix covers every application command the cogs define, and each is checked.

Built from the cog modules themselves (no bot, no Discord): a command added to a cog without a row in
`bot.roles.MATRIX`, or with a check naming another row, fails here before it can ship unchecked.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator

from discord import app_commands
from discord.ext import commands

from bot.app import discover_cogs
from bot.roles import EVERYONE, MATRIX, OWN_BRAND_ONLY, TAKER_ONLY, Role, cell, matrix_markdown

Command = app_commands.Command  # type: ignore[type-arg]
Group = app_commands.Group


class _Named:
    """A command of a group built outside its parent, under the name it has once registered."""

    def __init__(self, qualified_name: str, checks: list[object]) -> None:
        self.qualified_name, self.checks = qualified_name, checks


def cog_commands() -> Iterator[Command | _Named]:
    """Every slash command of every cog module: module-level groups and the groups of its Cog classes.

    A module-level group is imported by the modules that add to it (``activation_group``): each root is
    walked once, after every module has added its subcommands. A group class the module's `setup`
    instantiates (the Reddit groups, registered only when Reddit is configured) is built here with no
    app, under the group its `parent_name` names.
    """
    roots: dict[int, app_commands.Group | Command] = {}
    prefixed: list[tuple[str, app_commands.Group]] = []
    for name in discover_cogs():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, app_commands.Group | app_commands.Command) and value.parent is None:
                roots[id(value)] = value
            elif inspect.isclass(value) and issubclass(value, commands.Cog) and value.__module__ == name:
                roots.update((id(c), c) for c in value.__cog_app_commands__ if c.parent is None)
            elif inspect.isclass(value) and value.__module__ == name and issubclass(value, Group):
                prefixed.append((getattr(value, "parent_name", ""), value(None)))  # type: ignore[call-arg]
    for root in roots.values():
        if isinstance(root, app_commands.Group):
            yield from (c for c in root.walk_commands() if isinstance(c, app_commands.Command))
        else:
            yield root
    for prefix, group in prefixed:
        for command in group.walk_commands():
            if isinstance(command, app_commands.Command):
                yield _Named(f"{prefix} {command.qualified_name}".strip(), command.checks)



def test_every_command_has_a_matrix_row_and_every_row_a_command():
    names = [c.qualified_name for c in cog_commands()]
    assert len(names) == len(set(names))
    assert set(names) == set(MATRIX), set(names) ^ set(MATRIX)
    assert {
        "activation create qa",
        "activation create giveaway",
        "activation create takeover",
        "activation approve",
        "activation reject",
        "activation cancel",
        "activation list",
        "activation show",
        "activation reroll",
        "activation codes",
        "activation redemptions",
        "qa answer",
        "takeover post",
    } <= set(names)


def test_every_restricted_command_is_checked_server_side_with_its_own_row():
    for command in cog_commands():
        name = command.qualified_name
        rows = [getattr(check, "matrix_row", None) for check in command.checks]
        assert all(row in (None, name) for row in rows), (name, rows)  # no copy-pasted check
        if MATRIX[name] != EVERYONE:
            assert command.checks, f"/{name} is restricted in the matrix but has no server-side check"


def test_limited_cells():
    assert cell("activation cancel", Role.BRAND_MANAGER) == "own brands"
    assert cell("activation cancel", Role.MODERATOR) == "yes"
    assert cell("activation approve", Role.BRAND_MANAGER) == "—"
    assert cell("qa answer", Role.MODERATOR) == "—"
    assert cell("takeover post", Role.PARTNER) == cell("takeover post", Role.BRAND_MANAGER) == "the taker"
    assert set(MATRIX) >= OWN_BRAND_ONLY | TAKER_ONLY
    for command in OWN_BRAND_ONLY:
        assert Role.BRAND_MANAGER in MATRIX[command]
    assert matrix_markdown().count("\n") == len(MATRIX) + 1
