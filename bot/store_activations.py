"""SQL for brand activations (Q&A, giveaways, takeovers, codes). Mixed into `bot.store.Store`."""

from __future__ import annotations

import aiosqlite


class ActivationQueries:
    """Activations and everything hanging off them. Relies on `Store.db`."""

    db: aiosqlite.Connection
