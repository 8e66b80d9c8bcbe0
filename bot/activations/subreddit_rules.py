"""Who may enter a giveaway run in a subreddit, and which comments are an AMA's questions. Pure.

On Reddit a member enters a giveaway by leaving a top-level comment on the bot's giveaway post, so
eligibility is decided from what Reddit and the ledger show about the comment's account: its age, how
long the community's subreddits have seen it (the ledger's first sighting), its karma, and how much it
engaged here. The bot's own account, deleted authors, the subreddit's moderators and the brand's own
people (a brand contact's linked account) never count. Time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.errors import InvalidInput

MAX_ACCOUNT_DAYS = 3650
MAX_KARMA = 1_000_000
QUESTION_MAX = 1000


@dataclass(frozen=True)
class RedditEligibility:
    """A Reddit giveaway's floors (0 = no floor)."""

    min_account_days: int = 0
    min_subreddit_days: int = 0
    min_karma: int = 0
    min_events: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "min_account_days": self.min_account_days,
            "min_subreddit_days": self.min_subreddit_days,
            "min_karma": self.min_karma,
            "min_events": self.min_events,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RedditEligibility:
        data = data or {}
        return cls(
            int(data.get("min_account_days", 0)),
            int(data.get("min_subreddit_days", 0)),
            int(data.get("min_karma", 0)),
            int(data.get("min_events", 0)),
        )


def validate_eligibility(
    *, min_account_days: int, min_subreddit_days: int, min_karma: int, min_events: int
) -> RedditEligibility:
    for value, high, key in (
        (min_account_days, MAX_ACCOUNT_DAYS, "giveaway.error.min_days"),
        (min_subreddit_days, MAX_ACCOUNT_DAYS, "giveaway.error.min_days"),
        (min_karma, MAX_KARMA, "reddit_giveaway.error_karma"),
        (min_events, 100_000, "giveaway.error.min_events"),
    ):
        if not 0 <= value <= high:
            raise InvalidInput(key, high=high)
    return RedditEligibility(min_account_days, min_subreddit_days, min_karma, min_events)


@dataclass(frozen=True)
class AccountFacts:
    """What is known about the account behind one top-level comment."""

    member_id: int
    created_at: datetime | None
    karma: int | None
    first_seen: datetime | None  # in the community's subreddits, from the ledger
    events: int = 0
    is_moderator: bool = False
    is_brand_contact: bool = False
    is_bot: bool = False


def refusal(facts: AccountFacts, rules: RedditEligibility, *, now: datetime) -> str | None:
    """None if the account's comment is an entry, else why not (a reason code, most fundamental first)."""
    if facts.is_bot:
        return "bot"
    if facts.is_brand_contact:
        return "brand_contact"
    if facts.is_moderator:
        return "moderator"
    if rules.min_account_days and not _older(facts.created_at, rules.min_account_days, now):
        return "account_too_new"
    if rules.min_subreddit_days and not _older(facts.first_seen, rules.min_subreddit_days, now):
        return "new_here"
    if rules.min_karma and (facts.karma is None or facts.karma < rules.min_karma):
        return "karma"
    if facts.events < rules.min_events:
        return "too_quiet"
    return None


def _older(since: datetime | None, days: int, now: datetime) -> bool:
    return since is not None and now - since >= timedelta(days=days)


def question_text(body: str) -> str | None:
    """A comment's text as an AMA question (trimmed to what a question may hold); None if empty or gone."""
    text = body.strip()
    if not text or text in ("[deleted]", "[removed]"):
        return None
    return text if len(text) <= QUESTION_MAX else text[: QUESTION_MAX - 1] + "…"
