"""SQL for trusted-voice roles: the rule of each scope, the members the bot gave a role to, and what
keeps a member out of rankings and roles."""

from __future__ import annotations

from datetime import datetime

from bot.ledger import iso
from bot.store.base import StoreBase

_SET_RULE = """
    INSERT INTO voice_roles (community_id, scope, role_id, top_n, min_percent, set_by, set_at)
    VALUES (:c, :scope, :role, :top_n, :min_percent, :by, :now)
    ON CONFLICT (community_id, scope) DO UPDATE SET role_id = excluded.role_id, top_n = excluded.top_n,
        min_percent = excluded.min_percent, set_by = excluded.set_by, set_at = excluded.set_at
"""
_ADD_HOLDER = """
    INSERT INTO voice_role_holders (community_id, scope, member_id, role_id, granted_at)
    VALUES (:c, :scope, :m, :role, :now)
    ON CONFLICT (community_id, scope, member_id) DO UPDATE SET role_id = excluded.role_id,
        granted_at = excluded.granted_at
"""


class VoiceRoleQueries(StoreBase):
    """Trusted-voice role rules and holders. Mixed into `bot.store.Store`."""

    async def voice_role_rules(self, community_id: int) -> list[tuple[str, int, int | None, int | None]]:
        """(scope, role id, top n, min percent) of every rule of the community, by scope."""
        rows = await self.fetch_all(
            "SELECT scope, role_id, top_n, min_percent FROM voice_roles"
            " WHERE community_id = :c ORDER BY scope",
            dict(c=community_id),
        )
        return [(str(s), int(r), n, p) for s, r, n, p in rows]

    async def set_voice_role(
        self,
        community_id: int,
        scope: str,
        role_id: int,
        *,
        top_n: int | None,
        min_percent: int | None,
        by: int,
        now: datetime,
    ) -> None:
        await self.write(
            _SET_RULE,
            dict(
                c=community_id, scope=scope, role=role_id, top_n=top_n, min_percent=min_percent, by=by,
                now=iso(now),
            ),
        )

    async def clear_voice_role(self, community_id: int, scope: str) -> bool:
        cur = await self.write(
            "DELETE FROM voice_roles WHERE community_id = :c AND scope = :scope",
            dict(c=community_id, scope=scope),
        )
        return cur.rowcount == 1

    async def voice_role_holders(self, community_id: int) -> list[tuple[str, int, int]]:
        """(scope, member, role) for every role the bot gave and has not taken back."""
        rows = await self.fetch_all(
            "SELECT scope, member_id, role_id FROM voice_role_holders WHERE community_id = :c"
            " ORDER BY scope, member_id",
            dict(c=community_id),
        )
        return [(str(s), int(m), int(r)) for s, m, r in rows]

    async def add_voice_role_holder(
        self, community_id: int, scope: str, member_id: int, role_id: int, now: datetime
    ) -> None:
        await self.write(
            _ADD_HOLDER, dict(c=community_id, scope=scope, m=member_id, role=role_id, now=iso(now))
        )

    async def remove_voice_role_holder(self, community_id: int, scope: str, member_id: int) -> None:
        await self.write(
            "DELETE FROM voice_role_holders WHERE community_id = :c AND scope = :scope AND member_id = :m",
            dict(c=community_id, scope=scope, m=member_id),
        )

    async def forget_voice_role_holder(self, community_id: int, member_id: int) -> None:
        """Forget every role the bot gave the member in the community (they left: the platform dropped
        their roles)."""
        await self.write(
            "DELETE FROM voice_role_holders WHERE community_id = :c AND member_id = :m",
            dict(c=community_id, m=member_id),
        )

    async def member_left(self, community_id: int, member_id: int, at: datetime) -> None:
        """The member left the community at `at` (kept until they engage or join again: the ledger's
        member upsert clears it, as `member_returned` does)."""
        await self.write(
            "UPDATE members SET left_at = :at WHERE community_id = :c AND member_id = :m AND left_at IS NULL",
            dict(c=community_id, m=member_id, at=iso(at)),
        )

    async def member_returned(self, community_id: int, member_id: int) -> None:
        """The member joined the community again."""
        await self.write(
            "UPDATE members SET left_at = NULL"
            " WHERE community_id = :c AND member_id = :m AND left_at IS NOT NULL",
            dict(c=community_id, m=member_id),
        )

    async def ranking_status(self, community_id: int, member_id: int) -> tuple[str | None, bool, bool, bool]:
        """(the member's trust override: 'pin', 'exclude' or None; whether they are a contact of a brand
        that is not removed; whether they are a bot account; whether they left the community)."""
        rows = await self.fetch_all(
            """
            SELECT (SELECT mode FROM trust_overrides WHERE community_id = :c AND member_id = :m),
                   (SELECT count(*) FROM brand_contacts AS bc JOIN brands AS b ON b.id = bc.brand_id
                     WHERE bc.community_id = :c AND bc.member_id = :m AND b.status <> 'removed'),
                   (SELECT count(*) FROM members WHERE community_id = :c AND member_id = :m AND is_bot = 1),
                   (SELECT count(*) FROM members
                     WHERE community_id = :c AND member_id = :m AND left_at IS NOT NULL)
            """,
            dict(c=community_id, m=member_id),
        )
        mode, contacts, bots, left = rows[0]
        return (None if mode is None else str(mode)), int(contacts) > 0, int(bots) > 0, int(left) > 0

    async def bot_members(self, community_id: int) -> set[int]:
        rows = await self.fetch_all(
            "SELECT member_id FROM members WHERE community_id = :c AND is_bot = 1", dict(c=community_id)
        )
        return {int(r[0]) for r in rows}
