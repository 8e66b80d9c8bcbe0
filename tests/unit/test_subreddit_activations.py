"""Reddit giveaway eligibility, AMA question texts, the platform router and Reddit message ids. Pure."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.activations import subreddit
from bot.activations.subreddit_rules import (
    AccountFacts,
    RedditEligibility,
    question_text,
    refusal,
    validate_eligibility,
)
from bot.errors import InvalidInput
from bot.platform import PlatformRouter, PlatformUnavailable, Post
from bot.subreddits.ids import fullname_of, ledger_id, platform_of, thing_id, thing_kind
from tests.unit.fakes import FakePlatform

NOW = datetime(2026, 5, 1, tzinfo=UTC)
RULES = RedditEligibility(min_account_days=30, min_subreddit_days=7, min_karma=10, min_events=2)


def facts(**changes: object) -> AccountFacts:
    base: dict[str, object] = dict(
        member_id=1,
        created_at=NOW - timedelta(days=400),
        karma=500,
        first_seen=NOW - timedelta(days=60),
        events=5,
    )
    base.update(changes)
    return AccountFacts(**base)  # type: ignore[arg-type]


def test_an_established_account_enters():
    assert refusal(facts(), RULES, now=NOW) is None
    assert (
        refusal(facts(created_at=None, karma=None, first_seen=None, events=0), RedditEligibility(), now=NOW)
        is None
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"is_bot": True, "is_moderator": True}, "bot"),
        ({"is_brand_contact": True}, "brand_contact"),
        ({"is_moderator": True}, "moderator"),
        ({"created_at": NOW - timedelta(days=29)}, "account_too_new"),
        ({"created_at": None}, "account_too_new"),
        ({"first_seen": NOW - timedelta(days=6)}, "new_here"),
        ({"first_seen": None}, "new_here"),
        ({"karma": 9}, "karma"),
        ({"karma": None}, "karma"),
        ({"events": 1}, "too_quiet"),
    ],
)
def test_each_floor_refuses_with_its_own_reason(changes: dict[str, object], reason: str):
    assert refusal(facts(**changes), RULES, now=NOW) == reason


def test_floors_are_validated_and_round_trip_through_the_config():
    rules = validate_eligibility(min_account_days=30, min_subreddit_days=7, min_karma=10, min_events=2)
    assert RedditEligibility.from_json(rules.to_json()) == rules == RULES
    assert RedditEligibility.from_json(None) == RedditEligibility()
    with pytest.raises(InvalidInput):
        validate_eligibility(min_account_days=0, min_subreddit_days=0, min_karma=-1, min_events=0)


def test_question_text_skips_removed_comments_and_is_bounded():
    assert question_text("  Is it vegan?  ") == "Is it vegan?"
    assert question_text("[removed]") is None and question_text("   ") is None
    assert len(question_text("x" * 5000) or "") == 1000


def test_reddit_message_ids_keep_posts_comments_and_subreddits_apart():
    post, comment = thing_id("t3_abc12"), thing_id("t1_abc12")
    subreddit = ledger_id("t5_abc12", "t5")
    assert len({post, comment, subreddit}) == 3
    assert (thing_kind(post), thing_kind(comment), thing_kind(subreddit)) == ("t3", "t1", "t5")
    assert fullname_of(post) == "t3_abc12" and fullname_of(comment) == "t1_abc12"
    assert fullname_of(subreddit) == "t5_abc12"
    assert thing_kind(1234) is None and platform_of(1234) == "discord"
    assert platform_of(post) == platform_of(subreddit) == "reddit"


async def test_the_router_sends_each_call_to_the_platform_of_its_channel():
    discord_side, reddit_side = FakePlatform(), FakePlatform()
    router = PlatformRouter(discord_side, platform_of=platform_of)
    subreddit = ledger_id("t5_abc12", "t5")
    with pytest.raises(PlatformUnavailable):
        await router.post(1, subreddit, Post(content="x"))
    router.attach("reddit", reddit_side)
    await router.post(1, 42, Post(content="on discord"))
    await router.post(1, subreddit, Post(content="on reddit"))
    assert [m.post.content for m in discord_side.posts_in(42)] == ["on discord"]
    assert [m.post.content for m in reddit_side.posts_in(subreddit)] == ["on reddit"]
    assert not discord_side.posts_in(subreddit) and not reddit_side.posts_in(42)
    assert router.for_channel(subreddit) is reddit_side and router.name_of(42) == "discord"


async def test_comments_of_a_member_erased_since_are_not_read_again():
    """A question or an entry read again after its author's erasure (a retried end, a final read) is
    not stored again; what they write after the erasure is theirs."""
    from types import SimpleNamespace

    from bot.activations.subreddit import SubredditActivations
    from bot.ingest import Ingest
    from bot.platform import Reply

    t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    erased, other = 7, 8
    replies = [
        Reply(1, erased, "gone_r", "before?", 3, t0, ()),
        Reply(2, other, "stays_r", "mine?", 2, t0, ()),
        Reply(3, erased, "gone_r", "after?", 1, t0 + timedelta(hours=2), ()),
    ]

    class Discussions:
        async def replies(self, community_id: int, message_id: int) -> list[Reply]:
            return replies

    ingest = Ingest(SimpleNamespace())  # type: ignore[arg-type]
    ingest.erased(42, erased, t0 + timedelta(hours=1))
    engine = SimpleNamespace(store=None, clock=lambda: t0, publisher=None)
    owner = SubredditActivations(engine, Discussions(), ingest)  # type: ignore[arg-type]
    activation = SimpleNamespace(id=7, community_id=42, message_id=99)
    assert [r.id for r in await owner.replies(activation)] == [2, 3]  # type: ignore[arg-type]


def test_title_patterns_judge_only_what_they_can_in_time() -> None:
    """A subreddit's title patterns: matched case-insensitively; one that cannot be read, or that
    takes longer than `PATTERN_SECONDS` on the title (nested repetition), judges nothing."""
    assert subreddit.title_matches([r"^\[AMA\]"], "[ama] Oat milk") is True
    assert subreddit.title_matches([r"^\[AMA\]", r"\bQ&A\b"], "Ad · Q&A with Acme") is True
    assert subreddit.title_matches([r"^\[AMA\]"], "Ad · [AMA] Oat milk") is False
    assert subreddit.title_matches(["(unclosed"], "anything") is None
    assert subreddit.title_matches(["(unclosed", r"^x$"], "anything") is False
    started = time.monotonic()
    assert subreddit.title_matches([r"(a|aa)+$"], "a" * 60 + "b") is None
    assert time.monotonic() - started < 2  # stopped at its time limit, not run to the end
