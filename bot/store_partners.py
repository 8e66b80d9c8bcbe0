"""SQL for partner programs, brands, consent and privacy. Mixed into `bot.store.Store`."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class Brand:
    id: int
    community_id: int
    name: str
    status: str
    topics: tuple[int, ...]
    contacts: tuple[int, ...]


class PartnerQueries:
    """Partners, consent log and brands. Relies on `Store.db`."""

    db: aiosqlite.Connection

    async def is_partner(self, community_id: int, member_id: int) -> bool:
        """True while the member is opted in to the community's partner program."""
        sql = """SELECT 1 FROM partners WHERE community_id = ? AND member_id = ? AND opted_out_at IS NULL"""
        async with self.db.execute(sql, (community_id, member_id)) as cur:
            return await cur.fetchone() is not None

    async def managed_brand_ids(self, community_id: int, member_id: int) -> list[int]:
        """Approved brands this member is a contact of (a brand manager for each)."""
        sql = """
            SELECT b.id FROM brand_contacts AS c JOIN brands AS b ON b.id = c.brand_id
             WHERE c.community_id = ? AND c.member_id = ? AND b.status = 'approved'
             ORDER BY b.id
        """
        async with self.db.execute(sql, (community_id, member_id)) as cur:
            return [int(row[0]) for row in await cur.fetchall()]
