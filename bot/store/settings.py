"""SQL for per-community settings (`guild_settings`) and the installation's own key/value state
(`bot_state`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.ledger import iso
from bot.store.base import StoreBase


@dataclass(frozen=True)
class CommunitySettings:
    community_id: int
    locale: str = "en"
    mod_role_id: int | None = None
    report_channel_id: int | None = None
    retention_days: int = 180
    max_sponsored_per_week: int = 2
    min_gap_hours: int = 24
    k_anonymity: int = 5
    audit_channel_id: int | None = None


SETTING_COLUMNS = (
    "locale",
    "mod_role_id",
    "report_channel_id",
    "retention_days",
    "max_sponsored_per_week",
    "min_gap_hours",
    "k_anonymity",
    "audit_channel_id",
)
_GET_SETTINGS = """
    SELECT community_id, locale, mod_role_id, report_channel_id, retention_days,
           max_sponsored_per_week, min_gap_hours, k_anonymity, audit_channel_id
      FROM guild_settings WHERE community_id = :community_id
"""


class SettingsQueries(StoreBase):
    """Community settings and installation state. Mixed into `bot.store.Store`."""

    async def get_settings(
        self, community_id: int, *, default_locale: str = "en", default_retention_days: int = 180
    ) -> CommunitySettings:
        """A community's settings; one that never changed any has the installation's defaults."""
        async with self.db.execute(_GET_SETTINGS, dict(community_id=community_id)) as cur:
            row = await cur.fetchone()
        if row is None:
            return CommunitySettings(
                community_id=community_id, locale=default_locale, retention_days=default_retention_days
            )
        return CommunitySettings(*row)

    async def update_settings(
        self,
        community_id: int,
        changes: dict[str, object],
        *,
        by: int,
        now: datetime,
        on_insert: Mapping[str, object] | None = None,
    ) -> None:
        """Upsert only the given columns; unknown keys are a programming error. `on_insert`: values the
        community's first row takes for settings not in `changes` (the installation's defaults, so a
        first change of one setting does not reset the others to the schema's)."""
        unknown = (set(changes) | set(on_insert or {})) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        inserted = {k: v for k, v in (on_insert or {}).items() if k not in changes}
        columns = sorted(changes)
        params: dict[str, object] = dict(changes, community_id=community_id, by=by, now=iso(now))
        params.update(inserted)
        names = ", ".join(f'"{c}"' for c in sorted([*columns, *inserted]))
        values = ", ".join(f":{c}" for c in sorted([*columns, *inserted]))
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
        sql = f"""
            INSERT INTO guild_settings (community_id, updated_at, updated_by{", " + names if names else ""})
            VALUES (:community_id, :now, :by{", " + values if values else ""})
            ON CONFLICT (community_id) DO UPDATE SET
                updated_at = excluded.updated_at, updated_by = excluded.updated_by
                {", " + updates if columns else ""}
        """
        await self.write(sql, params)

    # -- installation state -----------------------------------------------------------------------

    async def get_state(self, key: str) -> str | None:
        value = await self.scalar("SELECT value FROM bot_state WHERE key = :key", dict(key=key))
        return None if value is None else str(value)

    async def set_state(self, key: str, value: str) -> None:
        await self.write(
            "INSERT INTO bot_state (key, value) VALUES (:key, :value)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            dict(key=key, value=value),
        )
