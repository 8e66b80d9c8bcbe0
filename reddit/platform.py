"""`RedditPlatform`: the `bot.platform.Platform` protocol (and `Discussions`) on praw.

A channel is a bound subreddit (its ledger id) or a post's comments (the post's id); a post made in a
subreddit is a self post whose title is the card's title and whose body is the content, the card and
any attachment as text; a post made in a post's comments is a comment (a reply to `reply_to` when it
names a comment); a thread is the comments under a post; an edit replaces the body (Reddit keeps
titles). Both the title and the body arrive disclosed from `Publisher`; this adapter keeps them first,
and ends each body with a hidden marker carrying the post's nonce (`marker`), by which the look-up after
a lost answer (`find_post`) recognises exactly what that attempt made.

Sponsored posts in a subreddit get the subreddit's sponsored link flair when moderators chose one
(`/microvoice reddit flair`). When the bot's account moderates the subreddit (asked of Reddit before
each post) the post is distinguished and stickied and the bot's comments are distinguished; when it
does not, the subreddit's moderators are told so once, by a message to the subreddit.

Buttons cannot exist on Reddit: actions are left out (the Reddit kinds say in words what to do).
Takeovers need channel permissions and webhooks, which Reddit has not: those calls raise
`NotOnReddit` (the Reddit commands never create a takeover). Every praw call runs in a worker thread
through the adapter, never on the event loop.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import praw
import praw.exceptions
import praw.models
import prawcore

from bot import i18n
from bot.errors import MicrovoiceError
from bot.platform import (
    Author,
    ChannelState,
    Failure,
    Member,
    Overwrite,
    Post,
    Posted,
    PostRules,
    Reply,
    other_failure,
)
from bot.store import BoundSubreddit
from bot.subreddits import SubredditService
from bot.subreddits.ids import (
    ACCOUNT,
    COMMENT,
    SUBMISSION,
    SUBREDDIT,
    BadFullname,
    account_fullname,
    fullname_of,
    is_reddit_id,
    ledger_id,
    thing_id,
    thing_kind,
)
from bot.subreddits.items import MACHINERY
from reddit.adapter import RedditAdapter, RedditUnavailable, field_of, profile, removed
from reddit.errors import api_errors, describe

log = logging.getLogger(__name__)

TITLE_LIMIT = 300
#: How long a reply waits for Reddit to name the accounts it lists.
NAME_LOOKUP_SECONDS = 1.5
SELF_POST_LIMIT = 40_000
COMMENT_LIMIT = 10_000
NAME_CACHE = 50_000
#: How long an account's profile, as read, answers `account` (its age and karma; a giveaway reads
#: every entrant's at every sync).
ACCOUNT_SECONDS = 600.0
#: Accounts a profile read asks Reddit for at once (`/api/user_data_by_account_ids`; praw sends a hundred).
PROFILE_BATCH = 100


#: What Reddit's API names as worth trying again later (its rate limit on posting and messaging).
RETRYABLE_API_ERRORS = frozenset({"RATELIMIT"})
#: Reddit's refusals of a comment that moderators are told in their own words (the catalog's key).
REFUSED_COMMENTS = {
    "THREAD_LOCKED": "reddit.refused.thread_locked",
    "TOO_OLD": "reddit.refused.too_old",
    "DELETED_COMMENT": "reddit.refused.deleted_comment",
}
#: Reddit's refusals of any step (a post, an edit, a message), each told to moderators in their own
#: words (the catalog's key); the first of those an answer names, in this order, is told.
REFUSED_STEPS = {
    **REFUSED_COMMENTS,
    "RATELIMIT": "reddit.refused.rate_limited",
    "SUBMIT_VALIDATION_FLAIR_REQUIRED": "reddit.refused.flair_required",
    "NO_SELFS": "reddit.refused.no_text_posts",
    "SUBREDDIT_NOTALLOWED": "reddit.refused.not_allowed",
    "SUBREDDIT_NOEXIST": "reddit.refused.no_subreddit",
    "NOT_WHITELISTED_BY_USER_MESSAGE": "reddit.refused.no_messages",
    "USER_DOESNT_EXIST": "reddit.refused.no_messages",
    "INVALID_USER": "reddit.refused.no_messages",
    "TOO_LONG": "reddit.refused.too_long",
}
#: The refusals named by a prefix: every rule of the subreddit's post requirements Reddit checks at
#: submission (a title's words or length, a body, a link) is `SUBMIT_VALIDATION_…`.
REFUSED_PREFIXES = {"SUBMIT_VALIDATION_": "reddit.refused.post_requirements"}
#: What Reddit refused, or failed, told by an HTTP status (after prawcore's own retries).
REFUSED_STATUS = {
    403: "reddit.refused.forbidden",
    404: "reddit.refused.gone",
    400: "reddit.refused.invalid",
}
#: A moderator's permissions that let it distinguish and sticky posts.
POSTS_PERMISSIONS = frozenset({"all", "posts"})
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>:^&])")
#: The hidden marker a post or comment body ends with: an empty link to an in-page anchor, which Reddit's
#: old and new renderers both show as nothing (the form Reddit bots use to find their own comments again).
_MARKER = re.compile(r"\[\]\(#mv-([A-Za-z0-9._-]{1,60})\)\s*$")
_MARKER_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
#: What a body gives up for its marker: the blank line and `[](#mv-…)` for a 25-character nonce and a
#: part number (`Post.nonce` is at most 25 characters).
MARKER_ROOM = 48
_ACCOUNT_MENTION = re.compile(r"(?<![\w/\\])(/?u/)([A-Za-z0-9_-]{3,20})\b")
#: A masked link to an account's page (`[text](/u/name)`, `/user/`, or the full reddit.com address):
#: Reddit notifies the account as for u/name, and no escape works inside a link's address.
_ACCOUNT_LINK = re.compile(
    r"\[([^\]\n]*)\]\(\s*<?(?:https?://(?:[\w-]+\.)*reddit\.com)?/?(?:u|user)/([A-Za-z0-9_-]{3,20})\b[^)\n]*\)",
    re.IGNORECASE,
)


def manages_posts(sub: Any, username: str) -> bool:
    """Whether `username` moderates the subreddit with the posts permission (distinguish, sticky)."""
    for moderator in sub.moderator(redditor=username):
        if str(moderator).lower() == username.lower():
            return bool(POSTS_PERMISSIONS & set(getattr(moderator, "mod_permissions", None) or ()))
    return False


def free_sticky_slot(sub: Any) -> bool:
    """Whether the subreddit has a sticky slot free (it has two; the second one taken means both)."""
    try:
        sub.sticky(number=2)
    except prawcore.exceptions.NotFound:
        return True
    return False


def same_text(shown: Any, made: str) -> bool:
    """Whether a title or body Reddit shows is the text the bot made, as sent (praw asks for raw
    JSON) or with `&`, `<` and `>` HTML-escaped (as Reddit sends text without `raw_json`)."""
    text, wanted = str(shown).strip(), made.strip()
    return text == wanted or html.unescape(text) == wanted


def quiet_mentions(text: str, keep: Iterable[str] = ()) -> str:
    """`text` with every u/name that is not one of `keep` (the accounts the post is meant to notify)
    written u\\/name: Reddit shows it the same but notifies nobody (a brand name, a quoted comment
    or a prize cannot ping people from the bot's account). A masked link to such an account's page
    becomes its text and the quieted name."""
    wanted = {name.lower() for name in keep}

    def quiet(match: re.Match[str]) -> str:
        prefix, name = match.group(1), match.group(2)
        if name.lower() in wanted:
            return match.group(0)
        return prefix.replace("u/", "u\\/") + name

    def unlink(match: re.Match[str]) -> str:
        shown, name = match.group(1), match.group(2)
        if name.lower() in wanted:
            return match.group(0)
        return f"{shown} (u\\/{name})" if shown.strip() else f"u\\/{name}"

    return _ACCOUNT_MENTION.sub(quiet, _ACCOUNT_LINK.sub(unlink, text))


class NotOnReddit(RuntimeError):
    """What an activation asked for cannot be done on Reddit, for good: it has no Reddit equivalent
    (channel permissions, webhooks, topics), or its subreddit or the thing it answers is gone. `key`,
    when given, says so in the moderators' words; the message is what the log keeps."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class CommentRefused(MicrovoiceError):
    """Reddit takes no comment there, for good: the post is locked (to all but its moderators) or
    archived (to everyone), or the comment answered was deleted. `key` says so in the reader's
    language: a command replies with it, and an activation's step fails with it as its reason."""


def refusal_key(kinds: Iterable[str]) -> str:
    """The catalog key of what moderators are told of a refusal naming `kinds` (Reddit's error
    types): the first known one in `REFUSED_STEPS`' order, else one its prefix names, else a
    sentence saying Reddit refused and that the log has its reason."""
    named = set(kinds)
    for kind, key in REFUSED_STEPS.items():
        if kind in named:
            return key
    for prefix, key in REFUSED_PREFIXES.items():
        if any(kind.startswith(prefix) for kind in named):
            return key
    return "reddit.refused.other"


#: A step whose answer was lost (a timeout, a 5xx) is tried again no sooner than this: Reddit may still
#: be making what it was asked for, and the retry looks for it first (`post_once`), which a look a
#: couple of seconds later could miss, and post it twice.
SETTLE_SECONDS = 60.0
#: The wait Reddit names in its rate limit's message ("Take a break for 9 minutes before trying
#: again"), as praw reads it.
_ASKED_WAIT = re.compile(r"([0-9]{1,4}) (milliseconds?|seconds?|minutes?)")


def asked_wait(error: BaseException) -> float | None:
    """Seconds Reddit's rate limit ("RATELIMIT") asks the bot to wait, None where it names no wait."""
    if not isinstance(error, praw.exceptions.RedditAPIException):
        return None
    for item in error.items:
        found = _ASKED_WAIT.search(item.message or "") if item.error_type == "RATELIMIT" else None
        if found:
            amount, unit = int(found.group(1)), found.group(2)
            if unit.startswith("milli"):
                return 0.0
            return amount * 60.0 if unit.startswith("minute") else float(amount)
    return None


def _refusal(error: BaseException) -> str:
    """Reddit's own code(s) of a refusal, for the log."""
    kinds = api_errors(error)
    return f"Reddit refused: {', '.join(sorted(kinds))}"[:300] if kinds else describe(error)


def reply_to(parent: Any, body: str) -> Any:
    """`parent.reply(body)`, with Reddit's final refusals of a comment as `CommentRefused`."""
    try:
        return parent.reply(body)
    except praw.exceptions.RedditAPIException as error:
        refused = sorted(REFUSED_COMMENTS.keys() & api_errors(error))
        if refused:
            raise CommentRefused(REFUSED_COMMENTS[refused[0]]) from error
        raise


def _plain(line: str) -> str:
    return line.strip().removeprefix("**").removesuffix("**").strip()


def _paragraphs(text: str) -> str:
    """Reddit's markdown joins single line breaks into one paragraph: keep each line its own."""
    return "\n\n".join(line for line in text.split("\n") if line.strip())


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def marker(nonce: str | None, part: int = 0) -> str:
    """The hidden marker of the body an attempt with `nonce` makes (its `part`-th, from 0, when a
    comment goes on in replies): Reddit has no nonce, so a look-up after a lost answer finds what
    that attempt made by it. Empty without a nonce."""
    if not nonce:
        return ""
    key = _MARKER_UNSAFE.sub("-", nonce)[:25] + (f".{part + 1}" if part else "")
    return f"\n\n[](#mv-{key})"


def marker_of(body: Any) -> str | None:
    """The key of the marker a body Reddit shows ends with (`marker`), None if it has none."""
    found = _MARKER.search(str(body or ""))
    return found.group(1) if found else None


def same_body(shown: Any, made: str) -> bool:
    """Whether a body Reddit shows is one the bot made: by the marker when `made` carries one (another
    post of the bot's with the same text is not it), else by its text (`same_text`)."""
    key = marker_of(made)
    return marker_of(shown) == key if key is not None else same_text(shown, made)


def plain_text(markdown: str) -> str:
    """Text written for markdown, for where Reddit shows plain text (a title, a message's subject):
    the backslashes that escape markdown characters would show."""
    return _MARKDOWN_ESCAPE.sub(r"\1", markdown)


def render_title(post: Post) -> str:
    """A submission's title: the card's (disclosed) title, else the content's first line (the tag),
    as plain text."""
    if post.card is not None and post.card.title:
        return _fit(plain_text(post.card.title), TITLE_LIMIT)
    first = (post.content or "").split("\n", 1)[0]
    return _fit(plain_text(_plain(first)), TITLE_LIMIT)


def render_body(post: Post, limit: int, notify: Iterable[str] = ()) -> str:
    """The content (its first line is the disclosure), then the card and attachments, as Reddit markdown,
    ending with the hidden marker of the post's nonce (`marker`); only the accounts named in `notify` are
    mentioned so that Reddit notifies them (`quiet_mentions`). An attachment too long for `limit` is cut
    here (`render_parts` carries on with the rest)."""
    return render_parts(post, limit, notify)[0]


def render_parts(post: Post, limit: int, notify: Iterable[str] = ()) -> list[str]:
    """`render_body`, then, when an attachment does not fit (a big giveaway's entrant list), one more
    body for each further run of its lines: each starts with the disclosure line and says which lines
    it holds, so the whole file is published (posted as a chain of replies, `RedditPlatform._continue`).
    Each part ends with its own marker, after the text is fitted, so that no cut can take it off and
    every part stays within `limit` with it."""
    room = limit - (MARKER_ROOM if post.nonce else 0)
    parts = [_paragraphs(post.content or "")]
    card = post.card
    if card is not None:
        if card.title:
            parts.append(f"**{card.title}**")
        if card.author:
            parts.append(card.author)
        if card.description:
            parts.append(_paragraphs(card.description))
    head = "\n\n".join(p for p in parts if p)
    tag_line = _paragraphs((post.content or "").split("\n", 1)[0])
    rest: list[str] = []
    for attachment in post.attachments:
        lines = attachment.data.decode("utf-8", "replace").splitlines()
        kept = _lines_that_fit(lines, room - len(head) - len(attachment.filename) - 80)
        block = "\n".join(f"    {line}" for line in lines[:kept])
        note = f" ({kept} of {len(lines)})" if kept < len(lines) else ""
        head += f"\n\n`{attachment.filename}`{note}:\n\n{block}"
        done = kept
        while done < len(lines):
            more = _lines_that_fit(lines[done:], room - len(tag_line) - len(attachment.filename) - 80)
            if more == 0:
                break
            block = "\n".join(f"    {line}" for line in lines[done : done + more])
            span = f"{done + 1}–{done + more} of {len(lines)}"
            rest.append(f"{tag_line}\n\n`{attachment.filename}` ({span}):\n\n{block}")
            done += more
    bodies = [quiet_mentions(body, notify) for body in (head, *rest)]
    marks = [marker(post.nonce, part) for part in range(len(bodies))]
    return [_fit(body, limit - len(mark)) + mark for body, mark in zip(bodies, marks, strict=True)]


def _lines_that_fit(lines: list[str], room: int) -> int:
    """How many of `lines`, from the first, fit in `room` characters as an indented code block."""
    used = 0
    for count, line in enumerate(lines):
        used += len(line) + 5
        if used > room:
            return count
    return len(lines)


class RedditPlatform:
    """Implements `bot.platform.Platform` and `bot.platform.Discussions` for the bot's Reddit account."""

    def __init__(
        self,
        adapter: RedditAdapter,
        subreddits: SubredditService,
        *,
        lang_of: Callable[[int], Awaitable[str]],
    ) -> None:
        self.adapter = adapter
        self.subreddits = subreddits
        self.lang_of = lang_of
        self.base_url = (adapter.settings.reddit_url or "https://www.reddit.com").rstrip("/")
        self._names: dict[int, str] = {}  # account ledger id -> username
        self._links: dict[int, str] = {}  # post or comment id -> permalink
        # account ledger id -> (when read, time.monotonic(); the account, None: none) (`account`)
        self._accounts: dict[int, tuple[float, Member | None]] = {}

    @property
    def username(self) -> str:
        return self.adapter.username

    def _notified(self, post: Post) -> list[str]:
        """The names of the accounts a post is meant to notify (its `notify` members)."""
        return [self._names[m] for m in post.notify if m in self._names]

    def forget(self, account_id: int) -> None:
        """An account was erased: its name, its profile (age, karma), and what the stream keeps of it,
        leave memory."""
        self._names.pop(account_id, None)
        self._accounts.pop(account_id, None)
        if is_reddit_id(account_id):
            self.adapter.forget_account(account_fullname(account_id))

    def remember(self, account_id: int, name: str) -> None:
        if len(self._names) > NAME_CACHE:
            self._names.clear()
        self._names[account_id] = name

    async def learn_names(self, account_ids: Iterable[int]) -> None:
        """Look up the names of accounts not seen since start-up (a ranking read back after a
        restart, a giveaway's winners), a hundred a request (`read_profiles`); those Reddit does not
        know, or all when Reddit cannot be reached within `NAME_LOOKUP_SECONDS`, stay named by their
        fullname."""
        wanted = [a for a in dict.fromkeys(account_ids) if is_reddit_id(a) and a not in self._names]
        if not wanted:
            return
        try:
            # A reply is waiting on this (Discord allows three seconds): fullnames rather than late.
            await asyncio.wait_for(self.read_profiles(wanted), NAME_LOOKUP_SECONDS)
        except Exception as error:  # a name is a courtesy: the reply goes out with fullnames
            log.warning("Reddit names of %d accounts not looked up: %s", len(wanted), describe(error))

    async def read_profiles(self, account_ids: list[int]) -> dict[int, Member | None]:
        """The profiles of these accounts (Reddit ids), read with `/api/user_data_by_account_ids`,
        `PROFILE_BATCH` a request: the name (remembered), age and karma of each. An account Reddit leaves
        out of its answer (deleted, suspended, shadow-banned, never existed) is None. Each batch is
        kept (`account`) as soon as it is read; a failure (429, 5xx, a timeout) is raised."""
        me = self.username.lower()

        def fetch(reddit: praw.Reddit, fullnames: list[str]) -> list[dict[str, Any]]:
            # One request for up to a hundred ids; Reddit's 404 (none of them known) yields nothing.
            return [vars(p) for p in reddit.redditors.partial_redditors(fullnames)]

        found: dict[int, Member | None] = {}
        for start in range(0, len(account_ids), PROFILE_BATCH):
            batch = {account_fullname(a): a for a in account_ids[start : start + PROFILE_BATCH]}
            read = await self.adapter.call(partial(fetch, fullnames=list(batch)))
            now = time.monotonic()
            members: dict[int, Member | None] = dict.fromkeys(batch.values())
            for data in read:
                account = batch.get(str(data.get("fullname", "")))
                name = str(data.get("name") or "")
                if account is None or not name or data.get("created_utc") is None:
                    continue
                self.remember(account, name)
                karma = sum(int(data.get(k) or 0) for k in ("link_karma", "comment_karma"))
                members[account] = Member(
                    id=account,
                    created_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
                    is_bot=name.lower() == me,
                    karma=karma,
                )
            if len(self._accounts) + len(members) > NAME_CACHE:
                self._accounts.clear()
            for account, member in members.items():
                self._accounts[account] = (now, member)
            found.update(members)
        return found

    def _remember_author(self, thing: Any) -> int | None:
        author, fullname = thing.author, getattr(thing, "author_fullname", None)
        if author is None or not fullname:
            return None
        try:
            account = ledger_id(fullname, ACCOUNT)
        except BadFullname:
            return None
        self.remember(account, str(author))
        return account

    # -- Platform: publishing -----------------------------------------------------------------------

    async def wait_until_ready(self) -> None:
        return None  # every call signs in as needed; a refused account raises RedditUnavailable

    async def post(self, community_id: int, channel_id: int, post: Post) -> Posted:
        kind = thing_kind(channel_id)
        if kind == SUBREDDIT:
            return await self._submit(community_id, channel_id, post)
        target = post.reply_to if post.reply_to is not None and thing_kind(post.reply_to) else channel_id
        return await self._comment(channel_id, target, post)

    async def _submit(self, community_id: int, subreddit_id: int, post: Post) -> Posted:
        bound = await self.subreddits.binding(subreddit_id)
        if bound is None:
            raise NotOnReddit(f"subreddit {subreddit_id} is no longer bound", "reddit.refused.unbound")
        title, body = render_title(post), render_body(post, SELF_POST_LIMIT, self._notified(post))

        def submit(reddit: praw.Reddit) -> tuple[str, str]:
            sub = reddit.subreddit(bound.name)
            # Replies are read from the thread, not the inbox (a giveaway's entries would flood it).
            made = sub.submit(
                title=title, selftext=body, flair_id=bound.sponsored_flair_id or None, send_replies=False
            )
            return str(made.id), str(made.fullname)

        id36, fullname = await self.adapter.call(submit)
        await self._featured(community_id, bound, fullname)
        message_id = thing_id(fullname)
        link = f"{self.base_url}/r/{bound.name}/comments/{id36}/"
        self._links[message_id] = link
        return Posted(message_id, subreddit_id, link)

    async def _featured(self, community_id: int, bound: BoundSubreddit, fullname: str) -> None:
        """Feature a post of the bot's (`_feature`) and note what that showed of its moderator rights.
        The post exists from here on: featuring it is a courtesy that never fails or repeats it."""
        moderates = await self._feature(bound.name, fullname)
        if moderates is not None:  # unknown when Reddit failed: nothing is concluded from that
            if moderates != bound.bot_moderates:
                await self.subreddits.note_moderation(bound.subreddit_id, moderates)
            tell = not moderates and await self.subreddits.tell_moderators_once(bound.subreddit_id)
            if tell and not await self._tell_moderators(community_id, bound.name):
                await self.subreddits.telling_failed(bound.subreddit_id)  # told with the next post

    async def _feature(self, subreddit: str, fullname: str) -> bool | None:
        """Distinguish a new post, and sticky it while a sticky slot is free (a subreddit has two, and
        its moderators' own are not displaced), where the bot's account moderates the subreddit with
        the posts permission. Returns whether it does, None when Reddit failed to say (a 5xx, a rate
        limit): a failure is logged, never raised, and is no sign that the bot lost its rights."""
        me = self.username

        def feature(reddit: praw.Reddit) -> bool:
            sub = reddit.subreddit(subreddit)
            if not manages_posts(sub, me):
                return False
            made = reddit.submission(fullname[3:])
            made.mod.distinguish(how="yes")
            if free_sticky_slot(sub):
                made.mod.sticky(bottom=True)
            return True

        try:
            return await self.adapter.call(feature)
        except Exception as error:
            log.warning("r/%s: post %s made, but not featured: %s", subreddit, fullname, describe(error))
            return None

    async def _tell_moderators(self, community_id: int, name: str) -> bool:
        """Message the subreddit's moderators that the bot cannot feature its posts; False if Reddit
        did not take the message."""
        lang = await self.lang_of(community_id)
        subject = i18n.t(lang, "reddit.mods_subject")
        text = i18n.t(lang, "reddit.mods_body", bot=self.username, name=name)

        def send(reddit: praw.Reddit) -> None:
            reddit.subreddit(name).message(subject=subject, message=text)

        try:
            await self.adapter.call(send)
        except Exception as error:
            log.warning("could not message the moderators of r/%s: %s", name, describe(error))
            return False
        return True

    async def _comment(self, channel_id: int, target: int, post: Post) -> Posted:
        body, *rest = render_parts(post, COMMENT_LIMIT, self._notified(post))
        target_name = fullname_of(target)

        def reply(reddit: praw.Reddit) -> tuple[str, str, str]:
            parent: Any = (
                reddit.submission(target_name[3:])
                if target_name.startswith(f"{SUBMISSION}_")
                else reddit.comment(target_name[3:])
            )
            made = reply_to(parent, body)
            if made is None:
                raise NotOnReddit(
                    f"{target_name} takes no replies (locked or deleted)", "reddit.refused.no_replies"
                )
            return str(made.fullname), str(made.subreddit), str(made.link_id)

        fullname, sub, link_id = await self.adapter.call(reply)
        await self._distinguish(sub, fullname)
        await self._continue(fullname, rest)
        message_id = thing_id(fullname)
        link = f"{self.base_url}/r/{sub}/comments/{link_id[3:]}/_/{fullname[3:]}/"
        self._links[message_id] = link
        return Posted(message_id, channel_id, link)

    async def _distinguish(self, sub: str, fullname: str) -> None:
        """Distinguish a comment of the bot's where its account moderates the subreddit. The comment
        exists from here on: distinguishing it never fails or repeats it."""
        me = self.username

        def distinguish(reddit: praw.Reddit) -> None:
            if manages_posts(reddit.subreddit(sub), me):
                reddit.comment(fullname[3:]).mod.distinguish(how="yes")

        try:
            await self.adapter.call(distinguish)
        except Exception as error:
            log.warning("r/%s: comment %s made, but not distinguished: %s", sub, fullname, describe(error))

    async def _continue(self, fullname: str, parts: list[str]) -> None:
        """The rest of a comment too long for one (`render_parts`), as a chain of replies to it, each
        made once: a reply of the bot's with the same marker (`same_body`), left by an interrupted
        attempt, is kept.

        The comment's replies are read once, whole (every "load more comments" and "continue this
        thread" stub replaced), and the chain walked in memory: read again from each part, the parts
        below Reddit's tenth level come back through the same "continue this thread" stub, and praw
        refuses a comment it already holds (`DuplicateReplaceException`)."""
        if not parts:
            return
        me = self.username.lower()

        def chain(reddit: praw.Reddit) -> None:
            parent = reddit.comment(fullname[3:])
            parent.refresh()
            parent.replies.replace_more(limit=None)
            # Each part is distinguished as the first comment is (`_distinguish`): one thread of the bot's.
            moderates = bool(field_of(parent, "distinguished"))
            for body in parts:
                made = next(
                    (
                        r
                        for r in parent.replies
                        if str(getattr(r, "author", "") or "").lower() == me and same_body(r.body, body)
                    ),
                    None,
                )
                if made is None:
                    made = reply_to(parent, body)
                    if made is None:
                        raise NotOnReddit(
                            f"{parent.fullname} takes no replies (locked or deleted)",
                            "reddit.refused.no_replies",
                        )
                if moderates and not field_of(made, "distinguished"):
                    try:  # a courtesy: the part exists, and the chain goes on without it
                        made.mod.distinguish(how="yes")
                    except (praw.exceptions.PRAWException, prawcore.PrawcoreException) as error:
                        name = made.fullname
                        log.warning("comment %s made, but not distinguished: %s", name, describe(error))
                parent = made

        await self.adapter.call(chain)

    def keeps_nonces(self, channel_id: int) -> bool:
        """Reddit has no nonce: only the look-up stops a duplicate."""
        return False

    async def find_post(self, community_id: int, channel_id: int, post: Post) -> Posted | None:
        """Reddit keeps no nonce: a post an interrupted attempt made is recognised by its author (the
        bot) and the hidden marker its body ends with (`marker`: the attempt's nonce), among the bot's
        newest submissions in the subreddit or the replies to the same target. Another post of the
        bot's with the same title or text is not it. A post asked for without a nonce is recognised by
        its title, or its body, as sent."""
        me = self.username.lower()
        if thing_kind(channel_id) == SUBREDDIT:
            bound = await self.subreddits.binding(channel_id)
            if bound is None:
                return None
            title = render_title(post)
            key = marker_of(marker(post.nonce))

            def is_it(made: Any) -> bool:
                if key is not None:
                    return marker_of(field_of(made, "selftext")) == key
                return same_text(made.title, title)

            def newest(reddit: praw.Reddit) -> tuple[str, str, bool] | None:
                # The bot's own submissions: its author sees them even when the spam filter or a
                # moderator keeps them out of the subreddit's /new (read when they cannot be).
                try:
                    made_by_me = list(reddit.redditor(self.username).submissions.new(limit=100))
                except prawcore.exceptions.ResponseException:
                    listed = reddit.subreddit(bound.name).new(limit=100)
                    made_by_me = [t for t in listed if str(t.author or "").lower() == me]
                for made in made_by_me:
                    if str(made.subreddit).lower() == bound.name.lower() and is_it(made):
                        return str(made.id), str(made.fullname), bool(field_of(made, "distinguished"))
                return None

            found = await self.adapter.call(newest)
            if found is None:
                return None
            if not found[2]:  # the attempt that made it was cut off before featuring it
                await self._featured(community_id, bound, found[1])
            message_id = thing_id(found[1])
            link = f"{self.base_url}/r/{bound.name}/comments/{found[0]}/"
            self._links[message_id] = link
            return Posted(message_id, channel_id, link)
        target = post.reply_to if post.reply_to is not None and thing_kind(post.reply_to) else channel_id
        target_name = fullname_of(target)
        body, *rest = render_parts(post, COMMENT_LIMIT, self._notified(post))

        def replies(reddit: praw.Reddit) -> tuple[str, str, str, bool] | None:
            if target_name.startswith(f"{SUBMISSION}_"):
                submission = reddit.submission(target_name[3:])
                submission.comments.replace_more(limit=None)
                candidates = list(submission.comments)
            else:
                comment = reddit.comment(target_name[3:])
                comment.refresh()
                comment.replies.replace_more(limit=None)
                candidates = list(comment.replies)
            for made in candidates:
                if str(made.author or "").lower() == me and same_body(made.body, body):
                    distinguished = bool(field_of(made, "distinguished"))
                    return str(made.fullname), str(made.subreddit), str(made.link_id), distinguished
            return None

        found_comment = await self.adapter.call(replies)
        if found_comment is None:
            return None
        fullname, sub, link_id, distinguished = found_comment
        if not distinguished:  # the attempt that made it was cut off before distinguishing it
            await self._distinguish(sub, fullname)
        await self._continue(fullname, rest)  # an interrupted attempt may have made only part of it
        message_id = thing_id(fullname)
        link = f"{self.base_url}/r/{sub}/comments/{link_id[3:]}/_/{fullname[3:]}/"
        self._links[message_id] = link
        return Posted(message_id, channel_id, link)

    def failure(self, error: Exception) -> Failure:
        """Reddit's refusals (403, 404, 400, a thing that takes no replies, and the errors its API
        names: a locked thread, a ban, a post type or flair the subreddit does not take, an account
        that takes no messages) are permanent; 5xx, 429, Reddit's own rate limit ("you are doing that
        too much") and broken connections are worth retrying. Moderators read each in their own words
        (a catalog key, `REFUSED_STEPS`); the log keeps Reddit's code (`detail`)."""
        if isinstance(error, NotOnReddit):
            return Failure(True, error.key or str(error)[:300], detail=str(error)[:300])
        if isinstance(error, CommentRefused):
            return Failure(True, error.key, detail=_refusal(error.__cause__ or error))
        kinds = api_errors(error)
        if kinds:
            permanent, wait = not kinds <= RETRYABLE_API_ERRORS, asked_wait(error)
            return Failure(permanent, refusal_key(kinds), detail=_refusal(error), retry_after=wait)
        cause = error.__cause__ if isinstance(error, RedditUnavailable) else error
        if isinstance(cause, prawcore.exceptions.ResponseException):
            status = cause.response.status_code
            if status == 429 or isinstance(cause, prawcore.exceptions.TooManyRequests):
                return Failure(False, "reddit.failure.rate_limited", detail=describe(cause))
            if status >= 500 or status == 408:
                down = describe(cause)
                return Failure(False, "reddit.failure.down", detail=down, retry_after=SETTLE_SECONDS)
            if status in REFUSED_STATUS and not isinstance(error, RedditUnavailable):
                return Failure(True, REFUSED_STATUS[status], detail=describe(cause))
        if isinstance(cause, prawcore.exceptions.RequestException | TimeoutError):
            return Failure(False, "reddit.failure.down", detail=describe(cause), retry_after=SETTLE_SECONDS)
        if isinstance(error, RedditUnavailable):
            # Refused credentials or a token Reddit keeps refusing (the adapter says which in its log).
            detail = describe(cause) if cause is not None else "Reddit side switched off"
            return Failure(False, "reddit.failure.unavailable", detail=detail)
        if isinstance(error, prawcore.exceptions.PrawcoreException | praw.exceptions.PRAWException):
            return Failure(False, f"{type(error).__name__}: {error}"[:300])  # Reddit's own answer
        return other_failure(error)

    async def edit(self, community_id: int, channel_id: int, message_id: int, post: Post) -> None:
        name = fullname_of(message_id)
        limit = SELF_POST_LIMIT if name.startswith(f"{SUBMISSION}_") else COMMENT_LIMIT
        body = render_body(post, limit, self._notified(post))

        def edit(reddit: praw.Reddit) -> None:
            thing: Any = (
                reddit.submission(name[3:]) if name.startswith(f"{SUBMISSION}_") else reddit.comment(name[3:])
            )
            thing.edit(body)

        await self.adapter.call(edit)

    async def open_thread(self, community_id: int, channel_id: int, message_id: int, name: str) -> int:
        return message_id  # a post's comments are its discussion

    async def republish(
        self, community_id: int, channel_id: int, message_id: int, post: Post, author: Author
    ) -> Posted:
        raise NotOnReddit("Reddit cannot republish a member's comment in their name")

    async def channel_state(self, channel_id: int, member_id: int) -> ChannelState:
        raise NotOnReddit("subreddits have no per-member channel permissions")

    async def grant_posting(
        self, channel_id: int, member_id: int, *, base: Overwrite | None, reason: str
    ) -> None:
        raise NotOnReddit("subreddits have no per-member channel permissions")

    async def restore_overwrite(
        self, channel_id: int, member_id: int, overwrite: Overwrite | None, *, reason: str
    ) -> None:
        raise NotOnReddit("subreddits have no per-member channel permissions")

    async def set_topic(self, channel_id: int, topic: str | None, *, reason: str) -> None:
        raise NotOnReddit("a subreddit's sidebar is not changed for an activation")

    async def send_private(self, member_id: int, post: Post) -> Posted | None:
        name = self._names.get(member_id)
        if name is None:
            return None
        subject = _fit(plain_text(_plain((post.content or "").split("\n", 1)[0])), 100)
        body = render_body(post, COMMENT_LIMIT, self._notified(post))

        def send(reddit: praw.Reddit) -> None:
            reddit.redditor(name).message(subject=subject, message=body)

        await self.adapter.call(send)
        return Posted(0, member_id, f"{self.base_url}/message/sent/")

    async def member(self, community_id: int, member_id: int) -> Member | None:
        return await self.account(member_id)

    # -- Discussions ------------------------------------------------------------------------------

    async def replies(self, community_id: int, message_id: int) -> list[Reply]:
        name = fullname_of(message_id)
        me = self.username.lower()

        def read(reddit: praw.Reddit) -> list[Any]:
            submission = reddit.submission(name[3:])
            submission.comment_sort = "top"
            submission.comments.replace_more(limit=None)
            return list(submission.comments)

        replies: list[Reply] = []
        machinery = MACHINERY | {me}
        for top in await self.adapter.call(read):
            if not isinstance(top, praw.models.Comment) or str(top.author or "").lower() in machinery:
                continue
            if removed(top) or field_of(top, "distinguished"):
                # A moderator sees a removed comment (spam-filtered, or removed by a moderator or
                # AutoModerator) with its author and text: no entry and no question. Nor is a
                # comment a moderator distinguished (the subreddit speaking, not a participant).
                continue
            author = self._remember_author(top)
            answers = []
            for child in getattr(top, "replies", []) or []:
                if removed(child):
                    continue
                child_author = self._remember_author(child)
                if child_author is not None:
                    answers.append((child_author, thing_id(child.fullname)))
            replies.append(
                Reply(
                    id=thing_id(top.fullname),
                    author_id=author,
                    author_name=str(top.author) if top.author is not None else "[deleted]",
                    body=str(top.body or ""),  # as written: praw asks for raw JSON
                    score=int(top.score or 0),
                    created_at=datetime.fromtimestamp(float(top.created_utc), UTC),
                    answered_by=tuple(answers),
                )
            )
        replies.sort(key=lambda r: (-r.score, r.created_at))
        return replies

    async def account(self, member_id: int) -> Member | None:
        """The account's profile (`accounts`, for one)."""
        return (await self.accounts([member_id])).get(member_id)

    async def accounts(self, member_ids: Iterable[int]) -> dict[int, Member | None]:
        """The profiles of these accounts, a hundred a request (a giveaway's sync reads every new
        entrant's): None for an account that has none (deleted, suspended, shadow-banned: Reddit
        leaves it out, and its own profile, read to be sure where its name is known, shows none).
        Any failure (429, 5xx, a timeout) is raised, not taken for a missing account.
        Each is read at most every `ACCOUNT_SECONDS`; ids that are not Reddit accounts are None."""
        now = time.monotonic()
        found: dict[int, Member | None] = {}
        unread: list[int] = []
        for member_id in dict.fromkeys(member_ids):
            known = self._accounts.get(member_id)
            if not is_reddit_id(member_id):
                found[member_id] = None
            elif known is not None and now - known[0] < ACCOUNT_SECONDS:
                found[member_id] = known[1]
            else:
                unread.append(member_id)
        if unread:
            read = await self.read_profiles(unread)
            for member_id, member in read.items():
                name = self._names.get(member_id)
                if member is None and name is not None:
                    # Left out of the bulk answer: confirmed with the account's own profile, which
                    # every Reddit API serves (a suspended or deleted account has none there either).
                    member = await self.adapter.call(partial(self._about, member_id=member_id, name=name))
                    self._accounts[member_id] = (time.monotonic(), member)
                found[member_id] = member
        return found

    def _about(self, reddit: praw.Reddit, member_id: int, name: str) -> Member | None:
        """The profile `/user/{name}/about` shows: None for an account deleted, banned (404, 403) or
        suspended (`is_suspended`). Any other failure is raised."""
        redditor = profile(reddit, name)
        if redditor is None:
            return None
        karma = sum(int(getattr(redditor, k, 0) or 0) for k in ("link_karma", "comment_karma"))
        return Member(
            id=member_id,
            created_at=datetime.fromtimestamp(float(redditor.created_utc), UTC),
            is_bot=name.lower() == self.username.lower(),
            karma=karma,
        )

    async def moderators(self, channel_id: int) -> frozenset[int]:
        bound = await self.subreddits.binding(channel_id)
        if bound is None:
            return frozenset()

        def read(reddit: praw.Reddit) -> list[tuple[str, str]]:
            return [(str(m), str(getattr(m, "id", ""))) for m in reddit.subreddit(bound.name).moderator()]

        found: set[int] = set()
        for name, raw in await self.adapter.call(read):
            fullname = raw if raw.startswith(f"{ACCOUNT}_") else f"{ACCOUNT}_{raw}"
            try:
                account = ledger_id(fullname, ACCOUNT)
            except BadFullname:
                continue
            self.remember(account, name)
            found.add(account)
        return frozenset(found)

    async def post_rules(self, channel_id: int) -> PostRules | None:
        """The subreddit's post requirements (GET /api/v1/{sub}/post_requirements): whether every
        post needs a flair, whether text posts are taken, the longest title and the words a title
        must hold one of, the shortest title, the words no title may hold and the patterns a title
        must match one of. None when Reddit does not answer."""
        bound = await self.subreddits.binding(channel_id)
        if bound is None:
            return None

        def read(reddit: praw.Reddit) -> dict[str, Any]:
            return dict(reddit.subreddit(bound.name).post_requirements())

        try:
            found = await self.adapter.call(read)
        except Exception as error:  # the go-live step still meets the refusal, and says so
            log.info("r/%s: post requirements not read (%s)", bound.name, describe(error))
            return None

        def length(key: str) -> int | None:
            value = found.get(key)
            return int(value) if isinstance(value, int | float) and value > 0 else None

        def words(key: str) -> tuple[str, ...]:
            value = found.get(key) or ()
            return tuple(str(w) for w in value if str(w).strip()) if isinstance(value, list | tuple) else ()

        return PostRules(
            flair_required=bool(found.get("is_flair_required")),
            text_allowed=found.get("body_restriction_policy") != "notAllowed",
            title_max=length("title_text_max_length"),
            title_required=words("title_required_strings"),
            title_min=length("title_text_min_length"),
            title_banned=words("title_blacklisted_strings"),
            title_patterns=words("title_regexes"),
        )

    async def close_post(self, community_id: int, message_id: int, *, lock: bool = True) -> bool:
        name = fullname_of(message_id)
        if not name.startswith(f"{SUBMISSION}_"):
            raise NotOnReddit(f"{name} is not a post")
        me = self.username

        def close(reddit: praw.Reddit) -> bool:
            submission = reddit.submission(name[3:])
            sub = reddit.subreddit(str(submission.subreddit))
            if not manages_posts(sub, me):
                return False
            if submission.stickied:
                submission.mod.sticky(state=False)
            if lock:
                submission.mod.lock()
            return True

        return await self.adapter.call(close)

    # -- rendering ----------------------------------------------------------------------------------

    def mention(self, member_id: int) -> str:
        name = self._names.get(member_id)
        if name is not None:
            return f"u/{name}"
        try:
            return account_fullname(member_id)
        except ValueError:
            return str(member_id)

    def channel_link(self, channel_id: int) -> str:
        if channel_id in self._links:
            return self._links[channel_id]
        kind = thing_kind(channel_id)
        if kind == SUBREDDIT:
            name = self.subreddits.name_of(channel_id)
            return f"r/{name}" if name else fullname_of(channel_id)
        if kind == SUBMISSION:
            return f"{self.base_url}/comments/{fullname_of(channel_id)[3:]}/"
        if kind == COMMENT:
            return fullname_of(channel_id)
        return str(channel_id)

    def role_mention(self, role_id: int) -> str:
        return ""  # Reddit has no roles; Reddit activations set no role rules

    def timestamp(self, when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
