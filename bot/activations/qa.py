"""Q&A / AMA activations: the opening post with its discussion thread, questions, votes, hiding, the
brand's answers and the summary at the end.

Works without reading message content: questions arrive through a form, votes through actions. The
questions and answers are posted in the thread by the bot, each with the disclosure. The actions have
fixed ids (`ASK`, `VOTE`, `HIDE`); which activation or question a click is about is looked up from the
message it was made on, so they keep working after a restart.
"""

from __future__ import annotations

import logging

from bot import i18n
from bot.activations.disclosure import sanitize_brand
from bot.activations.intents import Steps
from bot.activations.model import ANSWER_MAX, TEXT_MAX, Activation, ActivationError, State, validate_text
from bot.activations.service import ActivationService, Actor, Proposal
from bot.errors import InvalidInput
from bot.platform import Action, Card, Failure, Posted
from bot.text import literal

log = logging.getLogger(__name__)

ASK = "microvoice:qa:ask"
VOTE = "microvoice:qa:vote"
HIDE = "microvoice:qa:hide"
EXCERPT = 200


def _not_posted(failure: Failure, error: Exception) -> Exception:
    """What the brand manager is told of an answer the platform did not post: the platform's refusal
    in their words where it names one (a locked thread, a ban) and in its own words otherwise (a
    permission Discord says the bot lacks), "try again later" where it is down or asks the bot to
    slow down, and the error itself where it says more already (a key of its own) or is no
    platform's (a fault in the bot, logged with its traceback)."""
    if getattr(error, "key", None) or not failure.expected:
        return error
    if not failure.permanent:
        return ActivationError("qa.error.not_posted")
    if failure.reason in i18n.catalog("en"):
        return ActivationError(failure.reason)
    return ActivationError("qa.error.refused", reason=i18n.isolate(failure.reason))


def excerpt(body: str) -> str:
    return body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…"


def ask_actions(lang: str) -> list[Action]:
    return [Action(ASK, i18n.t(lang, "qa.ask_button"), "primary")]


def question_actions(lang: str, votes: int) -> list[Action]:
    return [
        Action(VOTE, i18n.t(lang, "qa.vote_button", votes=votes), "secondary"),
        Action(HIDE, i18n.t(lang, "qa.hide_button"), "danger"),
    ]


class QaService:
    """The Q&A kind: registered with the engine, and what the Q&A buttons, form and `/qa answer` call."""

    def __init__(self, engine: ActivationService) -> None:
        self.engine = engine
        self.store = engine.store
        self.publisher = engine.publisher
        self.platform = engine.platform
        self.clock = engine.clock

    async def create(self, actor: Actor, proposal: Proposal) -> Activation:
        return await self.engine.create(actor, "qa", proposal, config={})

    async def asking(self, actor: Actor, message_id: int) -> Activation:
        """The live Q&A whose opening post is `message_id` (where "Ask a question" was pressed)."""
        activation = await self.store.activation_by_message(actor.community_id, message_id)
        if activation is None or activation.state != State.LIVE or activation.ends_at <= self.clock():
            raise ActivationError("qa.error.closed")  # past its end too, before its end job ran
        return activation

    async def ask(self, actor: Actor, activation_id: int, text: str) -> tuple[int, Posted]:
        """Post a question in the thread (disclosed, with its vote and hide actions)."""
        body = validate_text(text, limit=TEXT_MAX, what="question", multiline=True)
        activation = await self.store.get_activation(actor.community_id, activation_id)
        if activation is None or activation.state != State.LIVE or activation.ends_at <= self.clock():
            raise ActivationError("qa.error.closed")
        question_id = await self.store.add_question(
            actor.community_id, activation.id, actor.member_id, body, now=self.clock()
        )
        if not question_id:
            raise ActivationError("qa.error.closed")
        content = i18n.t(
            activation.locale,
            "qa.question",
            id=question_id,
            author=self.platform.mention(actor.member_id),
            body=body,
        )
        posted = await self.publisher.post(
            activation,
            activation.thread_id or activation.channel_id,
            content=content,
            actions=question_actions(activation.locale, 0),
        )
        await self.store.set_question_message(actor.community_id, question_id, posted.id)
        return question_id, posted

    async def vote(self, actor: Actor, message_id: int) -> list[Action]:
        """Vote for the question posted as `message_id`, or take the vote back; the question's actions
        with the new count."""
        question = await self.store.question_by_message(actor.community_id, message_id)
        if question is None or question.hidden:
            raise ActivationError("qa.error.no_question")
        activation = await self.store.get_activation(actor.community_id, question.activation_id)
        if activation is None or activation.state != State.LIVE:
            raise ActivationError("qa.error.closed")
        await self.store.toggle_vote(actor.community_id, question.id, actor.member_id, now=self.clock())
        updated = await self.store.get_question(actor.community_id, question.id)
        return question_actions(activation.locale, updated.votes if updated else 0)

    async def hide(self, actor: Actor, message_id: int) -> str:
        """Hide a question (moderators: the caller checks the role); the question's new, disclosed text."""
        question = await self.store.question_by_message(actor.community_id, message_id)
        if question is None:
            raise ActivationError("qa.error.no_question")
        activation = await self.engine.load(actor.community_id, question.activation_id)
        await self.store.hide_question(actor.community_id, question.id, by=actor.member_id, now=self.clock())
        return self.publisher.text(activation, i18n.t(activation.locale, "qa.hidden", id=question.id))

    async def answer(self, actor: Actor, question_id: int, text: str) -> Posted:
        """The brand's answer, posted once in the thread as a reply to the question, disclosed."""
        community_id = actor.community_id
        question = await self.store.get_question(community_id, question_id)
        if question is None:
            raise InvalidInput("qa.error.no_question")
        activation = await self.engine.load(community_id, question.activation_id)
        await self.engine.require_brand_manager(actor, activation.brand_id)
        body = validate_text(text, limit=ANSWER_MAX, what="answer", multiline=True)
        if activation.state != State.LIVE:
            raise ActivationError("qa.error.closed")
        if question.hidden:
            raise ActivationError("qa.error.no_question")
        if not await self.store.answer_question(
            community_id, question.id, by=actor.member_id, now=self.clock()
        ):
            raise ActivationError("qa.error.already_answered", id=question.id)
        content = i18n.t(
            activation.locale,
            "qa.answer",
            id=question.id,
            brand=i18n.isolate(sanitize_brand(activation.brand_name)),
            question=literal(excerpt(question.body).replace("\n", " ")),
            answer=body,
        )
        try:
            # Once per question: an answer whose post was made but whose reply was lost (a timeout)
            # is found by its nonce when answered again, not posted twice.
            posted = await self.publisher.post_once(
                activation,
                activation.thread_id or activation.channel_id,
                nonce=f"qa-answer-{question.id}",
                content=content,
                reply_to=question.message_id,
            )
        except Exception as error:
            await self.store.unclaim_answer(community_id, question.id)  # it can be answered again
            told = _not_posted(self.publisher.platform.failure(error), error)
            if told is error:
                raise
            raise told from error
        await self.store.set_answer_message(community_id, question.id, posted.id)
        return posted

    # -- the kind's hooks ------------------------------------------------------------------------------

    async def on_live(self, activation: Activation, steps: Steps) -> None:
        """The opening post with its "Ask" action, then its thread (each once, across retries)."""
        lang = activation.locale
        card = Card(
            title=activation.title,
            description=i18n.t(
                lang, "qa.open", end=self.platform.timestamp(activation.ends_at), limit=TEXT_MAX
            ),
        )
        posted = await steps.post(
            "post", activation, activation.channel_id, card=card, actions=ask_actions(lang)
        )
        await self.store.set_activation_post(activation.community_id, activation.id, message_id=posted.id)
        thread_id = await steps.do("thread", lambda: self.publisher.open_thread(activation, posted))
        await self.store.set_activation_post(
            activation.community_id, activation.id, message_id=posted.id, thread_id=thread_id
        )

    async def on_end(self, activation: Activation, steps: Steps) -> None:
        """The summary, as a reply to the opening post; none for a Q&A whose post was never made
        (one whose thread could not be opened is summed up all the same: its post is up)."""
        if activation.message_id is None:
            return
        lang = activation.locale
        summary = await self.store.qa_summary(activation.community_id, activation.id)
        lines = [
            i18n.t(
                lang,
                "qa.summary",
                questions=summary.questions,
                answered=summary.answered,
                participants=summary.participants,
            )
        ]
        for q in summary.top:
            lines.append(i18n.t(lang, "qa.summary_line", id=q.id, votes=q.votes, body=excerpt(q.body)))
        if activation.state == State.CANCELLED:
            lines.insert(0, i18n.t(lang, "qa.cancelled"))
        card = Card(
            title=i18n.t(lang, "qa.summary_title", title=i18n.isolate(activation.title)),
            description="\n".join(lines)[:4000],
        )
        await steps.post(
            "summary", activation, activation.channel_id, card=card, reply_to=activation.message_id
        )

    def describe(self, activation: Activation, lang: str) -> list[str]:
        if activation.thread_id:
            return [
                i18n.t(lang, "qa.describe_thread", thread=self.platform.channel_link(activation.thread_id))
            ]
        return []
