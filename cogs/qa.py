"""Q&A / AMA activations: `/activation create qa`, the ask button and modal, upvotes, hiding, `/qa answer`.

Works without the Message Content intent: questions arrive through a modal, votes through buttons.
The opening post gets a thread; questions and the brand's answers are posted there by the bot, each
with the disclosure. At the end a summary (questions, answered, participants, top questions) is posted.
Buttons are persistent views with fixed custom ids; which activation or question a click is about is
looked up from the message it was made on, so they keep working after a restart.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.activations import ANSWER_MAX, TEXT_MAX, Activation, ActivationError, State, validate_text
from bot.app import App, MicrovoiceBot, reply_error
from bot.discord_adapter.checks import require_moderator, require_role
from bot.errors import InvalidInput
from cogs.activations import (
    CONNECTION_CHOICES,
    ENDS_HELP,
    STARTS_HELP,
    app_of,
    brand_autocomplete,
    create_activation,
    create_group,
    created_reply,
    disclosed_text,
    post_disclosed,
    register_kind,
    reply_to,
    require_brand_manager,
)

log = logging.getLogger(__name__)

ASK_ID = "microvoice:qa:ask"
VOTE_ID = "microvoice:qa:vote"
HIDE_ID = "microvoice:qa:hide"
QUESTION_INPUT = "microvoice:qa:question"
EXCERPT = 200


def _ts(activation: Activation) -> str:
    return discord.utils.format_dt(activation.ends_at, "f")


def question_text(lang: str, question_id: int, author_id: int, body: str) -> str:
    return i18n.t(lang, "qa.question", id=question_id, author=f"<@{author_id}>", body=body)


class AskView(discord.ui.View):
    def __init__(self, lang: str = "en") -> None:
        super().__init__(timeout=None)
        self.ask.label = i18n.t(lang, "qa.ask_button")

    @discord.ui.button(label="Ask a question", style=discord.ButtonStyle.primary, custom_id=ASK_ID)
    async def ask(self, interaction: discord.Interaction, _: discord.ui.Button[AskView]) -> None:
        app = app_of(interaction)
        assert interaction.guild_id is not None and interaction.message is not None
        activation = await app.store.activation_by_message(interaction.guild_id, interaction.message.id)
        if activation is None or activation.state != State.LIVE:
            raise ActivationError("qa.error.closed")
        await interaction.response.send_modal(AskModal(activation.id, await app.lang(interaction.guild_id)))

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[AskView]
    ) -> None:
        await reply_error(interaction, error)


class QuestionView(discord.ui.View):
    def __init__(self, lang: str = "en", votes: int = 0) -> None:
        super().__init__(timeout=None)
        self.vote.label = i18n.t(lang, "qa.vote_button", votes=votes)
        self.hide.label = i18n.t(lang, "qa.hide_button")

    @discord.ui.button(label="Upvote", style=discord.ButtonStyle.secondary, custom_id=VOTE_ID)
    async def vote(self, interaction: discord.Interaction, _: discord.ui.Button[QuestionView]) -> None:
        app = app_of(interaction)
        assert interaction.guild_id is not None and interaction.message is not None
        question = await app.store.question_by_message(interaction.guild_id, interaction.message.id)
        if question is None or question.hidden:
            raise ActivationError("qa.error.no_question")
        activation = await app.store.get_activation(interaction.guild_id, question.activation_id)
        if activation is None or activation.state != State.LIVE:
            raise ActivationError("qa.error.closed")
        await app.store.toggle_vote(interaction.guild_id, question.id, interaction.user.id, now=app.clock())
        updated = await app.store.get_question(interaction.guild_id, question.id)
        votes = updated.votes if updated else 0
        await interaction.response.edit_message(view=QuestionView(activation.locale, votes))

    @discord.ui.button(label="Hide", style=discord.ButtonStyle.danger, custom_id=HIDE_ID)
    async def hide(self, interaction: discord.Interaction, _: discord.ui.Button[QuestionView]) -> None:
        app = app_of(interaction)
        assert interaction.guild_id is not None and interaction.message is not None
        await require_moderator(interaction)
        question = await app.store.question_by_message(interaction.guild_id, interaction.message.id)
        if question is None:
            raise ActivationError("qa.error.no_question")
        activation = await app.store.get_activation(interaction.guild_id, question.activation_id)
        assert activation is not None
        await app.store.hide_question(
            interaction.guild_id, question.id, by=interaction.user.id, now=app.clock()
        )
        text = i18n.t(activation.locale, "qa.hidden", id=question.id)
        await interaction.response.edit_message(content=disclosed_text(activation, text), view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[QuestionView]
    ) -> None:
        await reply_error(interaction, error)


class AskModal(discord.ui.Modal):
    def __init__(self, activation_id: int, lang: str) -> None:
        super().__init__(
            title=i18n.t(lang, "qa.modal_title")[:45], custom_id=f"microvoice:qa:modal:{activation_id}"
        )
        self.activation_id = activation_id
        self.question: discord.ui.TextInput[AskModal] = discord.ui.TextInput(
            label=i18n.t(lang, "qa.modal_label")[:45],
            style=discord.TextStyle.paragraph,
            custom_id=QUESTION_INPUT,
            max_length=TEXT_MAX,
            required=True,
        )
        self.add_item(self.question)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        app = app_of(interaction)
        assert interaction.guild_id is not None
        body = validate_text(self.question.value or "", limit=TEXT_MAX, what="question")
        activation = await app.store.get_activation(interaction.guild_id, self.activation_id)
        if activation is None or activation.state != State.LIVE:
            raise ActivationError("qa.error.closed")
        question_id = await app.store.add_question(
            interaction.guild_id, activation.id, interaction.user.id, body, now=app.clock()
        )
        if not question_id:
            raise ActivationError("qa.error.closed")
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot: MicrovoiceBot = interaction.client  # type: ignore[assignment]
        message = await post_disclosed(
            bot,
            activation,
            activation.thread_id or activation.channel_id,
            content=question_text(activation.locale, question_id, interaction.user.id, body),
            view=QuestionView(activation.locale, 0),
        )
        await app.store.set_question_message(interaction.guild_id, question_id, message.id)
        await interaction.followup.send(
            await app.say(interaction, "qa.asked", id=question_id, link=message.jump_url), ephemeral=True
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await reply_error(interaction, error)


class QaKind:
    """Hooks the engine calls once per transition."""

    async def on_live(self, bot: MicrovoiceBot, activation: Activation) -> None:
        lang = activation.locale
        embed = discord.Embed(
            title=activation.title,
            description=i18n.t(lang, "qa.open", end=_ts(activation), limit=TEXT_MAX),
        )
        message = await post_disclosed(
            bot, activation, activation.channel_id, embed=embed, view=AskView(lang), thread=True
        )
        assert bot.app is not None
        await bot.app.store.set_activation_post(
            activation.community_id, activation.id, message_id=message.id, thread_id=message.id
        )

    async def on_end(self, bot: MicrovoiceBot, activation: Activation) -> None:
        assert bot.app is not None
        lang = activation.locale
        summary = await bot.app.store.qa_summary(activation.community_id, activation.id)
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
            excerpt = q.body if len(q.body) <= EXCERPT else q.body[: EXCERPT - 1] + "…"
            lines.append(i18n.t(lang, "qa.summary_line", id=q.id, votes=q.votes, body=excerpt))
        if activation.state == State.CANCELLED:
            lines.insert(0, i18n.t(lang, "qa.cancelled"))
        embed = discord.Embed(
            title=i18n.t(lang, "qa.summary_title", title=i18n.isolate(activation.title)),
            description="\n".join(lines)[:4000],
        )
        reference = reply_to(activation.message_id, activation.channel_id)
        await post_disclosed(bot, activation, activation.channel_id, embed=embed, reference=reference)

    def describe(self, activation: Activation, lang: str) -> list[str]:
        if activation.thread_id:
            return [i18n.t(lang, "qa.describe_thread", thread=f"<#{activation.thread_id}>")]
        return []


@create_group.command(name="qa", description="Propose a Q&A / AMA with a brand (brand managers, moderators)")
@app_commands.describe(
    brand="The brand (approved) this Q&A is with",
    channel="Where the Q&A is announced; questions and answers go to a thread on that post",
    title="What the Q&A is about",
    starts=STARTS_HELP,
    ends=ENDS_HELP,
    connection="The material connection the disclosure names (default: paid partnership)",
)
@app_commands.choices(connection=CONNECTION_CHOICES)
@app_commands.autocomplete(brand=brand_autocomplete)
@require_role("activation create qa")
async def create_qa(
    interaction: discord.Interaction,
    brand: int,
    channel: discord.TextChannel,
    title: str,
    starts: str,
    ends: str,
    connection: app_commands.Choice[str] | None = None,
) -> None:
    activation = await create_activation(
        interaction,
        kind="qa",
        brand_id=brand,
        channel_id=channel.id,
        starts_at=starts,
        ends_at=ends,
        connection=connection.value if connection else "paid",
        title=title,
        config={},
    )
    await created_reply(interaction, activation)


class Qa(commands.Cog):
    qa = app_commands.Group(name="qa", description="Q&A activations", guild_only=True)

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app

    async def cog_load(self) -> None:
        self.bot.add_view(AskView())
        self.bot.add_view(QuestionView())

    @qa.command(name="answer", description="Answer a question of a live Q&A (the brand's managers)")
    @app_commands.describe(question="The question's number (Q12 → 12)", text="Your answer")
    @require_role("qa answer")
    async def answer(self, interaction: discord.Interaction, question: int, text: str) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        q = await self.app.store.get_question(guild_id, question)
        if q is None:
            raise InvalidInput("qa.error.no_question")
        activation = await self.app.store.get_activation(guild_id, q.activation_id)
        assert activation is not None
        await require_brand_manager(interaction, activation.brand_id)
        body = validate_text(text, limit=ANSWER_MAX, what="answer")
        if activation.state != State.LIVE:
            raise ActivationError("qa.error.closed")
        if q.hidden:
            raise ActivationError("qa.error.no_question")
        if not await self.app.store.answer_question(
            guild_id, q.id, by=interaction.user.id, now=self.app.clock()
        ):
            raise ActivationError("qa.error.already_answered", id=q.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        excerpt = q.body if len(q.body) <= EXCERPT else q.body[: EXCERPT - 1] + "…"
        content = i18n.t(
            activation.locale,
            "qa.answer",
            id=q.id,
            brand=i18n.isolate(activation.brand_name),
            question=excerpt.replace("\n", " "),
            answer=body,
        )
        target = activation.thread_id or activation.channel_id
        reference = reply_to(q.message_id, target)
        try:
            message = await post_disclosed(self.bot, activation, target, content=content, reference=reference)
        except discord.HTTPException:
            await self.app.store.unclaim_answer(guild_id, q.id)
            raise
        await self.app.store.set_answer_message(guild_id, q.id, message.id)
        await interaction.followup.send(
            await self.app.say(interaction, "qa.answered", id=q.id, link=message.jump_url), ephemeral=True
        )


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    register_kind("qa", QaKind())
    await bot.add_cog(Qa(bot, bot.app))
