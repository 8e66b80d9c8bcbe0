"""Which communities this process serves, when the bot runs as several sharded processes.

Discord assigns every guild to one shard: `(guild_id >> 22) % shard_count`. A process started with
`--shard-ids 0,1 --shard-count 4` receives the gateway events of those shards' guilds only, and so runs
their scheduled work only (activation transitions, giveaway draws, trust recomputes, the retention
purge): work that must happen once happens in the one process owning the guild. A process that
replaces it (same shard ids) rebuilds that work from the database when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass


def shard_of(community_id: int, shard_count: int) -> int:
    """Discord's sharding formula (DMs and ids below 2^22 land on shard 0)."""
    return (community_id >> 22) % shard_count


@dataclass(frozen=True)
class Shards:
    """The shards of one process. `count == 0` means unsharded: the process serves everything."""

    ids: tuple[int, ...] = ()
    count: int = 0

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("the shard count cannot be negative")
        if self.count == 0 and self.ids:
            raise ValueError("shard ids need a shard count")
        bad = [i for i in self.ids if not 0 <= i < self.count]
        if bad:
            raise ValueError(f"shard ids must be between 0 and {self.count - 1}, got {bad}")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("shard ids must not repeat")

    @property
    def sharded(self) -> bool:
        return self.count > 0

    @property
    def owned(self) -> tuple[int, ...]:
        """The shard ids of this process (every shard when no ids were given)."""
        return self.ids or tuple(range(self.count))

    def owns(self, community_id: int) -> bool:
        """Whether this process serves (and runs the jobs of) that community."""
        if not self.sharded:
            return True
        return shard_of(community_id, self.count) in self.owned

    @property
    def first(self) -> bool:
        """Whether this process serves shard 0 (or is unsharded): the one that does the work no
        community owns, like reading the bot's Reddit inbox."""
        return not self.sharded or 0 in self.owned

    def describe(self) -> str:
        if not self.sharded:
            return "unsharded"
        return f"shards {','.join(map(str, self.owned))} of {self.count}"


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """'0,1' or '0-3' (or a mix: '0,2-3') -> (0, 1) / (0, 1, 2, 3)."""
    ids: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            ids.extend(range(int(low), int(high) + 1))
        else:
            ids.append(int(part))
    return tuple(ids)


class ShardTaken(RuntimeError):
    """Another process on the same database already serves some of this process's shards."""

    def __init__(self, count: int, taken: list[int]) -> None:
        ids = ", ".join(map(str, taken))
        super().__init__(
            f"shard(s) {ids} of {count} are already served by another process on this database;"
            " give each process its own --shard-ids"
        )
        self.taken = taken


class ShardsLost(RuntimeError):
    """The connection holding this process's shard locks was lost, and before the locks could be taken
    back another process on the same database took some of them: this process stops serving."""

    def __init__(self, count: int, lost: list[int]) -> None:
        ids = ", ".join(map(str, lost))
        super().__init__(
            f"shard(s) {ids} of {count} were taken over by another process on this database after this"
            " process lost the database connection holding their locks; stopping so each shard is"
            " served once"
        )
        self.lost = lost


def shard_lock_name(count: int, shard_id: int) -> str:
    """The name of the lock a process holds while it serves a shard (`Store.hold`)."""
    return f"shard:{count}:{shard_id}"
