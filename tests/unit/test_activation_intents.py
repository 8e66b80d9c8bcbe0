"""Activation side effects as durable intents (bot/activations/intents.py), on a real store and the
in-memory platform: failures are retried until done, a post whose answer was lost is not made twice,
a restart catches up what was pending, a permanent refusal stops and is reported, and an activation is
only opened once its opening post exists.

Retries are what the scheduler's ``intent:{id}`` job would run; tests call it instead of waiting.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.activations.giveaways import GiveawayService, GiveawayTerms
from bot.activations.intents import CLOSE, GIVE_UP, GIVE_UP_ATTEMPTS, OPEN, backoff
from bot.activations.model import Activation
from bot.activations.qa import QaService
from bot.activations.service import ActivationService
from bot.activations.takeovers import TakeoverService
from bot.errors import Forbidden
from bot.ingest import Ingest
from bot.platform import Member, Overwrite
from bot.scheduler import Scheduler
from tests.unit.test_activation_services import (
    CHANNEL,
    CONTACT,
    GUILD,
    MOD,
    NOW,
    PARTNER,
    H,
    World,
)
from tests.unit.test_activation_services import world as world  # the fixture, shared

REPORTS = 777


async def intent(w: World, activation_id: int, action: str):
    found = await w.store.intent_for(activation_id, action)
    assert found is not None
    return found


async def report_channel(w: World) -> None:
    await w.store.update_settings(GUILD, {"report_channel_id": REPORTS}, by=MOD, now=NOW)


async def giveaway(w: World) -> int:
    activation, _ = await w.giveaways.create(
        w.actor(CONTACT), w.proposal("A cookbook"), GiveawayTerms(rules="One entry each.", winners=1)
    )
    await w.engine.approve(w.actor(MOD), activation.id)
    return activation.id


async def live_takeover(w: World) -> Activation:
    """A takeover of CHANNEL by PARTNER, approved and live (its channel changed)."""
    takeover = await w.takeovers.create(w.actor(CONTACT), w.proposal(), PARTNER, Member(PARTNER))
    await w.engine.approve(w.actor(MOD), takeover.id)
    await w.run_to(NOW + H)
    return takeover


def test_backoff_doubles_from_two_seconds_up_to_ten_minutes():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff(20) == 600.0
    assert backoff(3, base=0.1, cap=0.3) == 0.3


async def test_a_failed_opening_post_is_retried_and_the_activation_opens_only_then(world: World):
    w = world
    await report_channel(w)
    gid = await giveaway(w)
    w.platform.fail_posts = 1
    assert await w.run_to(NOW + H) == 1

    live = await w.store.get_activation(GUILD, gid)
    assert live is not None and live.state == "live" and live.opening and live.message_id is None
    assert w.platform.posts_in(CHANNEL) == []
    pending = await intent(w, gid, OPEN)
    assert (pending.state, pending.attempts) == ("pending", 1)
    assert f"intent:{pending.id}" in w.scheduler.job_ids()
    problem = await w.engine.problem(GUILD, gid)
    assert problem is not None and not problem.permanent and "posting is down" in problem.reason
    _, lines = await w.engine.details(w.actor(MOD), gid, "en")
    assert "State: opening (the opening post is not up yet)" in lines
    assert any("the opening post failed" in line and "retries for up to three days" in line for line in lines)
    (warning,) = w.platform.posts_in(REPORTS)
    assert f"Activation #{gid}: the opening post failed" in (warning.post.content or "")

    assert await w.engine.intents.retry(pending.id)
    opened = await w.store.get_activation(GUILD, gid)
    assert opened is not None and not opened.opening and opened.opened_at == NOW + H
    (post,) = w.platform.posts_in(CHANNEL)
    assert post.id == opened.message_id and post.post.nonce == f"mv{pending.id}.post"
    assert (await intent(w, gid, OPEN)).state == "done" and await w.engine.problem(GUILD, gid) is None
    assert "is done now, after 2 attempts" in (w.platform.posts_in(REPORTS)[-1].post.content or "")
    assert await w.engine.intents.retry(pending.id)  # a late duplicate job changes nothing
    assert len(w.platform.posts_in(CHANNEL)) == 1


async def test_a_retry_waits_as_long_as_the_platform_asked(world: World):
    """A platform that names its wait (Reddit: "take a break for 9 minutes") is tried again no
    sooner than that, up to an hour."""
    w = world
    gid = await giveaway(w)
    w.platform.fail_posts, w.platform.asked_wait = 1, 540.0
    assert await w.run_to(NOW + H) == 1
    pending = await intent(w, gid, OPEN)
    assert pending.next_attempt_at == NOW + H + timedelta(seconds=540)
    w.platform.fail_posts, w.platform.asked_wait = 1, 86_400.0
    await w.engine.intents.retry(pending.id)  # fails again
    assert (await intent(w, gid, OPEN)).next_attempt_at == NOW + H + timedelta(hours=1)


async def test_a_post_made_whose_answer_was_lost_is_found_not_made_again(world: World):
    w = world
    gid = await giveaway(w)
    w.platform.lose_answers = 1  # the platform made the post; the bot heard an error
    await w.run_to(NOW + H)
    assert len(w.platform.posts_in(CHANNEL)) == 1
    assert (await w.store.get_activation(GUILD, gid)).opening  # type: ignore[union-attr]

    assert await w.engine.intents.retry((await intent(w, gid, OPEN)).id)
    (post,) = w.platform.posts_in(CHANNEL)
    opened = await w.store.get_activation(GUILD, gid)
    assert opened is not None and opened.message_id == post.id and not opened.opening


async def test_a_restart_catches_up_an_interrupted_results_post_exactly_once(world: World):
    """The bot stopped after the results post was made but before it was recorded: the row is left
    'pending'. A new engine on the same database finishes it at start-up, without a second post."""
    w = world
    gid = await giveaway(w)
    await w.run_to(NOW + H)
    w.platform.lose_answers = 1
    assert await w.run_to(NOW + 2 * H) == 1
    results = [m for m in w.platform.posts_in(CHANNEL) if m.post.attachments]
    assert len(results) == 1
    left = await intent(w, gid, CLOSE)
    assert (left.state, left.attempts) == ("pending", 1)

    restarted = ActivationService(w.store, w.platform, Scheduler(), clock=w.clock)
    giveaways = GiveawayService(restarted, Ingest(w.store))
    for kind, service in (
        ("giveaway", giveaways),
        ("qa", QaService(restarted)),
        ("takeover", TakeoverService(restarted, relay=False)),
    ):
        restarted.register(kind, service)
    try:
        await restarted.start()
        await restarted.booted.wait()
    finally:
        giveaways.close()
        await restarted.close()
    assert [m for m in w.platform.posts_in(CHANNEL) if m.post.attachments] == results
    (draw,) = await w.store.giveaway_draws(gid)
    assert draw.message_id == results[0].id
    assert (await intent(w, gid, CLOSE)).state == "done"


async def test_a_cancelled_takeover_is_restored_exactly_after_a_failed_restore(world: World):
    w = world
    before = Overwrite(allow="1024", deny=str(1 << 13), kind=1)
    w.platform.overwrites[(CHANNEL, PARTNER)] = before
    w.platform.topics[CHANNEL] = "Weekly recipes"
    takeover = await live_takeover(w)
    assert w.platform.overwrites[(CHANNEL, PARTNER)] != before

    w.platform.fail_restores = 1
    assert await w.engine.cancel(w.actor(MOD), takeover.id, None)
    assert w.platform.overwrites[(CHANNEL, PARTNER)] != before  # not given back yet ...
    text = await w.engine.problem_text(GUILD, takeover.id, "en")
    assert text is not None and "overwrites are down" in text  # ... and the moderator is told so
    assert not any("cancelled" in (m.post.content or "") for m in w.platform.posts_in(CHANNEL))

    assert await w.engine.intents.retry((await intent(w, takeover.id, CLOSE)).id)
    assert w.platform.overwrites[(CHANNEL, PARTNER)] == before
    assert w.platform.topics[CHANNEL] == "Weekly recipes"
    closing = [m for m in w.platform.posts_in(CHANNEL) if "was cancelled" in (m.post.content or "")]
    assert len(closing) == 1 and closing[0].post.reply_to is not None
    assert await w.engine.problem(GUILD, takeover.id) is None


async def test_a_refused_restore_stops_retrying_and_tells_the_moderators(world: World):
    w = world
    await report_channel(w)
    takeover = await live_takeover(w)
    w.platform.refuse_restores = True
    assert await w.run_to(NOW + 2 * H) == 1

    failed = await intent(w, takeover.id, CLOSE)
    assert failed.state == "failed" and f"intent:{failed.id}" not in w.scheduler.job_ids()
    problem = await w.engine.problem(GUILD, takeover.id)
    assert problem is not None and problem.permanent and "missing permissions" in problem.reason
    (line,) = w.platform.posts_in(REPORTS)
    assert "cannot be done" in (line.post.content or "") and f"#{CHANNEL}" in (line.post.content or "")
    assert await w.engine.intents.retry(failed.id)  # nothing more is tried
    assert len(w.platform.posts_in(REPORTS)) == 1


async def test_a_moderator_retries_a_refused_restore_once_the_permission_is_back(world: World):
    w = world
    before = Overwrite(allow="1024", deny="0", kind=1)
    w.platform.overwrites[(CHANNEL, PARTNER)] = before
    takeover = await live_takeover(w)
    w.platform.refuse_restores = True
    await w.run_to(NOW + 2 * H)
    assert (await intent(w, takeover.id, CLOSE)).state == "failed"
    text = await w.engine.problem_text(GUILD, takeover.id, "en")
    assert text is not None and f"`/activation retry {takeover.id}`" in text

    with pytest.raises(Forbidden):  # the brand's own managers cannot re-run the bot's work
        await w.engine.retry(w.actor(CONTACT), takeover.id)
    assert await w.engine.retry(w.actor(MOD), takeover.id) is False  # still refused: said again
    assert (await intent(w, takeover.id, CLOSE)).state == "failed"
    assert w.platform.overwrites[(CHANNEL, PARTNER)] != before

    w.platform.refuse_restores = False  # a moderator gave the bot its permission back
    assert await w.engine.retry(w.actor(MOD), takeover.id) is True
    done = await intent(w, takeover.id, CLOSE)
    assert done.state == "done" and done.attempts == 3
    assert w.platform.overwrites[(CHANNEL, PARTNER)] == before
    assert len([m for m in w.platform.posts_in(CHANNEL) if "ended" in (m.post.content or "")]) == 1
    assert await w.engine.problem(GUILD, takeover.id) is None
    assert await w.engine.retry(w.actor(MOD), takeover.id) is None  # nothing left to retry


async def test_a_failure_lasting_days_stops_being_retried_and_moderators_are_told(world: World):
    w = world
    await report_channel(w)
    takeover = await live_takeover(w)
    w.platform.fail_restores = 10_000  # a fault that never passes
    await w.run_to(NOW + 2 * H)
    close = await intent(w, takeover.id, CLOSE)
    for step in range(1, GIVE_UP_ATTEMPTS - 1):  # still retried, for three days
        w.clock.now = NOW + 2 * H + GIVE_UP * step / GIVE_UP_ATTEMPTS
        assert not await w.engine.intents.retry(close.id)
        assert (await intent(w, takeover.id, CLOSE)).state == "pending"
    w.clock.now = NOW + 2 * H + GIVE_UP
    assert not await w.engine.intents.retry(close.id)
    stopped = await intent(w, takeover.id, CLOSE)
    assert stopped.state == "failed" and stopped.attempts == GIVE_UP_ATTEMPTS
    last = w.platform.posts_in(REPORTS)[-1].post.content or ""
    assert f"still failed after {GIVE_UP_ATTEMPTS} attempts over three days" in last
    assert f"`/activation retry {takeover.id}`" in last

    # A moderator retries once the cause is fixed; one passing fault then is retried as usual.
    w.platform.fail_restores = 1
    assert await w.engine.retry(w.actor(MOD), takeover.id) is False
    assert (await intent(w, takeover.id, CLOSE)).state == "pending"
    assert await w.engine.intents.retry(close.id)
    assert (await intent(w, takeover.id, CLOSE)).state == "done"


async def test_a_first_failure_after_days_down_is_retried_not_given_up(world: World):
    w = world
    takeover = await live_takeover(w)
    w.platform.fail_restores = 2
    await w.run_to(NOW + 2 * H)  # the restore fails, and then the bot is down for four days
    close = await intent(w, takeover.id, CLOSE)
    w.clock.now = NOW + 2 * H + GIVE_UP + timedelta(days=1)
    assert not await w.engine.intents.retry(close.id)  # the catch-up's attempt meets a passing fault
    assert (await intent(w, takeover.id, CLOSE)).state == "pending"
    assert await w.engine.intents.retry(close.id)


async def test_an_opening_never_made_is_dropped_at_the_end_and_nothing_closes(world: World):
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal())
    await w.engine.approve(w.actor(MOD), qa.id)
    w.platform.fail_posts = 99
    await w.run_to(NOW + H)
    assert await w.run_to(NOW + 2 * H) == 1
    assert (await intent(w, qa.id, OPEN)).state == "dropped"
    assert (await intent(w, qa.id, CLOSE)).state == "done"
    assert w.platform.posts_in(CHANNEL) == []  # no summary of a Q&A members never saw
    w.platform.fail_posts = 0
    assert await w.engine.intents.retry((await intent(w, qa.id, OPEN)).id)
    assert w.platform.posts_in(CHANNEL) == []


async def test_intents_are_written_with_their_transition(world: World):
    """A stop right after a transition cannot lose its work: the intent row is in the same commit."""
    w = world
    qa = await w.qa.create(w.actor(CONTACT), w.proposal(start=timedelta(hours=1)))
    await w.engine.approve(w.actor(MOD), qa.id)
    assert await w.store.transition_activation(
        GUILD, qa.id, "scheduled", "live", actor=None, now=NOW + H, intent=OPEN
    )
    row = await intent(w, qa.id, OPEN)
    assert (row.state, row.attempts, row.steps) == ("pending", 0, {})
    assert await w.engine.intents.resume() == 1  # what start-up does
    live = await w.store.get_activation(GUILD, qa.id)
    assert live is not None and not live.opening and live.thread_id == live.message_id
    assert (await intent(w, qa.id, OPEN)).steps.keys() == {"post", "thread"}
