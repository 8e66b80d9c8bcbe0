"""What a brand manager is told of an answer the platform did not post (`/qa answer`)."""

from __future__ import annotations

from bot import i18n
from bot.activations.model import ActivationError
from bot.activations.qa import _not_posted
from bot.errors import MicrovoiceError
from bot.platform import Failure


def test_each_kind_of_failure_is_told_in_words() -> None:
    error = RuntimeError("refused")
    # A refusal the platform explains in the catalog (Reddit's locked thread): that sentence.
    told = _not_posted(Failure(True, "reddit.refused.thread_locked"), error)
    assert isinstance(told, ActivationError) and told.key == "reddit.refused.thread_locked"
    # A refusal in the platform's own words (Discord's missing permission): said as it is.
    told = _not_posted(Failure(True, "403 Forbidden (error code: 50013): Missing Permissions"), error)
    assert isinstance(told, ActivationError) and told.key == "qa.error.refused"
    text = i18n.t("en", told.key, **told.params)
    assert "still open" in text and "Missing Permissions" in text
    # Down, or asked to slow down: try again later.
    told = _not_posted(Failure(False, "reddit.failure.down", retry_after=60.0), error)
    assert isinstance(told, ActivationError) and told.key == "qa.error.not_posted"
    # An error with a sentence of its own, or a fault in the bot, is left as it is.
    keyed = MicrovoiceError("reddit.error.unavailable")
    assert _not_posted(Failure(False, "x"), keyed) is keyed
    assert _not_posted(Failure(False, "x", expected=False), error) is error
    for lang in ("en", "ar", "he"):
        assert "{" not in i18n.t(lang, "qa.error.refused", reason="x")
        assert i18n.t(lang, "qa.error.not_posted")
