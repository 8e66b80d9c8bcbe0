"""SQL for per-community settings (`guild_settings`) and the installation's own key/value state
(`bot_state`)."""

from __future__ import annotations

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

    async def get_settings(self, community_id: int, *, default_locale: str = "en") -> CommunitySettings:
        async with self.db.execute(_GET_SETTINGS, dict(community_id=community_id)) as cur:
            row = await cur.fetchone()
        if row is None:
            return CommunitySettings(community_id=community_id, locale=default_locale)
        return CommunitySettings(*row)

    async def update_settings(
        self, community_id: int, changes: dict[str, object], *, by: int, now: datetime
    ) -> None:
        """Upsert only the given columns; unknown keys are a programming error."""
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        columns = sorted(changes)
        params: dict[str, object] = dict(changes, community_id=community_id, by=by, now=iso(now))
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f":{c}" for c in columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
        sql = f"""
            INSERT INTO guild_settings (community_id, updated_at, updated_by{", " + names if columns else ""})
            VALUES (:community_id, :now, :by{", " + values if columns else ""})
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
