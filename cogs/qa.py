"""Q&A / AMA on Discord: `/activation create qa`, the ask button and its modal, upvotes, hiding, `/qa answer`.

Thin: each command, click or modal is one call on `app.qa` (bot/activations/qa.py), then the reply.
The buttons are persistent views with the fixed custom ids the service posts; which activation or
question a click is about is looked up from the message it was made on.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.activations.model import TEXT_MAX
from bot.activations.qa import ASK, HIDE, VOTE
from bot.activations.service import Proposal
from bot.app import App, MicrovoiceBot, reply_error
from bot.discord_adapter.activation_commands import (
    actor_of,
    add_commands,
    app_of,
    create_command,
    create_group,
    created_reply,
)
from bot.discord_adapter.checks import require_moderator, require_role
from bot.discord_adapter.components import Form, answer_if_expired
from bot.discord_adapter.platform import view_of

QUESTION_INPUT = "microvoice:qa:question"
#: Custom ids of question forms: this, the Q&A's id, a colon and the opening's own token.
ASK_FORM = "microvoice:qa:modal:"


class AskView(discord.ui.View):
    """Handles "Ask a question" on every Q&A's opening post."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(custom_id=ASK)
    async def ask(self, interaction: discord.Interaction, _: discord.ui.Button[AskView]) -> None:
        app = app_of(interaction)
        assert interaction.message is not None
        activation = await app.qa.asking(await actor_of(interaction), interaction.message.id)
        await interaction.response.send_modal(AskModal(activation.id, await app.lang(interaction.guild_id)))

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[AskView]
    ) -> None:
        await reply_error(interaction, error)


class QuestionView(discord.ui.View):
    """Handles the upvote and hide buttons on every posted question."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(custom_id=VOTE)
    async def vote(self, interaction: discord.Interaction, _: discord.ui.Button[QuestionView]) -> None:
        assert interaction.message is not None
        actions = await app_of(interaction).qa.vote(await actor_of(interaction), interaction.message.id)
        await interaction.response.edit_message(view=view_of(actions))

    @discord.ui.button(custom_id=HIDE)
    async def hide(self, interaction: discord.Interaction, _: discord.ui.Button[QuestionView]) -> None:
        assert interaction.message is not None
        await require_moderator(interaction)
        content = await app_of(interaction).qa.hide(await actor_of(interaction), interaction.message.id)
        await interaction.response.edit_message(content=content, view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[QuestionView]
    ) -> None:
        await reply_error(interaction, error)


class AskModal(Form):
    def __init__(self, activation_id: int, lang: str) -> None:
        super().__init__(title=i18n.t(lang, "qa.modal_title"), prefix=f"{ASK_FORM}{activation_id}:")
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
        actor = await actor_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        question_id, posted = await app.qa.ask(actor, self.activation_id, self.question.value or "")
        text = await app.say(interaction, "qa.asked", id=question_id, link=posted.link)
        await interaction.followup.send(text, ephemeral=True)


@create_command(
    "qa",
    "Propose a Q&A / AMA with a brand (brand managers, moderators)",
    connection_default="paid",
    brand="The brand (approved) this Q&A is with",
    channel="Where the Q&A is announced; questions and answers go to a thread on that post",
    title="What the Q&A is about",
)
async def create_qa(
    interaction: discord.Interaction,
    brand: int,
    channel: discord.TextChannel,
    title: str,
    starts: str,
    ends: str,
    connection: app_commands.Choice[str] | None = None,
) -> None:
    proposal = Proposal(brand, channel.id, starts, ends, title, connection.value if connection else "paid")
    activation = await app_of(interaction).qa.create(await actor_of(interaction), proposal)
    await created_reply(interaction, activation)


add_commands(create_group, create_qa)


class Qa(commands.Cog):
    qa = app_commands.Group(name="qa", description="Q&A activations", guild_only=True)

    def __init__(self, bot: MicrovoiceBot, app: App) -> None:
        self.bot = bot
        self.app = app

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await answer_if_expired(interaction, ASK_FORM)

    async def cog_load(self) -> None:
        self.bot.add_view(AskView())
        self.bot.add_view(QuestionView())

    @qa.command(name="answer", description="Answer a question of a live Q&A (the brand's managers)")
    @app_commands.describe(question="The question's number (Q12 → 12)", text="Your answer")
    @require_role("qa answer")
    async def answer(self, interaction: discord.Interaction, question: int, text: str) -> None:
        actor = await actor_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        posted = await self.app.qa.answer(actor, question, text)
        reply = await self.app.say(interaction, "qa.answered", id=question, link=posted.link)
        await interaction.followup.send(reply, ephemeral=True)


async def setup(bot: MicrovoiceBot) -> None:
    assert bot.app is not None
    await bot.add_cog(Qa(bot, bot.app))
