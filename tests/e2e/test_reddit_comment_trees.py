"""What the bot reads from a Reddit thread when Reddit does not send all of it, end to end: the real bot
with the real praw against the Reddit sandbox, whose comment trees are cut as Reddit cuts them. A tree
holds a limited number of comments (the rest behind "load more comments" stubs, read with
`/api/morechildren`) and a limited number of levels (the replies below behind "continue this thread"
stubs, read from the comment's own permalink). AMA questions and their answers, giveaway entrants, the
chain of replies a long results comment continues in, and the look-up of a comment whose answer was
lost each see every comment, however wide or deep the thread.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import reddit.platform as reddit_platform
from bot.subreddits import ledger_id
from bot.subreddits.ids import thing_id
from sandbox.reddit_server import RedditSandbox
from tests.e2e.activation_helpers import intent_states, move_to
from tests.e2e.conftest import Launcher, eventually
from tests.e2e.reddit_helpers import (  # noqa: F401 - fixtures
    fast_praw_fixture,
    reddit_sb_fixture,
)
from tests.e2e.test_reddit import link
from tests.e2e.test_reddit_activations import (
    GIFT_TAG,
    assert_all_disclosed,
    commented_giveaway,
    ends_at,
    propose_ama,
    start_with_reddit,
)
from tests.e2e.test_transition_faults import settled

MORE = ("POST", "/api/morechildren")


def stubs(sb: RedditSandbox) -> tuple[int, int]:
    """How many times the bot read a "load more comments" stub, and a "continue this thread" one (a
    comment's permalink read without `context`, as praw reads one)."""
    continued = sum(
        1
        for c in sb.calls
        if c.method == "GET"
        and c.path.startswith("/comments/")
        and "/_/" in c.path
        and "context" not in c.query
    )
    return sb.count(*MORE), continued


async def test_an_ama_reads_every_question_and_answer_of_a_thread_reddit_cuts_wide_and_deep(
    reddit_sb: RedditSandbox, launcher: Launcher
):
    """Hundreds of questions, more than a tree holds (here 100 comments, so the test stays fast): those
    behind the stubs are questions too. The top question has more replies than fit, the brand's answer
    last, behind a stub of its own; a question behind the first stub has a discussion 15 levels deep
    (Reddit shows 10) under the brand's answer: both are answered, and every question is read."""
    sb = reddit_sb
    sb.tree_limit = 100
    sb.add_subreddit("VeganCooking", moderators=("MicrovoiceBot", "modjane"))
    fans = [f"fan{i}_r" for i in range(10)]
    for name in ("modjane", "acme_r", *fans):
        sb.add_account(name)
    h = await start_with_reddit(launcher, sb)
    await link(h, sb, h.world.bob, "acme_r")  # the brand's Reddit account
    qa, start = await propose_ama(h)
    await move_to(h, start + timedelta(minutes=1))
    await settled(h, qa)
    (post,) = [t for t in sb.made_by_app() if t.kind == "t3"]
    questions = [sb.comment(post, fans[i % 10], f"Question {i}?", score=300 - i) for i in range(250)]
    wide, deep = questions[0], questions[200]
    for i in range(150):
        sb.comment(wide, fans[i % 10], f"Same here {i}")
    sb.comment(wide, "acme_r", "Yes: barista grade.")
    parent = sb.comment(deep, "acme_r", "Rolled oats, always.")
    for i in range(15):
        parent = sb.comment(parent, fans[i % 10], f"Reply {i}")

    assert await h.app.reddit_activations.sync_live() == 250
    stored = await h.rows("SELECT message_id FROM qa_questions WHERE activation_id = ?", qa)
    assert {r[0] for r in stored} == {thing_id(q.fullname) for q in questions}
    answered = await h.rows(
        "SELECT message_id FROM qa_questions WHERE activation_id = ? AND answered_at IS NOT NULL", qa
    )
    assert {r[0] for r in answered} == {thing_id(wide.fullname), thing_id(deep.fullname)}
    more, continued = stubs(sb)
    assert more >= 2 and continued >= 1, (more, continued)  # the thread really was cut both ways


async def test_a_giveaways_entrants_behind_stubs_count_and_its_results_chain_is_walked_past_reddits_depth(
    reddit_sb: RedditSandbox, launcher: Launcher, monkeypatch: Any
):
    """Hundreds of entries, more than a tree holds (here 100): every one counts. The entrant list
    outgrows a comment (here 600 characters) and continues in a chain of replies deeper than the ten
    levels Reddit shows; Reddit carries out a part deep in the chain but its answer is lost. The retry
    finds the results comment and walks the chain past its "continue this thread" stubs: every part
    is made once, and the chain is finished. Before, the walk read the same continued replies twice
    and praw refused (`DuplicateReplaceException`): the results were retried for ever, never finished."""
    monkeypatch.setattr(reddit_platform, "COMMENT_LIMIT", 600)
    sb = reddit_sb
    sb.tree_limit = 100
    fans = [f"fan{i}_r" for i in range(300)]
    h, giveaway, post = await commented_giveaway(sb, launcher, fans)
    await h.app.reddit_activations.sync_live()
    entrants = await h.rows("SELECT member_id FROM giveaway_entries WHERE activation_id = ?", giveaway)
    assert {r[0] for r in entrants} == {ledger_id(sb.state.account(n).fullname) for n in fans}
    assert stubs(sb)[0] >= 2

    made: list[str] = []

    def lose_a_deep_part(form: dict[str, str]) -> bool:
        made.append(form.get("thing_id", ""))
        if len(made) == 13:
            sb.lose_answer("/api/comment")  # this part is made; the bot is not told
            return True
        return False

    sb.before("/api/comment", lose_a_deep_part)
    h.app.activations.intents.base_delay = h.app.activations.intents.max_asked_wait = 0.05
    await move_to(h, await ends_at(h, giveaway) + timedelta(minutes=1))

    async def closed() -> bool:
        return await intent_states(h, giveaway, "close") == "done"

    await eventually(closed, "the results chain finished", timeout=30)
    comments = [t for t in sb.made_by_app() if t.kind == "t1"]
    assert len(comments) >= 16  # the results, then more than 15 replies, one under the other
    assert len({c.body for c in comments}) == len(comments)  # each part once
    assert comments[0].parent_id == post.fullname
    for parent, child in pairwise(comments):
        assert child.parent_id == parent.fullname
    published = "\n".join(c.body for c in comments)
    assert all(str(ledger_id(sb.state.account(n).fullname)) in published for n in fans)
    assert stubs(sb)[1] >= 1  # the retry's walk went past Reddit's depth
    assert_all_disclosed(sb, GIFT_TAG)
    assert all(c.distinguished == "moderator" for c in comments)  # every part, as the first
