"""Errors a user can fix. Each carries a catalog key and parameters; cogs render it, ephemeral."""

from __future__ import annotations


class MicrovoiceError(Exception):
    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class Forbidden(MicrovoiceError):
    """The caller lacks the role a command needs (checked by us, server-side)."""


class InvalidInput(MicrovoiceError):
    """An option is out of range or malformed; nothing was changed."""


class ShuttingDown(Exception):
    """A command's platform work was stopped because the bot is shutting down: what it changed is stored
    and its unfinished work is caught up at the next start. No reply is possible (the connection and the
    database are closing), so none is attempted."""
