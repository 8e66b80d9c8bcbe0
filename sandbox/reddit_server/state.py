"""What the Reddit sandbox holds: accounts, subreddits, posts and comments, private messages, tokens.

Ids are base-36 and increase with time, one sequence per kind (as on Reddit). Listings are newest
first by when an item entered them, which is its id's order except for an item the spam filter held
back: it enters the listing when a moderator approves it, at the front, with its old id (as Reddit
moves an approved post to the front of `/new`), or, with `RedditState.by_age`, where its age places it.
"""

from __future__ import annotations

import html
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

#: Whether the request being answered asked for raw JSON (`raw_json=1`, which praw always sends):
#: then text is sent as written; without it Reddit's API sends `&`, `<` and `>` as HTML entities.
RAW_JSON: ContextVar[bool] = ContextVar("raw_json", default=False)


def _text(value: str) -> str:
    return value if RAW_JSON.get() else html.escape(value, quote=False)


BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
DELETED = "[deleted]"


def to_base36(n: int) -> str:
    digits = ""
    while True:
        n, rem = divmod(n, 36)
        digits = BASE36[rem] + digits
        if n == 0:
            return digits


class Ids:
    """One increasing base-36 sequence per kind prefix (t1, t2, t3, t4, t5)."""

    def __init__(self) -> None:
        # Start high enough that ids have Reddit's usual length.
        self._next: dict[str, int] = {}

    def next(self, kind: str) -> str:
        value = self._next.get(kind, 36**5 + 1000)
        self._next[kind] = value + 1
        return to_base36(value)


@dataclass
class Account:
    id: str
    name: str
    password: str
    created_utc: float
    link_karma: int = 1
    comment_karma: int = 1
    #: Suspended by Reddit: its profile says only that, and bulk profile reads leave it out.
    suspended: bool = False

    @property
    def fullname(self) -> str:
        return f"t2_{self.id}"


@dataclass
class FlairTemplate:
    id: str
    text: str
    #: Only moderators may choose it: left out of what a member may pick from (the flair selector).
    mod_only: bool = False


@dataclass
class Subreddit:
    id: str
    name: str
    created_utc: float
    moderators: list[str] = field(default_factory=list)
    flairs: list[FlairTemplate] = field(default_factory=list)
    lang: str = "en"
    #: A moderator's permissions when not all of them (by lower-case name; e.g. ["mail", "flair"]).
    permissions: dict[str, list[str]] = field(default_factory=dict)
    #: The stickied posts, top first (a subreddit has two slots).
    stickies: list[str] = field(default_factory=list)
    #: Its post requirements (GET /api/v1/{sub}/post_requirements): a flair on every post; text posts.
    flair_required: bool = False
    text_posts: bool = True
    #: ... the longest title it takes (None: Reddit's 300), and words a title must hold one of.
    title_max: int | None = None
    title_required: list[str] = field(default_factory=list)
    #: ... the shortest title, words no title may hold, patterns a title must match one of.
    title_min: int | None = None
    title_banned: list[str] = field(default_factory=list)
    title_patterns: list[str] = field(default_factory=list)
    #: Who may read it: "public"; "private" (its moderators only); "banned" (nobody: Reddit banned
    #: it); "quarantined" (only accounts that opted in, `quarantine_optins`).
    access: str = "public"
    quarantine_optins: set[str] = field(default_factory=set)  # lower-case account names

    def refusal(self, viewer: str | None) -> tuple[int, dict[str, Any]] | None:
        """What Reddit answers `viewer` instead of the subreddit's content, None when it may read it:
        403 with `reason` "private" or "quarantined", 404 with `reason` "banned"."""
        who = (viewer or "").lower()
        if self.access == "banned":
            return 404, {"reason": "banned", "message": "Not Found", "error": 404}
        if self.access == "private" and who not in (m.lower() for m in self.moderators):
            return 403, {"reason": "private", "message": "Forbidden", "error": 403}
        if self.access == "quarantined" and who not in self.quarantine_optins:
            return 403, {
                "reason": "quarantined",
                "quarantine_message": "This community is quarantined.",
                "message": "Forbidden",
                "error": 403,
            }
        return None

    def permissions_of(self, name: str) -> list[str]:
        return self.permissions.get(name.lower(), ["all"])

    def may(self, name: str, permission: str) -> bool:
        """Whether `name` moderates the subreddit with `permission` (or all permissions)."""
        if name.lower() not in (m.lower() for m in self.moderators):
            return False
        held = self.permissions_of(name)
        return "all" in held or permission in held

    @property
    def fullname(self) -> str:
        return f"t5_{self.id}"


@dataclass
class Thing:
    """A submission (t3) or a comment (t1)."""

    kind: str  # "t1" or "t3"
    id: str
    subreddit: Subreddit
    author: str  # account name, or "[deleted]"
    author_fullname: str | None
    created_utc: float
    body: str = ""  # selftext for a submission
    title: str = ""
    parent_id: str = ""  # comments: fullname of the parent (t3 or t1)
    link_id: str = ""  # comments: fullname of the submission
    flair_text: str | None = None
    flair_template_id: str | None = None
    score: int = 1
    stickied: bool = False
    locked: bool = False  # submissions: only moderators may comment
    distinguished: str | None = None
    removed: bool = False
    removed_by: str | None = None  # the moderator who removed it
    filtered: bool = False  # held back by the spam filter: in no listing until approved
    listed: int = 0  # when it entered its listing (a sequence; listings are newest first by it)
    by_bot: bool = False  # made through the API by the app's own account
    edits: int = 0  # how many times its author edited it
    edited_utc: float | None = None  # when it was last edited (Reddit's `edited`; false before)
    deleted: bool = False  # deleted by its author: "[deleted]" as author and text, to everyone
    archived: bool = False  # submissions: older than Reddit's archive age, no more comments or votes
    send_replies: bool = True  # replies to it land in its author's inbox

    @property
    def fullname(self) -> str:
        return f"{self.kind}_{self.id}"


@dataclass
class Message:
    id: str
    author: str
    dest: str
    subject: str
    body: str
    created_utc: float
    new: bool = True
    author_fullname: str | None = None

    @property
    def fullname(self) -> str:
        return f"t4_{self.id}"


@dataclass
class Notice:
    """A comment reply in the inbox of the author of what it answers ("post reply", "comment reply")."""

    comment: Thing
    dest: str
    new: bool = True


@dataclass
class Token:
    account: str
    expires_at: float


@dataclass
class RedditState:
    ids: Ids = field(default_factory=Ids)
    accounts: dict[str, Account] = field(default_factory=dict)  # by lower-case name
    subreddits: dict[str, Subreddit] = field(default_factory=dict)  # by lower-case name
    things: dict[str, Thing] = field(default_factory=dict)  # by fullname
    messages: dict[str, Message] = field(default_factory=dict)  # by fullname
    notices: dict[str, Notice] = field(default_factory=dict)  # by the comment's fullname
    tokens: dict[str, Token] = field(default_factory=dict)
    listed: int = 0  # the last listing sequence number given out
    #: Listings strictly by age (id order): an item approved out of the spam filter is put back
    #: where its age places it, not at the front (an API may do either).
    by_age: bool = False

    def enter_listing(self, thing: Thing) -> None:
        """The item enters its listing now (at the front)."""
        self.listed += 1
        thing.listed = self.listed

    def account(self, name: str) -> Account | None:
        return self.accounts.get(name.lower())

    def subreddit(self, name: str) -> Subreddit | None:
        return self.subreddits.get(name.lower())

    def listing_of(self, sub: Subreddit, kind: str) -> list[Thing]:
        """A subreddit's comments or submissions, newest first by when they entered the listing."""
        items = [t for t in self.things.values() if t.kind == kind and t.subreddit is sub and not t.filtered]
        if self.by_age:
            return sorted(items, key=lambda t: int(t.id, 36), reverse=True)
        return sorted(items, key=lambda t: t.listed, reverse=True)


def now() -> float:
    return time.time()


def moderates(sub: Subreddit, viewer: str | None) -> bool:
    return viewer is not None and viewer.lower() in (m.lower() for m in sub.moderators)


def thing_json(t: Thing, viewer: str | None = None) -> dict[str, Any]:
    """A t1 or t3 object as Reddit's API returns it to `viewer` (the fields praw reads, and a few
    more). A removed item shows its author and text to the subreddit's moderators only, with who
    removed it (`banned_by`, `removed`); everyone else sees "[deleted]" and "[removed]"."""
    moderator = moderates(t.subreddit, viewer)
    hidden = t.removed and not moderator
    author = DELETED if hidden or t.deleted else t.author
    text = DELETED if t.deleted else _text(t.body)
    data: dict[str, Any] = {
        "id": t.id,
        "name": t.fullname,
        "author": author,
        "subreddit": t.subreddit.name,
        "subreddit_id": t.subreddit.fullname,
        "subreddit_name_prefixed": f"r/{t.subreddit.name}",
        "created_utc": t.created_utc,
        "created": t.created_utc,
        "score": t.score,
        "ups": t.score,
        "downs": 0,
        "stickied": t.stickied,
        "distinguished": t.distinguished,
        "archived": t.archived,
        "locked": t.locked,
        "edited": t.edited_utc if t.edited_utc is not None else False,
        "banned_by": (t.removed_by or True) if t.removed and moderator else None,
    }
    if t.kind == "t3":  # a post's field; a comment removed shows only "[deleted]" and "[removed]"
        data["removed_by_category"] = "deleted" if t.deleted else "moderator" if t.removed else None
    if moderator:
        data.update(removed=t.removed, spam=False, approved=not t.removed and not t.filtered)
    if author != DELETED and t.author_fullname:
        data["author_fullname"] = t.author_fullname
    if t.kind == "t1":
        data.update(
            body="[removed]" if hidden else text,
            parent_id=t.parent_id,
            link_id=t.link_id,
            replies="",
            is_submitter=False,
            permalink=f"/r/{t.subreddit.name}/comments/{t.link_id[3:]}/_/{t.id}/",
        )
    else:
        data.update(
            title=_text(t.title),
            selftext="[removed]" if hidden else text,
            is_self=True,
            link_flair_text=t.flair_text,
            link_flair_template_id=t.flair_template_id,
            num_comments=0,
            permalink=f"/r/{t.subreddit.name}/comments/{t.id}/_/",
            url=f"/r/{t.subreddit.name}/comments/{t.id}/_/",
            over_18=False,
            spoiler=False,
        )
    return {"kind": t.kind, "data": data}


def account_json(a: Account) -> dict[str, Any]:
    if a.suspended:  # all Reddit shows of a suspended account
        return {"name": a.name, "is_suspended": True}
    return {
        "id": a.id,
        "name": a.name,
        "created_utc": a.created_utc,
        "created": a.created_utc,
        "link_karma": a.link_karma,
        "comment_karma": a.comment_karma,
        "total_karma": a.link_karma + a.comment_karma,
        "is_suspended": False,
        "has_verified_email": True,
    }


def message_json(m: Message) -> dict[str, Any]:
    return {
        "kind": "t4",
        "data": {
            "id": m.id,
            "name": m.fullname,
            "author": m.author,
            **({"author_fullname": m.author_fullname} if m.author_fullname else {}),
            "dest": m.dest,
            "subject": m.subject,
            "body": m.body,
            "created_utc": m.created_utc,
            "new": m.new,
            "was_comment": False,
            "first_message_name": None,
            "parent_id": None,
            "subreddit": None,
            "replies": "",
            "context": "",
        },
    }


def notice_json(n: Notice, parent: Thing | None) -> dict[str, Any]:
    """A comment reply as the inbox lists it: the comment (kind t1) with the inbox's fields."""
    data = thing_json(n.comment)["data"]
    data.update(
        dest=n.dest,
        new=n.new,
        was_comment=True,
        subject="post reply" if parent is not None and parent.kind == "t3" else "comment reply",
        context=data.get("permalink", ""),
    )
    return {"kind": "t1", "data": data}


def listing(children: list[dict[str, Any]], *, after: str | None, before: str | None) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": after, "before": before, "dist": len(children), "children": children},
    }
