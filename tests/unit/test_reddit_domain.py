"""Reddit's side of the core without Reddit: ids, ledger rows, names, link codes, combined standing,
and the Reddit settings."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot import i18n
from bot.config import ConfigError, Settings
from bot.errors import InvalidInput
from bot.links import Combined, InboxMessage, LinkService, code_hash, codes_in, combine_scores, new_code
from bot.links.rules import reddit_username
from bot.platform import Attachment, Post
from bot.store import Store, store_unavailable
from bot.subreddits import (
    RedditItem,
    account_fullname,
    ids,
    is_reddit_id,
    ledger_id,
    subreddit_name,
    to_ledger,
    topic_id,
)
from bot.subreddits.ids import BadFullname, newer
from reddit.platform import marker_of, render_parts, same_body
from tests.unit.fakes import FakePlatform

T = 1_700_000_000.0


def item(**kw: object) -> RedditItem:
    values: dict[str, object] = dict(
        fullname="t1_abc",
        subreddit_fullname="t5_2qh1i",
        subreddit_name="VeganCooking",
        author_name="alice",
        author_fullname="t2_alice1",
        created_utc=T,
        parent_fullname="t3_post1",
        parent_author_fullname="t2_bob22",
        link_flair="Recipes",
    )
    values.update(kw)
    return RedditItem(**values)  # type: ignore[arg-type]


def test_reddit_ids_never_meet_discord_snowflakes_or_pseudonyms():
    alice = ledger_id("t2_alice1")
    assert is_reddit_id(alice) and alice > 2**62 and alice < 2**63
    assert account_fullname(alice) == "t2_alice1"
    assert not is_reddit_id(1_100_000_000_000_000_000)  # a Discord snowflake of 2023
    assert not is_reddit_id(-5)  # an erased member's pseudonym
    with pytest.raises(BadFullname):
        ledger_id("t5_2qh1i")  # a subreddit is not an account
    with pytest.raises(BadFullname):
        ledger_id("alice")
    assert newer("t1_10", "t1_z") and not newer("t1_z", "t1_10") and newer("t1_a", None)


def test_a_reply_engages_its_parents_author_under_the_posts_flair():
    rows = to_ledger(item(), community_id=42)
    assert rows is not None
    e = rows.event
    assert (e.platform, e.community_id, e.kind, e.source_id) == ("reddit", 42, "comment", "t1_abc")
    assert (e.actor_id, e.target_id) == (ledger_id("t2_alice1"), ledger_id("t2_bob22"))
    assert e.channel_id == topic_id("t5_2qh1i", "Recipes") != topic_id("t5_2qh1i", None)
    assert e.created_at == datetime.fromtimestamp(T, UTC)
    category, topic = rows.channels
    assert (category.name, category.type, topic.parent_id) == ("r/VeganCooking", 4, category.channel_id)
    assert topic.name == "r/VeganCooking · Recipes"


def test_a_flair_a_member_wrote_is_stored_without_invisible_or_reordering_characters():
    rows = to_ledger(item(link_flair="Reci\u202epes\u200b  \n  tips"), community_id=42)
    assert rows is not None
    assert rows.channels[1].name == "r/VeganCooking · Recipes tips"


def test_deleted_or_removed_authors_are_skipped_and_posts_have_no_target():
    assert to_ledger(item(author_name="[deleted]", author_fullname=None), 42) is None
    assert to_ledger(item(author_fullname=None), 42) is None
    post = to_ledger(item(fullname="t3_post1", parent_fullname=None, parent_author_fullname=None), 42)
    assert post is not None and post.event.kind == "submission" and post.event.target_id is None
    orphan = to_ledger(item(parent_author_fullname=None), 42)  # parent's author deleted
    assert orphan is not None and orphan.event.target_id is None
    # Removed items keep their author for a moderator: still not recorded, and answering one
    # engages nobody.
    assert to_ledger(item(removed=True), 42) is None
    answer = to_ledger(item(parent_removed=True), 42)
    assert answer is not None and answer.event.target_id is None


def test_the_subreddits_machinery_is_no_member_and_answering_it_engages_nobody():
    # AutoModerator's items, the bot's own, and a moderator's distinguished ones are not recorded.
    assert to_ledger(item(author_name="AutoModerator", author_fullname="t2_6l4z3"), 42) is None
    assert to_ledger(item(author_name="MicrovoiceBot"), 42, machinery={"microvoicebot"}) is None
    assert to_ledger(item(distinguished=True), 42) is None
    # A member's comment on any of them is recorded, engaging nobody.
    for parent in (
        dict(parent_author_name="automoderator"),
        dict(parent_author_name="modjane", parent_distinguished=True),
    ):
        rows = to_ledger(item(**parent), 42)
        assert rows is not None and rows.event.target_id is None
    rows = to_ledger(item(parent_author_name="MicrovoiceBot"), 42, machinery={"microvoicebot"})
    assert rows is not None and rows.event.target_id is None
    # The same moderator's own, undistinguished comment is a member's: answering it engages them.
    rows = to_ledger(item(parent_author_name="modjane"), 42)
    assert rows is not None and rows.event.target_id == ledger_id("t2_bob22")


def test_a_database_that_cannot_take_a_batch_now_is_told_from_a_refused_query():
    import asyncpg

    assert store_unavailable(sqlite3.OperationalError("database is locked"))
    assert store_unavailable(sqlite3.OperationalError("database table is locked: events"))
    assert store_unavailable(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"))
    assert store_unavailable(asyncpg.exceptions.DeadlockDetectedError("deadlock detected"))
    assert store_unavailable(ConnectionResetError())
    assert not store_unavailable(sqlite3.OperationalError("no such table: events"))
    assert not store_unavailable(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not store_unavailable(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not store_unavailable(ValueError("a bug"))


def test_subreddit_and_user_names_are_read_in_their_usual_spellings():
    assert subreddit_name("r/VeganCooking") == subreddit_name("/r/VeganCooking/") == "VeganCooking"
    with pytest.raises(InvalidInput):
        subreddit_name("r/not a name")
    assert reddit_username("u/alice_r") == reddit_username("alice_r") == "alice_r"
    assert reddit_username("a") is None


def test_link_codes_are_found_in_a_message_and_stored_only_as_hashes():
    code = new_code()
    assert code.startswith("MV-") and len(code) == 13
    assert codes_in("Link me", f"here it is: {code.lower()} thanks") == [code_hash(code)]
    assert codes_in("MV-0000000000", "MV-SHORT") == []  # 0 is not in the alphabet; too short


def test_linked_identities_add_their_scores_and_rank_against_the_others():
    own = [("all", 0.02, 4, 2), ("all", 0.01, 3, 1), ("channel:7", 0.05, 5, 5)]
    combined = combine_scores(own, [("all", 3)])
    by_scope = {c.scope: c for c in combined}
    assert by_scope["all"] == Combined("all", 4, pytest.approx(0.03), 7, 3, 2)
    assert by_scope["channel:7"].rank == 1 and by_scope["channel:7"].identities == 1


def test_reddit_settings_are_all_or_nothing_and_form_the_required_user_agent():
    env = {
        "MICROVOICE_REDDIT_CLIENT_ID": "id",
        "MICROVOICE_REDDIT_CLIENT_SECRET": "secret-value",
        "MICROVOICE_REDDIT_USERNAME": "MicrovoiceBot",
        "MICROVOICE_REDDIT_PASSWORD": "pw-value",
        "MICROVOICE_REDDIT_OWNER": "u/jane_dev",
    }
    s = Settings.from_env(env, dotenv=None)
    assert s.reddit_enabled
    assert s.reddit_user_agent == "python:microvoice:v0.1.0 (by /u/jane_dev)"
    assert "secret-value" not in repr(s) and "pw-value" not in repr(s)
    assert not Settings.from_env({}, dotenv=None).reddit_enabled
    with pytest.raises(ConfigError, match="MICROVOICE_REDDIT_PASSWORD"):
        Settings.from_env({k: v for k, v in env.items() if k != "MICROVOICE_REDDIT_PASSWORD"}, dotenv=None)
    with pytest.raises(ConfigError, match="both"):
        Settings.from_env({**env, "MICROVOICE_REDDIT_OAUTH_URL": "http://127.0.0.1:1"}, dotenv=None)


async def test_a_link_is_confirmed_on_both_platforms_in_the_communitys_language(tmp_path: Path):
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        now = datetime(2026, 5, 1, tzinfo=UTC)
        platform = FakePlatform()

        async def lang_of(_community: int) -> str:
            return "he"

        links = LinkService(
            store, bot_account="MicrovoiceBot", clock=lambda: now, platform=platform, lang_of=lang_of
        )
        started = await links.start(1, 42, "u/alice_r")
        closed = await links.start(1, 43, "u/bob_r")
        platform.closed_dms.add(43)
        results = await links.check_inbox(
            [
                InboxMessage("t4_1", "carol_r", "t2_3", "link", started.code),  # another account
                InboxMessage("t4_2", "alice_r", "t2_1", "link", started.code),
                InboxMessage("t4_3", "bob_r", "t2_2", "link", closed.code),
            ]
        )
        assert [r.outcome for r in results] == ["wrong_sender", "linked", "linked"]
        assert platform.private == []  # confirmations are sent from the links, not the messages
        replies = await links.confirmations_due()
        assert [(r.to, r.member_id) for r in replies] == [("alice_r", 42), ("bob_r", 43)]
        reply = replies[0]
        assert reply.body == i18n.t("he", "link.confirm_reddit", name="alice_r")
        assert reply.subject == i18n.t("he", "link.confirm_subject")
        # The member is told on Discord; one whose private messages are closed is linked all the same.
        assert platform.private == [(42, Post(content=i18n.t("he", "link.confirm_discord", name="alice_r")))]
        assert await links.link(1, 43) is not None
        # A restart before the Reddit messages went out (nothing marked confirmed): sent again, once
        # each is marked.
        await links.confirmed(replies[1])
        again = LinkService(store, bot_account="MicrovoiceBot", clock=lambda: now, platform=platform)
        assert [r.to for r in await again.confirmations_due()] == ["alice_r"]
        await again.confirmed(reply)
        assert await again.confirmations_due() == []
        # A link made again (unlinked, then linked anew) is confirmed anew.
        await links.remove(1, 42)
        code = await links.start(1, 42, "u/alice_r")
        await links.check_inbox([InboxMessage("t4_4", "alice_r", "t2_1", "link", code.code)])
        assert [r.to for r in await links.confirmations_due()] == ["alice_r"]
    finally:
        await store.close()


def test_reddit_api_errors_are_permanent_except_its_rate_limit():
    import praw.exceptions

    from reddit.platform import RedditPlatform, quiet_mentions

    def refused(*kinds: str) -> praw.exceptions.RedditAPIException:
        return praw.exceptions.RedditAPIException([[kind, "refused", "field"] for kind in kinds])

    failure = RedditPlatform.failure
    for kind in ("THREAD_LOCKED", "SUBREDDIT_NOTALLOWED", "NO_SELFS", "SUBMIT_VALIDATION_FLAIR_REQUIRED"):
        verdict = failure(None, refused(kind))  # type: ignore[arg-type]
        # Told in the moderators' words (a catalog key); Reddit's code is for the log.
        assert verdict.permanent and verdict.reason in i18n.catalog("en") and kind in verdict.logged
    assert not failure(None, refused("RATELIMIT")).permanent  # type: ignore[arg-type]
    assert failure(None, refused("RATELIMIT")).retry_after is None  # type: ignore[arg-type]
    # The wait Reddit names is kept, for the retry to honour.
    said = "Looks like you've been doing that a lot. Take a break for 9 minutes before trying again."
    asked = praw.exceptions.RedditAPIException([["RATELIMIT", said, None]])
    assert failure(None, asked).retry_after == 540.0  # type: ignore[arg-type]
    # An answer lost (a timeout, a 5xx) is tried again after a minute: Reddit may still be making it.
    lost = failure(None, TimeoutError())  # type: ignore[arg-type]
    assert not lost.permanent and lost.retry_after == 60.0
    both = failure(None, refused("RATELIMIT", "THREAD_LOCKED"))  # type: ignore[arg-type]
    assert both.permanent and both.reason == "reddit.refused.thread_locked"
    # Mentions notify only the accounts a post is for.
    assert quiet_mentions("u/a_b and u/winner_1, see r/all", ["Winner_1"]) == (
        "u\\/a_b and u/winner_1, see r/all"
    )
    # A masked link to an account's page notifies it too, and no escape works inside an address: it
    # becomes its text and the quieted name. Other links, and the accounts a post is for, stay.
    assert quiet_mentions("[a prize](/u/alice_r) and [x](https://old.reddit.com/user/Bob_R/) here") == (
        "a prize (u\\/alice_r) and x (u\\/Bob_R) here"
    )
    assert quiet_mentions("[](/u/alice_r)[site](https://example.com)[you](/u/Winner_1)", ["winner_1"]) == (
        "u\\/alice_r[site](https://example.com)[you](/u/Winner_1)"
    )


def test_rounds_keep_to_reddits_request_budget_however_many_subreddits():
    from reddit.adapter import round_delay

    assert round_delay(10, 4, 80) == 10  # a few subreddits: the poll interval
    for subreddits in (10, 40, 200):
        streams = 2 * subreddits
        delay = round_delay(10, streams, 80)
        assert (streams + 2) * 60 / delay <= 80 + 1e-9
    # A round that needed more than a page a stream: the next as soon as its requests allow.
    assert round_delay(10, 4, 80, pages=12) == (12 + 2) * 60 / 80
    assert round_delay(10, 4, 1000, pages=3) < 10


def test_every_line_of_every_attachment_is_published_across_the_parts():
    """A post's attachments too long for one comment go on in more parts (a chain of replies): each part
    starts with the disclosure line and within the limit, and together they hold every line, also of
    an attachment that found no room in the first part at all."""
    entrants = "\n".join(str(10**18 + i) for i in range(120)).encode()
    extra = "\n".join(f"line {i}" for i in range(40)).encode()
    post = Post(
        content="**Ad · Gifted product from Acme**\nThe winners are drawn.",
        attachments=(Attachment("entrants.txt", entrants), Attachment("more.txt", extra)),
    )
    parts = render_parts(post, 1500)
    assert len(parts) >= 3 and all(len(p) <= 1500 for p in parts)
    assert all(p.startswith("**Ad · Gifted product from Acme**") for p in parts)
    published = "\n".join(parts)
    assert all(str(10**18 + i) in published for i in range(120))
    assert all(f"    line {i}\n" in published + "\n" for i in range(40))


def test_each_part_ends_with_its_hidden_marker_within_the_limit_and_the_disclosure_stays_first():
    """A post made with a nonce carries it in a marker Reddit shows as nothing, after the text is cut
    to fit: a body at the limit keeps the marker whole and stays within the limit, the disclosure is
    still its first line, and each part of a chain has its own marker."""
    tag = "**Ad · Gifted product from Acme**"
    long = Post(content=f"{tag}\n" + "word " * 3000, nonce="mv17.results")
    (body,) = render_parts(long, 10_000)
    assert len(body) <= 10_000 and body.startswith(tag)
    assert body.endswith("\n\n[](#mv-mv17.results)") and marker_of(body) == "mv17.results"
    entrants = "\n".join(str(10**18 + i) for i in range(120)).encode()
    listing = (Attachment("e.txt", entrants),)
    chained = Post(content=f"{tag}\nDrawn.", attachments=listing, nonce="mv17.results")
    parts = render_parts(chained, 1500)
    assert len(parts) >= 3 and all(len(p) <= 1500 and p.startswith(tag) for p in parts)
    keys = [marker_of(p) for p in parts]
    assert keys[0] == "mv17.results" and len(set(keys)) == len(parts)
    # Found by the marker alone: the same text with another marker, or none, is another post.
    assert same_body(parts[0], parts[0]) and not same_body(parts[0].replace("mv17", "mv18"), parts[0])
    assert marker_of(render_parts(Post(content=tag), 1500)[0]) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20), st.sampled_from(["t1", "t2", "t3", "t5", "t4", "x1", ""]))
@example("K0000000000", "t5")  # beyond 2**56: read back as a comment's id before subreddits stopped there
def test_any_text_as_a_fullname_maps_back_to_itself_or_is_refused(id36: str, kind: str) -> None:
    """Whatever a payload names as a fullname: a ledger id that maps back to the same fullname
    (lowercased), or `BadFullname`, never another error; ids in another script's digits (which
    `int` would read as the ASCII ones) are refused, so no two fullnames share a ledger id."""
    fullname = f"{kind}_{id36}"
    for convert, back, wanted in (
        (ids.ledger_id, ids.account_fullname, "t2"),
        (lambda f: ids.ledger_id(f, ids.SUBREDDIT), ids.fullname_of, "t5"),
        (ids.thing_id, ids.fullname_of, None),
    ):
        try:
            value = convert(fullname)
        except BadFullname:
            continue
        assert ids.is_reddit_id(value)
        assert kind == wanted if wanted else kind in ("t1", "t3")
        assert id36.isascii()
        assert back(value) == f"{kind}_{id36.lower().lstrip('0') or '0'}"  # Reddit's ids have no leading 0
