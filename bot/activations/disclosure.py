"""Disclosure of sponsored content: the tag every activation message starts with, and `Publisher`, the
only way the activation services publish anything.

Regulators want the disclosure clear, unambiguous and *first* (FTC Endorsement Guides; UK ASA "Ad";
Israeli and Gulf advertising marks in Hebrew and Arabic), so the tag is the first line of a message's
content and the start of every embed's title and author. There is deliberately no switch to turn it
off: `Publisher` is the one object in bot/activations that hands posts, edits, thread names, topics and
private messages to the platform, and it adds the tag to every one of them.

The brand name is the one part a brand controls, so it is sanitised before it goes into the tag: no
mentions, no markdown that could hide or shrink the tag (spoilers, masked links, headings, code), no
line breaks and no bidi controls, then wrapped in Unicode isolates (FSI … PDI) so a Latin brand inside
Arabic or Hebrew (or the reverse) renders in the right order.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.i18n import isolate
from bot.platform import Action, Attachment, Author, Card, Platform, Post, Posted
from bot.text import ZWJ, ZWNJ, strip_invisible

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bot.activations.model import Activation

CONNECTIONS = ("paid", "gifted", "affiliate")
LANGUAGES = ("en", "ar", "he")
SEPARATOR = " · "
MAX_BRAND = 60
MIN_BRAND_SHOWN = 8  # a tag shortened to fit still shows this much of the brand's name
THREAD_NAME_LIMIT = 100
MIN_TITLE_SHOWN = 12  # a thread's name keeps this much room for the title after the tag
CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_AUTHOR_LIMIT = 256
TOPIC_LIMIT = 1024

# The word that marks advertising, then what the connection is. Kept here rather than in the message
# catalogs so that no catalog edit can weaken or drop it.
_MARK = {"en": "Ad", "ar": "إعلان", "he": "פרסומת"}
_TAGS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "Paid partnership with {brand}",
        "gifted": "Gifted product from {brand}",
        "affiliate": "Affiliate link or discount code from {brand}",
    },
    "ar": {
        "paid": "شراكة مدفوعة مع {brand}",
        "gifted": "منتج مُهدى من {brand}",
        "affiliate": "رابط تسويق بالعمولة أو رمز خصم من {brand}",
    },
    "he": {
        "paid": "שיתוף פעולה בתשלום עם {brand}",
        "gifted": "מוצר שהתקבל במתנה מ-{brand}",
        "affiliate": "קישור שותפים או קוד הנחה מ-{brand}",
    },
}

# Mentions, custom emoji and channel links need "<" or "@"; a backslash could undo our escaping.
_DROP = re.compile(r"[<@\\]")
# Markdown that could hide, shrink or restyle the tag (spoiler, masked link, heading, code, quote,
# Reddit's superscript and HTML entities such as an invisible `&zwnj;`) is escaped, so the name still
# reads as the brand wrote it.
_MARKDOWN = re.compile(r"([*_~|`>#\[\]()^&])")
_SPACES = re.compile(r"\s+")


class _Unknown(ValueError):
    pass


def sanitize_brand(name: str, *, limit: int = MAX_BRAND, markdown: bool = True) -> str:
    """A brand name safe inside the tag: printable, one line, no markup, no mentions, at most `limit`
    characters before escaping. With `markdown=False` (for plain-text places such as thread names)
    markdown characters are kept as they are, since nothing renders them there."""
    kept: list[str] = []
    # The shared cleaner drops bidi controls and stray zero-width characters but keeps the joiners of
    # an emoji sequence (and of scripts shaped with them); any other format character goes here.
    for ch in strip_invisible(unicodedata.normalize("NFKC", name)):
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):  # newlines and tabs left by the cleaner
            kept.append(" ")
        elif category != "Cf" or ch in (ZWJ, ZWNJ) or 0xE0020 <= ord(ch) <= 0xE007F:
            kept.append(ch)
    text = _SPACES.sub(" ", _DROP.sub(" ", "".join(kept))).strip(" -.")
    if len(text) > limit:
        text = text[: limit - 1].rstrip().rstrip(ZWJ + ZWNJ) + "…"
    return (_MARKDOWN.sub(r"\\\1", text) if markdown else text) or "?"


def tag(lang: str, brand: str, connection: str, *, plain: bool = False, limit: int | None = None) -> str:
    """The disclosure tag, e.g. ``Ad · Paid partnership with ⁨Acme⁩``. Unknown languages use English.
    `plain`: for plain-text places (no markdown escapes); `limit`: the whole tag in at most that many
    characters, the brand name shortened to make room (plain only: escapes would add characters)."""
    if connection not in CONNECTIONS:
        raise _Unknown(f"unknown material connection {connection!r}; expected one of {CONNECTIONS}")
    lang = lang if lang in _TAGS else "en"
    template = _TAGS[lang][connection]
    room = MAX_BRAND
    if limit is not None and plain:
        fixed = len(_MARK[lang]) + len(SEPARATOR) + len(template) - len("{brand}") + 2  # + the isolates
        room = max(MIN_BRAND_SHOWN, min(MAX_BRAND, limit - fixed))
    body = template.format(brand=isolate(sanitize_brand(brand, limit=room, markdown=not plain)))
    return f"{_MARK[lang]}{SEPARATOR}{body}"


# A community giveaway carries no advertising mark: no brand is behind it. What it says instead is also
# kept here, out of the catalogs, like the mark.
_COMMUNITY = {"en": "Community giveaway", "ar": "سحب مجتمعي", "he": "הגרלה קהילתית"}


def community_label(lang: str) -> str:
    """What a community giveaway's posts start with, e.g. ``Community giveaway``."""
    return _COMMUNITY.get(lang, _COMMUNITY["en"])


def marks() -> tuple[str, ...]:
    """The advertising marks of every language (for checks that a text starts with a disclosure)."""
    return tuple(_MARK[lang] + SEPARATOR for lang in LANGUAGES)


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def content_fits(disclosure: str, content: str) -> bool:
    """Whether `content` fits in one message after the tag's line, whole (nothing cut)."""
    return len(f"**{disclosure}**\n{content}") <= CONTENT_LIMIT


def disclose_content(disclosure: str, content: str | None) -> str:
    """The tag in bold as the first line, then the content (trimmed so the whole fits Discord's limit).

    Bold on its own line: no markdown the content carries can reach back into the tag's line.
    """
    head = f"**{disclosure}**"
    if not content:
        return head
    return fit(f"{head}\n{content}", CONTENT_LIMIT)


def disclose_embed(disclosure: str, embed: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an embed (Discord's dict shape) whose title and author both start with the tag."""
    out = dict(embed)
    title = str(out.get("title") or "")
    out["title"] = fit(f"{disclosure}{SEPARATOR}{title}" if title else disclosure, EMBED_TITLE_LIMIT)
    author = dict(out.get("author") or {})
    if author.get("name"):
        author["name"] = fit(f"{disclosure}{SEPARATOR}{author['name']}", EMBED_AUTHOR_LIMIT)
        out["author"] = author
    return out


def disclose_topic(disclosure: str, topic: str | None) -> str:
    """A channel topic that starts with the tag for the length of a takeover."""
    return fit(f"{disclosure}{SEPARATOR}{topic}" if topic else disclosure, TOPIC_LIMIT)


def starts_disclosed(text: str | None, disclosure: str) -> bool:
    """True if `text` starts with this disclosure (bold or plain) on its first line."""
    if not text:
        return False
    first = text.split("\n", 1)[0]
    return first.startswith(disclosure) or first.startswith(f"**{disclosure}**")


def disclose_card(disclosure: str, card: Card) -> Card:
    """A card whose title (and author line, if any) start with the tag: `disclose_embed` on a `Card`."""
    shape = disclose_embed(disclosure, {"title": card.title, "author": {"name": card.author}})
    author = str((shape.get("author") or {}).get("name") or "")
    return replace(card, title=str(shape["title"]), author=author)


def tag_for(activation: Activation, *, plain: bool = False, limit: int | None = None) -> str:
    """The activation's tag, in the language it was created in: the disclosure of the brand behind it,
    or, for a community giveaway (no brand), "Community giveaway" and no advertising mark (`tag` for
    `plain` and `limit`)."""
    if activation.brand_id is None:
        return community_label(activation.locale)
    return tag(activation.locale, activation.brand_name, activation.connection, plain=plain, limit=limit)


def thread_name(activation: Activation) -> str:
    """A thread's name: the whole tag, then as much of the title as fits. Plain text: Discord shows no
    markdown in thread names, so escapes would show."""
    label = tag_for(activation, plain=True, limit=THREAD_NAME_LIMIT - len(SEPARATOR) - MIN_TITLE_SHOWN)
    return fit(f"{label}{SEPARATOR}{activation.title}", THREAD_NAME_LIMIT)


def notify_only(member_ids: Iterable[int]) -> tuple[int, ...]:
    """Members to notify, once each; an erased member's pseudonym (negative) is never notified."""
    return tuple(m for m in dict.fromkeys(member_ids) if m > 0)


class Publisher:
    """Publishes for activations through a `Platform`, always with the disclosure first.

    Every post and edit starts with the tag as its first line and at the start of its card's title and
    author; a thread opened on a post is named after the tag; a takeover's topic starts with it. Nothing
    else in bot/activations calls the platform's publishing methods.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def text(self, activation: Activation, content: str | None) -> str:
        """Disclosed text for a reply the caller sends itself (e.g. an ephemeral code)."""
        return disclose_content(tag_for(activation), content)

    def compose(
        self,
        activation: Activation,
        *,
        content: str | None = None,
        card: Card | None = None,
        actions: Iterable[Action] = (),
        attachments: Iterable[Attachment] = (),
        reply_to: int | None = None,
        notify: Iterable[int] = (),
        notify_roles: Iterable[int] = (),
        nonce: str | None = None,
    ) -> Post:
        label = tag_for(activation)
        return Post(
            content=disclose_content(label, content),
            card=disclose_card(label, card) if card is not None else None,
            actions=tuple(actions),
            attachments=tuple(attachments),
            reply_to=reply_to,
            notify=notify_only(notify),
            notify_roles=tuple(dict.fromkeys(notify_roles)),
            nonce=nonce,
        )

    async def post(
        self,
        activation: Activation,
        channel_id: int,
        *,
        content: str | None = None,
        card: Card | None = None,
        actions: Iterable[Action] = (),
        attachments: Iterable[Attachment] = (),
        reply_to: int | None = None,
        notify: Iterable[int] = (),
        notify_roles: Iterable[int] = (),
        nonce: str | None = None,
    ) -> Posted:
        post = self.compose(
            activation,
            content=content,
            card=card,
            actions=actions,
            attachments=attachments,
            reply_to=reply_to,
            notify=notify,
            notify_roles=notify_roles,
            nonce=nonce,
        )
        return await self.platform.post(activation.community_id, channel_id, post)

    async def find(self, activation: Activation, channel_id: int, **parts: Any) -> Posted | None:
        """The message `post(activation, channel_id, **parts)` would make, if the bot already made it."""
        post = self.compose(activation, **parts)
        return await self.platform.find_post(activation.community_id, channel_id, post)

    async def post_once(
        self, activation: Activation, channel_id: int, *, nonce: str, look: bool = True, **parts: Any
    ) -> Posted:
        """`post`, unless (with `look`) the message an interrupted attempt already made is found: it is
        kept instead. Where the platform refuses a repeated nonce (Discord), a failed look-up is no
        matter: the nonce still stops a quick duplicate. Where it does not (Reddit), the step fails
        and is tried again later: a post made blind after a lost answer was a second post."""
        if look:
            try:
                found = await self.find(activation, channel_id, nonce=nonce, **parts)
            except Exception:
                if not self.platform.keeps_nonces(channel_id):
                    raise
                log.info("activation %s: could not look for an earlier post", activation.id)
                found = None
            if found is not None:
                log.info("activation %s: the post had been made already (%s)", activation.id, found.id)
                return found
        return await self.post(activation, channel_id, nonce=nonce, **parts)

    async def open_thread(self, activation: Activation, posted: Posted) -> int:
        """A thread on a post, named after the tag and the activation's title; returns the thread's id."""
        name = thread_name(activation)
        return await self.platform.open_thread(activation.community_id, posted.channel_id, posted.id, name)

    async def edit(
        self,
        activation: Activation,
        channel_id: int,
        message_id: int,
        *,
        card: Card | None = None,
        actions: Iterable[Action] = (),
    ) -> None:
        """Replace a posted message: the tag line, `card` and `actions` (no notifications)."""
        post = self.compose(activation, card=card, actions=actions)
        await self.platform.edit(activation.community_id, channel_id, message_id, post)

    def republishable(self, activation: Activation, content: str) -> bool:
        """Whether a member's message can be posted again with the tag without cutting any of it."""
        return content_fits(tag_for(activation), content)

    async def republish(
        self, activation: Activation, channel_id: int, message_id: int, content: str, author: Author
    ) -> Posted:
        """A member's message again, in their name, with the tag as its first line (whole: see
        `republishable`)."""
        if not self.republishable(activation, content):
            raise ValueError("the message is too long to carry the disclosure whole")
        return await self.platform.republish(
            activation.community_id, channel_id, message_id, self.compose(activation, content=content), author
        )

    async def send_private(self, activation: Activation, member_id: int, content: str) -> Posted | None:
        return await self.platform.send_private(member_id, self.compose(activation, content=content))

    async def disclose_topic(
        self, activation: Activation, channel_id: int, topic: str | None, *, reason: str
    ) -> None:
        """Put the tag at the front of a channel's topic (for the length of a takeover)."""
        await self.platform.set_topic(channel_id, disclose_topic(tag_for(activation), topic), reason=reason)
