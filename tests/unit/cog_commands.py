"""The application commands the cogs define, read from the cog modules themselves (no bot, no Discord).

A bot registers exactly these, less the Reddit ones when Reddit is not configured
(`bot.roles.REDDIT_ONLY`; tests/e2e/test_permissions.py checks both configurations against a running
bot). Reading the modules keeps the unit tests that compare them with the matrix, /help and the docs
fast.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from typing import Any

from discord import app_commands
from discord.ext import commands

from bot.app import discover_cogs

Command = app_commands.Command[Any, ..., Any]
Group = app_commands.Group


@dataclass(frozen=True)
class Defined:
    """One slash command under the name it has once registered, and the root group it is shown under."""

    name: str
    command: Command
    root: Group | Command


def where(command: Command) -> tuple[str, str]:
    """The function a command runs: a module loaded again as an extension makes new objects of it."""
    return command.callback.__module__, command.callback.__qualname__


def _named(prefix: str, command: Command) -> str:
    return f"{prefix} {command.qualified_name}".strip()


@cache
def cog_commands() -> dict[str, Defined]:
    """Every slash command of every cog module, by qualified name.

    Walked: module-level groups and commands, the groups of each module's Cog classes, and a group
    class the module's `setup` instantiates (the Reddit groups) built here with no app under the group
    its `parent_name` names. A module-level command added to a shared group (``activation_group``) is
    taken from the module too, under its group: a Discord-only bot built earlier in this process takes
    the Reddit ones out of the shared group again, and the command still belongs to the cog.
    """
    roots: dict[str, Group | Command] = {}
    found: dict[str, Defined] = {}
    prefixed: list[tuple[str, Group]] = []
    loose: list[Command] = []
    for name in discover_cogs():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Group | app_commands.Command) and value.parent is None:
                roots[value.name] = value
            elif isinstance(value, app_commands.Command):
                loose.append(value)
            elif inspect.isclass(value) and issubclass(value, commands.Cog) and value.__module__ == name:
                roots.update((c.name, c) for c in value.__cog_app_commands__ if c.parent is None)
            elif inspect.isclass(value) and value.__module__ == name and issubclass(value, Group):
                prefixed.append((getattr(value, "parent_name", ""), value(None)))  # type: ignore[call-arg]

    def add(prefix: str, command: Command, root: Group | Command) -> None:
        qualified = _named(prefix, command)
        earlier = found.get(qualified)
        # The same command met twice (module-level and in its group) is one; two definitions are not.
        assert earlier is None or where(earlier.command) == where(command), f"/{qualified} defined twice"
        found[qualified] = Defined(qualified, command, root)

    for root in roots.values():
        if isinstance(root, Group):
            for command in root.walk_commands():
                if isinstance(command, app_commands.Command):
                    add("", command, root)
        else:
            add("", root, root)
    for command in loose:
        top: Any = command
        while top.parent is not None:
            top = top.parent
        add("", command, top)
    for prefix, group in prefixed:
        for command in group.walk_commands():
            if isinstance(command, app_commands.Command):
                add(prefix, command, roots.get(prefix.split(" ")[0], group) if prefix else group)
    return found
