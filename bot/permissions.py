"""Who may do what. Pure: the caller passes the facts from the interaction payload.

Discord's default command permissions are only a hint a server admin can override, so every
command checks its role here, server-side.
"""

from __future__ import annotations

from collections.abc import Collection


def is_moderator(
    *, manage_guild: bool, administrator: bool, role_ids: Collection[int], mod_role_id: int | None
) -> bool:
    """Moderator = Manage Server (or Administrator) permission, or the configured moderator role."""
    if manage_guild or administrator:
        return True
    return mod_role_id is not None and mod_role_id in role_ids
