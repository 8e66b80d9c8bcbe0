"""The Reddit sandbox behaves as Reddit's documented API does where praw depends on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import praw
import prawcore
import pytest

from sandbox.reddit_server import RedditSandbox
from sandbox.reddit_server.state import thing_json


@pytest.fixture
async def sb() -> AsyncIterator[RedditSandbox]:
    server = RedditSandbox(ratelimit_window=2)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def client(sb: RedditSandbox, password: str = "sandbox-password") -> praw.Reddit:
    return praw.Reddit(
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        username="MicrovoiceBot",
        password=password,
        user_agent="python:test:v1 (by /u/tester)",
        oauth_url=sb.url,
        reddit_url=sb.url,
        short_url=sb.url,
        check_for_updates=False,
    )


async def test_listings_page_with_before_and_after_newest_first(sb: RedditSandbox):
    sub = sb.add_subreddit("Cooking")
    sb.add_account("alice")
    post = sb.post(sub, "alice", "p")
    comments = [sb.comment(post, "alice", str(i)) for i in range(5)]

    def read() -> tuple[list[str], list[str], list[str], dict]:
        r = client(sb)
        newest = [c.fullname for c in r.subreddit("Cooking").comments(limit=None)]
        newer = [
            c.fullname
            for c in r.subreddit("Cooking").comments(limit=10, params={"before": comments[1].fullname})
        ]
        gone = [c.fullname for c in r.subreddit("Cooking").comments(params={"before": "t1_zzzzzz"})]
        raw = r.get("r/Cooking/comments", params={"limit": 2})
        return newest, newer, gone, raw

    newest, newer, gone, raw = await asyncio.to_thread(read)
    assert newest == [c.fullname for c in reversed(comments)]
    # Reddit answers `before` even when praw adds the page's `after` to its next request, so praw may
    # read the page twice (its streams drop what they have seen): only newer items, nothing older.
    assert set(newer) == {c.fullname for c in comments[2:]}
    assert gone == []  # an anchor no longer in the listing gives an empty page
    assert len(raw) == 2  # praw builds a Listing from {"kind": "Listing", "data": {...}}
    assert all(call.path != "/api/v1/access_token" or call.status == 200 for call in sb.calls)


async def test_rate_limit_headers_and_refusals_are_reddits(sb: RedditSandbox):
    def refused() -> str:
        with pytest.raises(prawcore.OAuthException) as caught:
            client(sb, password="wrong").user.me()
        return caught.value.error

    assert await asyncio.to_thread(refused) == "invalid_grant"
    sb.rate_limit("/api/v1/me")

    def limited() -> int:
        with pytest.raises(prawcore.TooManyRequests) as caught:
            client(sb).user.me()
        return int(caught.value.response.headers["x-ratelimit-used"])

    assert await asyncio.to_thread(limited) == sb.window.budget


async def test_accounts_by_fullname_as_reddit_answers_them(sb: RedditSandbox):
    """`/api/user_data_by_account_ids`: a mapping from each known fullname to the account's summary,
    unknown ones left out, and a 404 when none is known (which praw turns into no result)."""
    alice = sb.add_account("alice", age_days=3)
    bob = sb.add_account("bob")

    def read() -> tuple[dict[str, tuple[str, float]], list[str]]:
        r = client(sb)
        found = r.redditors.partial_redditors([alice.fullname, "t2_zzzzzz", bob.fullname])
        none = r.redditors.partial_redditors(["t2_zzzzzz"])
        return {p.fullname: (p.name, p.created_utc) for p in found}, [p.fullname for p in none]

    found, none = await asyncio.to_thread(read)
    assert found == {alice.fullname: ("alice", alice.created_utc), bob.fullname: ("bob", bob.created_utc)}
    assert none == []
    assert any(c.path == "/api/user_data_by_account_ids" and c.status == 404 for c in sb.calls)


async def test_accounts_by_fullname_leave_out_what_reddit_cannot_resolve_and_refuse_long_urls(
    sb: RedditSandbox,
):
    """A suspended account, an id not in lower case and a repeat are left out of the answer, which holds
    Reddit's fields (whole-second `created_utc`); a URL over 6,544 characters is refused with 400 and
    one over 8,216 with 414 (praw's hundred ids a request stay far below)."""
    alice, bob = sb.add_account("alice"), sb.add_account("bob")
    sb.suspend("bob")
    ids = [alice.fullname, alice.fullname, bob.fullname, alice.fullname.upper()]

    def read(wanted: list[str]) -> Any:
        return client(sb).get("/api/user_data_by_account_ids", params={"ids": ",".join(wanted)})

    found = await asyncio.to_thread(read, ids)
    assert list(found) == [alice.fullname]
    fields = ("name", "created_utc", "link_karma", "comment_karma", "profile_img", "profile_color")
    assert set(found[alice.fullname]) == {*fields, "profile_over_18"}
    assert found[alice.fullname]["created_utc"] == int(alice.created_utc)
    with pytest.raises(prawcore.BadRequest):
        await asyncio.to_thread(read, [f"t2_{i:06d}" for i in range(600)])
    with pytest.raises(prawcore.ResponseException) as refused:
        await asyncio.to_thread(read, [f"t2_{i:06d}" for i in range(900)])
    assert refused.value.response.status_code == 414


async def test_text_is_raw_when_asked_for_raw_json_as_praw_does_and_escaped_otherwise(sb: RedditSandbox):
    """Reddit's API sends `&`, `<` and `>` as HTML entities unless the request asks for `raw_json=1`,
    which prawcore adds to every request: praw sees the text as written."""
    sub = sb.add_subreddit("Cooking")
    sb.add_account("alice")
    post = sb.post(sub, "alice", "Oats & <more>", body="1 < 2 & 3 > 2")

    def read() -> tuple[str, str]:
        submission = client(sb).submission(post.id)
        return submission.title, submission.selftext

    assert await asyncio.to_thread(read) == ("Oats & <more>", "1 < 2 & 3 > 2")
    escaped = thing_json(post)["data"]  # as a request without raw_json gets it
    assert (escaped["title"], escaped["selftext"]) == ("Oats &amp; &lt;more&gt;", "1 &lt; 2 &amp; 3 &gt; 2")
