"""Giveaway rules: validation, eligibility and the provably fair draw. Pure: no platform, no SQL, time
passed in. The service that runs giveaways is `bot.activations.giveaways`.

The draw is a commit-reveal scheme. When the giveaway opens, the bot publishes
`commitment = SHA-256(seed)` of a 32-byte secret seed; at the end it reveals the seed and draws the
winners from the sorted entrant list with HMAC-SHA256 keyed by the seed. Anyone holding the seed, the
entrant ids and the number of winners can recompute the result (`python -m bot verify-giveaway`,
docs/giveaways.md) and check that the seed matches the commitment published before anyone entered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.errors import InvalidInput
from bot.text import clean

MIN_WINNERS, MAX_WINNERS = 1, 50
MAX_PRIZE = 200
MAX_RULES = 2000
MAX_MIN_DAYS = 3650
MAX_MIN_EVENTS = 100_000
MAX_EXCLUDED_ROLES = 10
SEED_BYTES = 32
DRAW_LABEL = "microvoice-giveaway-v1"


# -- configuration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Who may enter. Brand contacts and moderators are always excluded, whatever these say."""

    min_days: int = 0
    min_events: int = 0
    required_role_id: int | None = None
    excluded_role_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class GiveawayConfig:
    prize: str
    rules: str
    winners: int
    eligibility: Eligibility = field(default_factory=Eligibility)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["eligibility"]["excluded_role_ids"] = list(self.eligibility.excluded_role_ids)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GiveawayConfig:
        rules = dict(data.get("eligibility") or {})
        rules["excluded_role_ids"] = tuple(int(r) for r in rules.get("excluded_role_ids", ()))
        return cls(
            prize=str(data["prize"]),
            rules=str(data["rules"]),
            winners=int(data["winners"]),
            eligibility=Eligibility(**rules),
        )


def validate_config(
    *,
    prize: str | None,
    rules: str | None,
    winners: int,
    min_days: int = 0,
    min_events: int = 0,
    required_role_id: int | None = None,
    excluded_role_ids: Iterable[int] = (),
) -> GiveawayConfig:
    """Check what a brand manager typed; raise InvalidInput (a catalog key) for the first problem."""
    prize_text, rules_text = clean(prize or ""), clean(rules or "", multiline=True)
    if not MIN_WINNERS <= winners <= MAX_WINNERS:
        raise InvalidInput("giveaway.error.winners", low=MIN_WINNERS, high=MAX_WINNERS, value=winners)
    if not prize_text:
        raise InvalidInput("giveaway.error.prize_missing")
    if len(prize_text) > MAX_PRIZE:
        raise InvalidInput("giveaway.error.prize_length", high=MAX_PRIZE, length=len(prize_text))
    if not rules_text:
        raise InvalidInput("giveaway.error.rules_missing")
    if len(rules_text) > MAX_RULES:
        raise InvalidInput("giveaway.error.rules_length", high=MAX_RULES, length=len(rules_text))
    if not 0 <= min_days <= MAX_MIN_DAYS:
        raise InvalidInput("giveaway.error.min_days", high=MAX_MIN_DAYS)
    if not 0 <= min_events <= MAX_MIN_EVENTS:
        raise InvalidInput("giveaway.error.min_events", high=MAX_MIN_EVENTS)
    excluded = tuple(dict.fromkeys(int(r) for r in excluded_role_ids))
    if len(excluded) > MAX_EXCLUDED_ROLES:
        raise InvalidInput("giveaway.error.too_many_roles", high=MAX_EXCLUDED_ROLES)
    if required_role_id is not None and required_role_id in excluded:
        raise InvalidInput("giveaway.error.role_conflict")
    return GiveawayConfig(
        prize=prize_text,
        rules=rules_text,
        winners=winners,
        eligibility=Eligibility(min_days, min_events, required_role_id, excluded),
    )


# -- eligibility ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFacts:
    """What the bot knows about someone pressing Enter (from the interaction and the ledger)."""

    member_id: int
    joined_at: datetime | None
    role_ids: frozenset[int] = frozenset()
    events: int = 0
    is_moderator: bool = False
    is_brand_contact: bool = False
    is_bot: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why someone may not enter: a catalog key and its parameters, shown to them ephemerally.

    `role_id` names the role a role rule is about; the service renders it as the platform mentions roles
    (the catalog placeholder is `{role}`)."""

    key: str
    params: dict[str, object] = field(default_factory=dict)
    role_id: int | None = None


def check_eligibility(
    member: MemberFacts,
    rules: Eligibility,
    *,
    now: datetime,
    exclude_moderators: bool = True,
) -> Refusal | None:
    """None if the member may take part, else the first reason they may not (most fundamental first)."""
    if member.is_bot:
        return Refusal("giveaway.refused.bot")
    if member.is_brand_contact:
        return Refusal("giveaway.refused.brand_contact")
    if exclude_moderators and member.is_moderator:
        return Refusal("giveaway.refused.moderator")
    if rules.required_role_id is not None and rules.required_role_id not in member.role_ids:
        return Refusal("giveaway.refused.required_role", role_id=rules.required_role_id)
    blocked = [r for r in rules.excluded_role_ids if r in member.role_ids]
    if blocked:
        return Refusal("giveaway.refused.excluded_role", role_id=blocked[0])
    if rules.min_days > 0:
        if member.joined_at is None:
            return Refusal("giveaway.refused.tenure_unknown", {"days": rules.min_days})
        tenure = now - member.joined_at
        if tenure < timedelta(days=rules.min_days):
            return Refusal(
                "giveaway.refused.too_new",
                {"days": rules.min_days, "have": max(0, tenure.days)},
            )
    if member.events < rules.min_events:
        return Refusal("giveaway.refused.too_quiet", {"events": rules.min_events, "have": member.events})
    return None


# -- commitment and draw ----------------------------------------------------------------------------


def new_seed() -> str:
    """A fresh secret: 32 random bytes from the OS CSPRNG, as 64 lowercase hex characters."""
    return secrets.token_hex(SEED_BYTES)


def _seed_bytes(seed: str) -> bytes:
    try:
        raw = bytes.fromhex(seed.strip())
    except ValueError:
        raise ValueError("the seed must be 64 hexadecimal characters") from None
    if len(raw) != SEED_BYTES:
        raise ValueError("the seed must be 64 hexadecimal characters")
    return raw


def commitment(seed: str) -> str:
    """SHA-256 of the 32 seed bytes (not of the hex text), as lowercase hex: what the opening post shows."""
    return hashlib.sha256(_seed_bytes(seed)).hexdigest()


def verify_commitment(seed: str, published: str) -> bool:
    return hmac.compare_digest(commitment(seed), published.strip().lower())


def canonical_entrants(ids: Iterable[int]) -> list[int]:
    """The draw's input order: distinct ids, ascending as integers."""
    return sorted({int(i) for i in ids})


def entrants_digest(ids: Iterable[int]) -> str:
    """SHA-256 of the canonical list, one decimal id per line joined by "\\n" (no trailing newline)."""
    text = "\n".join(str(i) for i in canonical_entrants(ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def pick_index(key: bytes, n: int, *, round_no: int, pick: int) -> int:
    """A uniform index in [0, n): HMAC-SHA256(key, "<label>:<round>:<pick>:<attempt>") read as a big-endian
    256-bit integer, rejected (next attempt) if it falls in the biased tail above the largest multiple
    of n, else taken modulo n."""
    if n <= 0:
        raise ValueError("cannot pick from an empty pool")
    limit = (1 << 256) - ((1 << 256) % n)
    attempt = 0
    while True:
        message = f"{DRAW_LABEL}:{round_no}:{pick}:{attempt}".encode("ascii")
        value = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest(), "big")
        if value < limit:
            return value % n
        attempt += 1


def draw(seed: str, entrants: Iterable[int], count: int, *, round_no: int = 0) -> list[int]:
    """Winners of one round, in draw order: each pick removes its winner from the sorted pool.

    Fewer entrants than `count` means everyone wins (in draw order)."""
    return draw_in_order(seed, canonical_entrants(entrants), count, round_no=round_no)


def draw_in_order(seed: str, pool: Sequence[int], count: int, *, round_no: int = 0) -> list[int]:
    """`draw` on a pool already in canonical order, taken as it is.

    A stored draw record is in canonical order; after a member's erasure their id there is a pseudonym
    that no longer sorts where the id did (docs/privacy.md). Drawing from the stored order keeps a
    reroll identical to what anyone computes from the published entrant list."""
    key = _seed_bytes(seed)
    pool = list(pool)
    winners: list[int] = []
    for pick in range(min(count, len(pool))):
        winners.append(pool.pop(pick_index(key, len(pool), round_no=round_no, pick=pick)))
    return winners


def draw_rounds(seed: str, entrants: Iterable[int], counts: Sequence[int]) -> list[list[int]]:
    """Round 0 draws `counts[0]` winners; reroll round r draws `counts[r]` more from the entrants nobody
    drew in an earlier round (a replaced winner stays out)."""
    pool = canonical_entrants(entrants)
    drawn: set[int] = set()
    rounds: list[list[int]] = []
    for round_no, count in enumerate(counts):
        picked = draw(seed, [e for e in pool if e not in drawn], count, round_no=round_no)
        drawn.update(picked)
        rounds.append(picked)
    return rounds


def parse_entrant_ids(text: str) -> list[int]:
    """Ids from a published entrant list: decimal numbers separated by whitespace, commas or newlines;
    blank lines and `#` comments ignored."""
    ids: list[int] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for token in line.replace(",", " ").split():
            if not token.isdigit():
                raise ValueError(f"not an entrant id: {token!r}")
            ids.append(int(token))
    return ids


def config_json(config: GiveawayConfig) -> str:
    return json.dumps(config.to_json(), sort_keys=True)
