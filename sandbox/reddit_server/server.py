"""`RedditSandbox`: a local HTTP server speaking the part of Reddit's API that praw uses for Microvoice.

One aiohttp application serves both of praw's hosts (`reddit_url` for the OAuth token, `oauth_url`
for the API), so praw is pointed at it with its own settings::

    sandbox = RedditSandbox(); await sandbox.start()
    praw.Reddit(..., oauth_url=sandbox.url, reddit_url=sandbox.url, short_url=sandbox.url)

It follows Reddit's documented behaviour where praw depends on it: listings are
`{"kind": "Listing", "data": {"children": [...], "after": ..., "before": ...}}`, newest first, paged
with `before`/`after` fullnames (an anchor no longer in the listing gives an empty page); write
endpoints answer `{"json": {"errors": [], "data": ...}}`; every response carries the rate-limit
headers `x-ratelimit-remaining`, `x-ratelimit-used` and `x-ratelimit-reset`; an unknown or expired
token gets 401 with `www-authenticate: Bearer realm="reddit", error="invalid_token"`; a wrong password
gets `{"error": "invalid_grant"}` (status 200, as Reddit does) and a wrong client secret 401.
Moderators' actions need the account to moderate the subreddit (distinguish, sticky, lock), and a
locked post takes comments from its subreddit's moderators only (`THREAD_LOCKED` otherwise). A removed
item keeps its author for the subreddit's moderators (marked `removed`, `banned_by`) and shows
"[deleted]" to everyone else; an item held by the spam filter is in no listing until approved, and
then enters it at the front with its old id. A subreddit can go private (its moderators only),
quarantined (accounts that opted in with `/api/quarantine_option` only) or banned: its listings, tree
and about pages answer 403 or 404 with Reddit's `reason`, and `/api/info` leaves its items out. A
suspended account may read its own profile (`is_suspended`) and is refused (403) everything else. An
item its author deleted shows "[deleted]" as author and text to everyone; an edited one carries the
time of the edit in `edited`; an archived post takes no comment, not even a moderator's (`TOO_OLD`),
and a deleted comment no reply (`DELETED_COMMENT`). A thread's comment tree holds at most `tree_limit`
comments and `tree_depth` levels: the comments left out at any level are behind a "load more
comments" stub (`kind: "more"`, the ids in `children`) that `/api/morechildren` reads, and the replies
to a comment on the last level behind a "continue this thread" stub (`count` 0, `id` "_", no
children) that the comment's permalink (`/comments/{link}/_/{comment}`) reads. Accounts' partial profiles
are read by fullname with `/api/user_data_by_account_ids`, which leaves out what it cannot resolve
(unknown or suspended accounts, ids not in lower case, repeats), answers 404 when nothing resolves, and
refuses a URL over 6,544 characters (400) or 8,216 (414).

Faults are injected per path: `fail("/comments", status=503)`, `rate_limit("/new")` (429 with the
budget exhausted), `stall("/comments", seconds)` (a response slower than the client's timeout) and
`expire_tokens()`. Every request is recorded (`calls`), and everything the app's own account posted is
kept with its text (`made_by_app()`), so tests can check what the bot wrote.
"""

from __future__ import annotations

import asyncio
import base64
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sandbox.reddit_server.state import (
    DELETED,
    RAW_JSON,
    Account,
    FlairTemplate,
    Message,
    Notice,
    RedditState,
    Subreddit,
    Thing,
    Token,
    account_json,
    listing,
    message_json,
    moderates,
    notice_json,
    now,
    thing_json,
)

#: How far back a subreddit's listings reach (Reddit's documented limit of about a thousand items).
LISTING_DEPTH = 1000
#: The URL lengths past which `/api/user_data_by_account_ids` answers 400, and 414.
URL_TOO_LONG = 6544
URL_WAY_TOO_LONG = 8216
#: The comments `/api/morechildren` reads of those it is asked for; the rest it leaves to a new stub.
MORE_CHILDREN = 100
DEFAULT_AVATAR = "https://www.redditstatic.com/avatars/defaults/v2/avatar_default_1.png"


@dataclass
class Fault:
    path: str
    status: int = 503
    times: int = 1
    delay: float = 0.0
    rate_limited: bool = False
    api_error: str | None = None  # answered as Reddit's API names an error ({"json": {"errors": …}})
    after: bool = False  # the request is carried out, and then answered with `status` (the answer lost)
    held: bool = False  # unanswered until the sandbox stops; carried out first with `after` (see `hold`)
    empty: bool = False  # not carried out; answered as made, with no thing (see `answer_nothing`)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    status: int
    account: str | None = None


@dataclass
class RateWindow:
    seconds: int
    budget: int
    started: float = field(default_factory=now)
    used: int = 0

    def take(self) -> tuple[float, int, int]:
        """Count one request; (remaining, used, seconds to reset) for the headers."""
        t = now()
        if t - self.started >= self.seconds:
            self.started, self.used = t, 0
        self.used += 1
        reset = max(0, math.ceil(self.started + self.seconds - t))
        return float(max(self.budget - self.used, 0)), self.used, reset


class RedditSandbox:
    def __init__(
        self,
        *,
        client_id: str = "sandbox-app",
        client_secret: str = "sandbox-secret",
        app_username: str = "MicrovoiceBot",
        app_password: str = "sandbox-password",
        ratelimit_window: int = 600,
        ratelimit_budget: int = 1000,
        token_lifetime: int = 3600,
        tree_limit: int = 500,
        tree_depth: int = 10,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.state = RedditState()
        self.window = RateWindow(ratelimit_window, ratelimit_budget)
        self.token_lifetime = token_lifetime
        #: Comments a submission's tree holds at most (Reddit sends at most 500, whatever `limit` praw
        #: asks for); the rest are left to "load more comments" stubs, read with `/api/morechildren`.
        self.tree_limit = tree_limit
        #: Levels of replies a tree shows (Reddit's default is 10); the replies to a comment on the last
        #: level are a "continue this thread" stub, read from that comment's permalink.
        self.tree_depth = tree_depth
        self.faults: list[Fault] = []
        #: The most ids `/api/info` takes a request; more are refused (414), as an API whose
        #: address length is limited does. None: any number (Reddit takes a hundred).
        self.info_limit: int | None = None
        #: (path part, action): called with a request's query before it is answered; an action that
        #: returns True is done and removed (e.g. an item leaving a listing between two page requests).
        self.hooks: list[tuple[str, Callable[[dict[str, str]], bool]]] = []
        self.calls: list[Call] = []
        self.user_agents: set[str] = set()
        self.app_account = self.add_account(app_username, password=app_password, age_days=800)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.port = 0

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Long URLs reach the handler, which answers them as Reddit does (aiohttp's own cap is 8,190).
        self._runner = web.AppRunner(app, access_log=None, max_line_size=65536)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the server's sockets
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        self._stopping.set()  # held requests are answered (503) instead of keeping the server up
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- world building ---------------------------------------------------------------------------

    def add_account(
        self, name: str, *, password: str = "", age_days: float = 400, karma: int = 100
    ) -> Account:
        account = Account(
            id=self.state.ids.next("t2"),
            name=name,
            password=password or secrets.token_hex(8),
            created_utc=float(int(now() - age_days * 86400)),  # Reddit's are whole seconds
            link_karma=karma // 2,
            comment_karma=karma - karma // 2,
        )
        self.state.accounts[name.lower()] = account
        return account

    def add_subreddit(
        self,
        name: str,
        *,
        moderators: tuple[str, ...] = (),
        flairs: tuple[str, ...] = (),
        age_days: float = 1000,
    ) -> Subreddit:
        sub = Subreddit(
            id=self.state.ids.next("t5"),
            name=name,
            created_utc=now() - age_days * 86400,
            moderators=list(moderators),
            flairs=[FlairTemplate(secrets.token_hex(8), text) for text in flairs],
        )
        self.state.subreddits[name.lower()] = sub
        return sub

    def _author(self, name: str) -> tuple[str, str | None]:
        account = self.state.account(name)
        return (account.name, account.fullname) if account else (DELETED, None)

    def post(
        self,
        sub: Subreddit,
        author: str,
        title: str,
        body: str = "",
        *,
        flair: str | None = None,
        filtered: bool = False,
        at: float | None = None,
    ) -> Thing:
        """A member's submission (self post), as if made on reddit.com; `filtered`: held back by the
        spam filter until a moderator approves it; `at`: when it was posted (a Unix time; now by
        default), for a history made before the bot came."""
        name, fullname = self._author(author)
        template = next((f for f in sub.flairs if f.text == flair), None)
        thing = Thing(
            "t3",
            self.state.ids.next("t3"),
            sub,
            name,
            fullname,
            now() if at is None else at,
            body=body,
            title=title,
            flair_text=flair,
            flair_template_id=template.id if template else None,
            filtered=filtered,
        )
        return self._add(thing)

    def comment(
        self,
        parent: Thing,
        author: str,
        body: str = "",
        *,
        score: int = 1,
        filtered: bool = False,
        at: float | None = None,
    ) -> Thing:
        """A member's comment replying to a submission or to another comment; `filtered`: held back
        by the spam filter until a moderator approves it; `at`: when it was posted (as for `post`)."""
        name, fullname = self._author(author)
        link_id = parent.fullname if parent.kind == "t3" else parent.link_id
        thing = Thing(
            "t1",
            self.state.ids.next("t1"),
            parent.subreddit,
            name,
            fullname,
            now() if at is None else at,
            body=body,
            parent_id=parent.fullname,
            link_id=link_id,
            score=score,
            filtered=filtered,
        )
        if parent.send_replies and parent.author_fullname and parent.author != name:
            self.state.notices[thing.fullname] = Notice(thing, parent.author)
        return self._add(thing)

    def _add(self, thing: Thing) -> Thing:
        self.state.things[thing.fullname] = thing
        self.state.enter_listing(thing)
        return thing

    def suspend(self, name: str) -> None:
        """Reddit suspended the account: its items keep its name, its profile says only that it is
        suspended, and bulk profile reads leave it out."""
        account = self.state.account(name)
        assert account is not None
        account.suspended = True

    def delete_account_of(self, thing: Thing) -> None:
        """The author deleted their account: the item stays with author "[deleted]"."""
        thing.author, thing.author_fullname = DELETED, None

    def delete(self, thing: Thing) -> None:
        """Its author deleted the item: everyone, moderators too, sees "[deleted]" as its author and
        its text, and no `author_fullname`."""
        thing.deleted = True

    def edit(self, thing: Thing, body: str) -> None:
        """Its author edited the item: `edited` becomes the time of the edit."""
        thing.body, thing.edits, thing.edited_utc = body, thing.edits + 1, float(int(now()))

    def set_access(self, sub: Subreddit, access: str) -> None:
        """The subreddit went "private", Reddit "banned" or "quarantined" it, or it is "public" again."""
        sub.access = access

    def remove(self, thing: Thing, by: str = "modjane") -> None:
        """A moderator (`by`) removed the item."""
        thing.removed, thing.removed_by = True, by

    def set_flair(self, post: Thing, text: str) -> None:
        """A moderator (or the author) sets the post's link flair after it was posted."""
        template = next((f for f in post.subreddit.flairs if f.text == text), None)
        post.flair_text, post.flair_template_id = text, template.id if template else None

    def approve(self, thing: Thing) -> None:
        """A moderator approved the item: out of the spam filter (or back from removal), it enters
        its listing now, at the front, with its old id."""
        thing.removed, thing.removed_by, thing.filtered = False, None, False
        self.state.enter_listing(thing)

    def send_message(self, sender: str, to: str, subject: str, body: str) -> Message:
        account = self.state.account(sender)
        message = Message(
            self.state.ids.next("t4"),
            sender,
            to,
            subject,
            body,
            now(),
            author_fullname=account.fullname if account else None,
        )
        self.state.messages[message.fullname] = message
        return message

    # -- faults -----------------------------------------------------------------------------------

    def fail(self, path: str, status: int = 503, times: int = 1) -> None:
        self.faults.append(Fault(path, status=status, times=times))

    def rate_limit(self, path: str, times: int = 1) -> None:
        self.faults.append(Fault(path, status=429, times=times, rate_limited=True))

    def refuse(self, path: str, error_type: str, times: int = 1) -> None:
        """Answer with an error Reddit's API names (RATELIMIT, THREAD_LOCKED, ...), status 200."""
        self.faults.append(Fault(path, status=200, times=times, api_error=error_type))

    def answer_nothing(self, path: str, times: int = 1) -> None:
        """Answer a write with no error and no thing made, as Reddit answers a comment in a quarantined
        subreddit the account has not opted into (praw's `reply()` then returns None)."""
        self.faults.append(Fault(path, status=200, times=times, empty=True))

    def lose_answer(self, path: str, status: int = 504, times: int = 1) -> None:
        """Carry the request out, then answer `status` as a gateway does whose backend took too long:
        the post or comment exists, and the client does not know it."""
        self.faults.append(Fault(path, status=status, times=times, after=True))

    def hold(self, path: str, times: int = 1, *, carried_out: bool = False) -> None:
        """Leave the next requests unanswered: a request in flight while a test stops or kills the
        client. Each is answered 503 when the sandbox stops. Never carried out, or with `carried_out`
        carried out first (the post or comment exists; the client that made it never hears so)."""
        self.faults.append(Fault(path, status=503, times=times, held=True, after=carried_out))

    def stall(self, path: str, seconds: float, times: int = 1) -> None:
        self.faults.append(Fault(path, status=200, times=times, delay=seconds))

    def expire_tokens(self) -> None:
        for token in self.state.tokens.values():
            token.expires_at = 0

    def before(self, path: str, action: Callable[[dict[str, str]], bool]) -> None:
        """Run `action(query)` before answering requests whose path contains `path`, until it returns
        True."""
        self.hooks.append((path, action))

    def _fault_for(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path in path and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    # -- what tests read --------------------------------------------------------------------------

    def made_by_app(self) -> list[Thing]:
        return [t for t in self.state.things.values() if t.by_bot]

    def messages_to(self, name: str) -> list[Message]:
        return [m for m in self.state.messages.values() if m.dest.lower() == name.lower()]

    def count(self, method: str, path: str) -> int:
        return sum(1 for c in self.calls if c.method == method and path in c.path)

    # -- HTTP -------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"].strip("/")
        form = {k: str(v) for k, v in (await request.post()).items()} if request.can_read_body else {}
        query = dict(request.query)
        RAW_JSON.set(query.get("raw_json") == "1")  # this request's task: its answer only
        self.user_agents.add(request.headers.get("User-Agent", ""))
        remaining, used, reset = self.window.take()
        headers = {
            "x-ratelimit-remaining": f"{remaining:.1f}",
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset),
        }
        account: str | None = None
        for hook in [h for h in self.hooks if h[0] in path]:
            if hook[1](query):
                self.hooks.remove(hook)
        fault = self._fault_for(path)
        if fault is not None and fault.held and not fault.after:
            await self._stopping.wait()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.empty:
            status, payload = 200, {"json": {"errors": [], "data": {"things": []}}}
        elif fault is not None and fault.api_error is not None:
            message = "you are doing that too much. try again in 1 minute."
            status, payload = 200, {"json": {"errors": [[fault.api_error, message, "ratelimit"]]}}
        elif fault is not None and fault.status != 200 and not fault.after:
            if fault.rate_limited:
                headers.update({"x-ratelimit-remaining": "0.0", "x-ratelimit-used": str(self.window.budget)})
            status, payload = fault.status, {"message": "Injected", "error": fault.status}
            if status == 401:  # as Reddit answers a token it does not take
                headers["www-authenticate"] = 'Bearer realm="reddit", error="invalid_token"'
        elif path == "/api/v1/access_token":
            status, payload = self._token(request, form)
        else:
            account = self._bearer(request)
            if account is None:
                headers["www-authenticate"] = 'Bearer realm="reddit", error="invalid_token"'
                status, payload = 401, {"message": "Unauthorized", "error": 401}
            else:
                status, payload = self._route(request.method, path, query, form, account)
                if fault is not None and fault.after:
                    if fault.held:
                        await self._stopping.wait()
                    status, payload = fault.status, {"message": "Injected", "error": fault.status}
        self.calls.append(Call(request.method, path, query, form, status, account))
        if status == 302:
            return web.Response(status=302, headers={**headers, "location": payload["location"]})
        return web.json_response(payload, status=status, headers=headers)

    def _token(self, request: web.Request, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        auth = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, {"message": "Unauthorized", "error": 401}
        if form.get("grant_type") != "password":
            return 200, {"error": "unsupported_grant_type"}
        account = self.state.account(form.get("username", ""))
        if account is None or account.password != form.get("password"):
            return 200, {"error": "invalid_grant"}
        token = secrets.token_urlsafe(24)
        self.state.tokens[token] = Token(account.name, now() + self.token_lifetime)
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "scope": "*",
        }

    def _bearer(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        token = self.state.tokens.get(auth[7:])
        if token is None or token.expires_at <= now():
            return None
        return token.account

    def _route(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], me: str
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        account = self.state.account(me)
        if path == "/api/v1/me" and method == "GET":
            assert account is not None
            if account.suspended:  # its own account: what Reddit says of it, and that it is suspended
                return 200, {**account_json(replace(account, suspended=False)), "is_suspended": True}
            return 200, account_json(account)
        if account is not None and account.suspended:
            return 403, {"message": "Forbidden", "error": 403}  # a suspended account may do nothing else
        if len(parts) >= 2 and parts[0] == "r":
            sub = self.state.subreddit(parts[1])
            refused = sub.refusal(me) if sub is not None else None
            if refused is not None:
                return refused
        if method == "GET":
            if len(parts) == 3 and parts[0] == "r" and parts[2] in ("comments", "new"):
                sub = self.state.subreddit(parts[1])
                if sub is None:
                    return 404, {"message": "Not Found", "error": 404}
                # As on Reddit, a listing reaches back its newest thousand items and no further.
                items = self.state.listing_of(sub, "t1" if parts[2] == "comments" else "t3")
                return 200, self._listing(items[:LISTING_DEPTH], query, me)
            if len(parts) == 3 and parts[0] == "r" and parts[2] == "about":
                return self._subreddit_about(parts[1])
            if len(parts) == 4 and parts[0] == "r" and parts[2:] == ["about", "moderators"]:
                return self._moderators(parts[1], query)
            if len(parts) == 4 and parts[0] == "r" and parts[2:] == ["about", "sticky"]:
                return self._about_sticky(parts[1], query)
            if len(parts) == 3 and parts[0] == "user" and parts[2] == "submitted":
                return self._submitted(parts[1], query, me)
            if len(parts) == 4 and parts[0] == "r" and parts[2:] == ["api", "link_flair_v2"]:
                sub = self.state.subreddit(parts[1])
                if sub is None:
                    return 404, {"message": "Not Found", "error": 404}
                if not moderates(sub, me):  # the templates as moderators manage them: theirs only
                    return 403, {"message": "Forbidden", "error": 403}
                return 200, [
                    {"id": f.id, "text": f.text, "type": "text", "mod_only": f.mod_only} for f in sub.flairs
                ]
            if len(parts) == 4 and parts[:2] == ["api", "v1"] and parts[3] == "post_requirements":
                sub = self.state.subreddit(parts[2])
                if sub is None:
                    return 404, {"message": "Not Found", "error": 404}
                return 200, post_requirements_json(sub)
            if len(parts) == 3 and parts[0] == "user" and parts[2] == "about":
                account = self.state.account(parts[1])
                if account is None:
                    return 404, {"message": "Not Found", "error": 404}
                return 200, {"kind": "t2", "data": account_json(account)}
            if path == "/api/user_data_by_account_ids":
                return self._user_data(path, query)
            if path == "/api/info":
                wanted = [n for n in query.get("id", "").split(",") if n]
                if self.info_limit is not None and len(wanted) > self.info_limit:
                    return 414, {"message": "URI Too Long", "error": 414}
                # Items of a subreddit the account may not read are left out, as Reddit does.
                things = [self.state.things[n] for n in wanted if n in self.state.things]
                found = [thing_json(t, me) for t in things if t.subreddit.refusal(me) is None]
                return 200, listing(found, after=None, before=None)
            if len(parts) >= 2 and parts[0] == "comments":  # /comments/{link}[/{slug}[/{comment}]]
                return self._submission(parts[1], query, me, parts[3] if len(parts) >= 4 else None)
            if len(parts) >= 4 and parts[0] == "r" and parts[2] == "comments":
                return self._submission(parts[3], query, me, parts[5] if len(parts) >= 6 else None)
            if path == "/api/morechildren":
                return self._more_children(query, me)
            if path in ("/message/unread", "/message/inbox", "/message/messages"):
                return 200, self._inbox(path, query, me)
        if method == "POST":
            handler = {
                "/api/submit": self._submit,
                "/api/comment": self._comment,
                "/api/distinguish": self._distinguish,
                "/api/set_subreddit_sticky": self._sticky,
                "/api/lock": partial(self._lock, True),
                "/api/unlock": partial(self._lock, False),
                "/api/compose": self._compose,
                "/api/editusertext": self._edit,
                "/api/read_message": self._read_message,
                "/api/morechildren": self._more_children,
                "/api/quarantine_option": self._quarantine_option,
            }.get(path)
            if handler is not None:
                return handler(form, me)
            if len(parts) == 4 and parts[0] == "r" and parts[2:] == ["api", "selectflair"]:
                return self._select_flair(parts[1], form, me)
            if len(parts) == 4 and parts[0] == "r" and parts[2:] == ["api", "flairselector"]:
                sub = self.state.subreddit(parts[1])
                if sub is None:
                    return 404, {"message": "Not Found", "error": 404}
                choices = [
                    {
                        "flair_template_id": f.id,
                        "flair_text": f.text,
                        "flair_text_editable": False,
                        "flair_position": "right",
                        "flair_css_class": "",
                    }
                    for f in sub.flairs
                    if not f.mod_only or moderates(sub, me)
                ]
                return 200, {"choices": choices, "current": {"flair_template_id": None, "flair_text": None}}
        return 404, {"message": "Not Found", "error": 404}

    # -- reads ------------------------------------------------------------------------------------

    def _user_data(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """Accounts' summaries by fullname (`ids=t2_a,t2_b,…`), as Reddit returns them: a JSON object
        mapping each fullname it resolves to the account's partial profile (name, created_utc,
        link_karma, comment_karma, profile_img, profile_color, profile_over_18). Ids it cannot
        resolve are left out: unknown, suspended (or deleted) accounts, ids not in lower case, and
        repeats. 404 when none resolves; 400 for a URL over 6,544 characters, 414 over 8,216 (Reddit
        takes as many ids as fit; praw sends a hundred a request)."""
        url = len(f"{self.url}{path}?{urlencode(query)}")
        if url > URL_WAY_TOO_LONG:
            return 414, {"message": "URI Too Long", "error": 414}
        if url > URL_TOO_LONG:
            return 400, {"message": "Bad Request", "error": 400}
        wanted = {n for n in query.get("ids", "").split(",") if n}
        found = {
            a.fullname: {
                "name": a.name,
                "created_utc": a.created_utc,
                "link_karma": a.link_karma,
                "comment_karma": a.comment_karma,
                "profile_img": DEFAULT_AVATAR,
                "profile_color": "",
                "profile_over_18": False,
            }
            for a in self.state.accounts.values()
            if a.fullname in wanted and not a.suspended
        }
        if not found:
            return 404, {"message": "Not Found", "error": 404}
        return 200, found

    def _listing(self, items: list[Thing], query: dict[str, str], me: str) -> dict[str, Any]:
        limit = max(1, min(int(query.get("limit", "25") or 25), 100))
        names = [t.fullname for t in items]
        before, after = query.get("before") or None, query.get("after") or None
        paged = bool(before or after)
        if before:
            if before not in names:
                return listing([], after=None, before=None)
            end = names.index(before)
            page = items[max(0, end - limit) : end]
            newer_left = end - limit > 0
            return listing(
                [thing_json(t, me) for t in page],
                after=page[-1].fullname if page else None,
                before=page[0].fullname if page and newer_left else None,
            )
        start = 0
        if after:
            if after not in names:
                return listing([], after=None, before=None)
            start = names.index(after) + 1
        page = items[start : start + limit]
        more = start + limit < len(items)
        return listing(
            [thing_json(t, me) for t in page],
            after=page[-1].fullname if page and more else None,
            before=page[0].fullname if page and paged else None,
        )

    def _inbox(self, path: str, query: dict[str, str], me: str) -> dict[str, Any]:
        """The account's inbox, newest first, paged with `after` like any listing: private messages
        and comment replies (`/message/unread`: the unread ones; `/message/messages`: messages only)."""
        mine: list[tuple[float, str, dict[str, Any]]] = [
            (m.created_utc, m.fullname, message_json(m))
            for m in self.state.messages.values()
            if m.dest.lower() == me.lower() and (m.new or path != "/message/unread")
        ]
        if path != "/message/messages":
            mine += [
                (n.comment.created_utc, name, notice_json(n, self.state.things.get(n.comment.parent_id)))
                for name, n in self.state.notices.items()
                if n.dest.lower() == me.lower() and (n.new or path != "/message/unread")
            ]
        mine.sort(key=lambda e: (e[0], len(e[1]), e[1]), reverse=True)
        limit = max(1, min(int(query.get("limit", "25") or 25), 100))
        names = [name for _, name, _ in mine]
        after = query.get("after") or None
        start = names.index(after) + 1 if after in names else 0
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return listing([e[2] for e in page], after=page[-1][1] if page and more else None, before=None)

    def _subreddit_about(self, name: str) -> tuple[int, Any]:
        sub = self.state.subreddit(name)
        if sub is None:
            return 404, {"message": "Not Found", "error": 404}
        return 200, {
            "kind": "t5",
            "data": {
                "id": sub.id,
                "name": sub.fullname,
                "display_name": sub.name,
                "display_name_prefixed": f"r/{sub.name}",
                "created_utc": sub.created_utc,
                "lang": sub.lang,
                "subscribers": 100,
                "subreddit_type": "public",
            },
        }

    def _about_sticky(self, name: str, query: dict[str, str]) -> tuple[int, Any]:
        """The subreddit's stickied post `num` (1 or 2): Reddit answers with a redirect to it, or 404."""
        sub = self.state.subreddit(name)
        number = int(query.get("num", "1") or 1)
        if sub is None or not 1 <= number <= len(sub.stickies):
            return 404, {"message": "Not Found", "error": 404}
        thing = self.state.things[sub.stickies[number - 1]]
        return 302, {"location": f"/r/{sub.name}/comments/{thing.id}/_/"}

    def _submitted(self, name: str, query: dict[str, str], me: str) -> tuple[int, Any]:
        """An account's submissions, newest first; its author sees those the spam filter holds or a
        moderator removed too."""
        mine = name.lower() == me.lower()
        items = [
            t
            for t in self.state.things.values()
            if t.kind == "t3" and t.author.lower() == name.lower() and (mine or not (t.filtered or t.removed))
        ]
        items.sort(key=lambda t: (len(t.id), t.id), reverse=True)
        return 200, self._listing(items, query, me)

    def _moderators(self, name: str, query: dict[str, str]) -> tuple[int, Any]:
        sub = self.state.subreddit(name)
        if sub is None:
            return 404, {"message": "Not Found", "error": 404}
        wanted = query.get("user")
        children = []
        for mod in sub.moderators:
            account = self.state.account(mod)
            if account is None or (wanted and wanted.lower() != mod.lower()):
                continue
            children.append(
                {
                    "name": account.name,
                    "id": account.fullname,
                    "date": sub.created_utc,
                    "mod_permissions": sub.permissions_of(mod),
                    "author_flair_text": None,
                }
            )
        return 200, {"kind": "UserList", "data": {"children": children}}

    def _submission(
        self, id36: str, query: dict[str, str], me: str, comment_id36: str | None = None
    ) -> tuple[int, Any]:
        """A submission and its comment tree, as Reddit returns it (`_tree`), or, for a comment's
        permalink (`/comments/{link}/_/{comment}`), that comment as the tree's one root, below up to
        `context` of its ancestors (Reddit shows at most 8), each holding only the next one."""
        thing = self.state.things.get(f"t3_{id36}")
        if thing is None:
            return 404, {"message": "Not Found", "error": 404}
        refused = thing.subreddit.refusal(me)
        if refused is not None:
            return refused
        kids = self._kids_of(thing, query.get("sort", "confidence"))
        budget = [max(1, min(int(query.get("limit") or self.tree_limit), self.tree_limit))]
        depth = max(1, min(int(query.get("depth") or self.tree_depth), self.tree_depth))
        if comment_id36 is None:
            tree = self._tree(thing, kids.get(thing.fullname, []), 0, kids, budget, depth, me)
        else:
            focus = self.state.things.get(f"t1_{comment_id36}")
            if focus is None or focus.link_id != thing.fullname:
                return 404, {"message": "Not Found", "error": 404}
            chain = [focus]
            for _ in range(max(0, min(int(query.get("context") or 0), 8))):
                parent = self.state.things.get(chain[0].parent_id or "")
                if parent is None or parent.kind != "t1":
                    break
                chain.insert(0, parent)
            budget[0] -= len(chain) - 1
            parent = chain[-2] if len(chain) > 1 else thing
            tree = self._tree(parent, [focus], len(chain) - 1, kids, budget, depth, me)
            for depth_of, ancestor in reversed(list(enumerate(chain[:-1]))):
                data = thing_json(ancestor, me)
                data["data"]["depth"] = depth_of
                data["data"]["replies"] = listing(tree, after=None, before=None)
                tree = [data]
        return 200, [
            listing([thing_json(thing, me)], after=None, before=None),
            listing(tree, after=None, before=None),
        ]

    def _kids_of(self, post: Thing, sort: str = "confidence") -> dict[str, list[Thing]]:
        """Every comment of a post by its parent's fullname, each parent's in `sort` order."""
        kids: dict[str, list[Thing]] = {}
        for t in self.state.things.values():
            if t.kind == "t1" and t.link_id == post.fullname and t.parent_id:
                kids.setdefault(t.parent_id, []).append(t)
        for children in kids.values():
            if sort == "new":
                children.sort(key=lambda t: -t.created_utc)
            else:
                children.sort(key=lambda t: (-t.score, t.created_utc))
        return kids

    def _tree(
        self,
        parent: Thing,
        siblings: list[Thing],
        depth: int,
        kids: dict[str, list[Thing]],
        budget: list[int],
        max_depth: int,
        me: str,
    ) -> list[dict[str, Any]]:
        """`siblings` (the replies to `parent`, at `depth`) with their replies nested, as Reddit
        builds a comment tree: each comment takes one from `budget`, and once it is spent the
        siblings left at every level are one "load more comments" stub (`_more`); the replies to a
        comment at `max_depth` - 1 are one "continue this thread" stub (`_continue_stub`)."""
        out: list[dict[str, Any]] = []
        for i, comment in enumerate(siblings):
            if budget[0] <= 0:
                out.append(self._more(parent, siblings[i:], depth, kids))
                break
            budget[0] -= 1
            data = thing_json(comment, me)
            data["data"]["depth"] = depth
            children = kids.get(comment.fullname, [])
            if children:
                replies = (
                    [self._continue_stub(comment, depth + 1)]
                    if depth + 1 >= max_depth
                    else self._tree(comment, children, depth + 1, kids, budget, max_depth, me)
                )
                data["data"]["replies"] = listing(replies, after=None, before=None)
            out.append(data)
        return out

    @staticmethod
    def _more(parent: Thing, rest: list[Thing], depth: int, kids: dict[str, list[Thing]]) -> dict[str, Any]:
        """A "load more comments" stub for the replies `rest` to `parent`: `children` names them,
        `count` is how many comments they hold with their own replies."""

        def size(t: Thing) -> int:
            return 1 + sum(size(c) for c in kids.get(t.fullname, []))

        return {
            "kind": "more",
            "data": {
                "count": sum(size(t) for t in rest),
                "name": rest[0].fullname,
                "id": rest[0].id,
                "parent_id": parent.fullname,
                "depth": depth,
                "children": [t.id for t in rest],
            },
        }

    @staticmethod
    def _continue_stub(parent: Thing, depth: int) -> dict[str, Any]:
        """A "continue this thread" stub: the replies to `parent` are read from its own permalink."""
        return {
            "kind": "more",
            "data": {
                "count": 0,
                "name": "t1__",
                "id": "_",
                "parent_id": parent.fullname,
                "depth": depth,
                "children": [],
            },
        }

    def _depth_of(self, comment: Thing) -> int:
        depth, parent = 0, self.state.things.get(comment.parent_id or "")
        while parent is not None and parent.kind == "t1":
            depth, parent = depth + 1, self.state.things.get(parent.parent_id or "")
        return depth

    def _more_children(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        """`/api/morechildren` (GET or POST): the comments a stub names, flat, each followed by its
        replies (parents before children, each naming its `parent_id`), cut as a tree is (`_tree`:
        `tree_limit` comments, `tree_depth` levels, the rest behind stubs of their own); with
        `limit_children`, the comments named only. At most `MORE_CHILDREN` of those named are read,
        the rest left to a new stub."""
        post = self.state.things.get(form.get("link_id", ""))
        if post is None or post.kind != "t3":
            return self._errors(["INVALID_OPTION", "that is not a valid link id", "link_id"])
        wanted = [self.state.things.get(f"t1_{i}") for i in form.get("children", "").split(",") if i]
        found = [t for t in wanted if t is not None and t.link_id == post.fullname and not t.deleted]
        kids = self._kids_of(post, form.get("sort", "confidence"))
        if form.get("limit_children") in ("1", "true", "True"):
            kids = {}
        budget = [self.tree_limit]
        max_depth = max(1, min(int(form.get("depth") or self.tree_depth), self.tree_depth))
        things: list[dict[str, Any]] = []

        def flat(items: list[dict[str, Any]]) -> None:
            for item in items:
                replies = item["data"].pop("replies", "")
                item["data"]["replies"] = ""
                things.append(item)
                if replies:
                    flat(replies["data"]["children"])

        by_parent: dict[str, list[Thing]] = {}
        for comment in found[:MORE_CHILDREN]:
            by_parent.setdefault(comment.parent_id or "", []).append(comment)
        for parent_id, comments in by_parent.items():
            parent = self.state.things[parent_id]
            flat(self._tree(parent, comments, self._depth_of(comments[0]), kids, budget, max_depth, me))
        rest = found[MORE_CHILDREN:]
        if rest:
            parent = self.state.things[rest[0].parent_id or ""]
            things.append(self._more(parent, rest, self._depth_of(rest[0]), kids))
        return 200, {"json": {"errors": [], "data": {"things": things}}}

    # -- writes -----------------------------------------------------------------------------------

    @staticmethod
    def _errors(*errors: list[str]) -> tuple[int, Any]:
        return 200, {"json": {"errors": list(errors)}}

    def _is_mod(self, sub: Subreddit, account: str) -> bool:
        return account.lower() in (m.lower() for m in sub.moderators)

    def _submit(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        sub = self.state.subreddit(form.get("sr", ""))
        if sub is None:
            return self._errors(["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"])
        if sub.refusal(me) is not None:
            return self._errors(["SUBREDDIT_NOTALLOWED", "you aren't allowed to post there.", "sr"])
        if not form.get("title"):
            return self._errors(["NO_TEXT", "we need something here", "title"])
        if form.get("kind", "self") != "self":
            return self._errors(["NO_LINKS", "this sandbox accepts self posts only", "kind"])
        if not sub.text_posts:
            return self._errors(["NO_SELFS", "This community doesn't allow text posts.", "sr"])
        if sub.flair_required and not form.get("flair_id"):
            return self._errors(
                ["SUBMIT_VALIDATION_FLAIR_REQUIRED", "Your post must contain post flair.", "flair"]
            )
        thing = self.post(sub, me, form["title"], form.get("text", ""))
        thing.by_bot = True
        thing.send_replies = form.get("sendreplies", "True").lower() == "true"
        flair_id = form.get("flair_id")
        if flair_id:
            template = next((f for f in sub.flairs if f.id == flair_id), None)
            if template is None:
                return self._errors(["BAD_FLAIR_TEMPLATE_ID", "that flair doesn't exist", "flair_id"])
            thing.flair_template_id, thing.flair_text = template.id, form.get("flair_text") or template.text
        url = f"{self.url}/r/{sub.name}/comments/{thing.id}/_/"
        return 200, {"json": {"errors": [], "data": {"url": url, "id": thing.id, "name": thing.fullname}}}

    def _comment(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        parent = self.state.things.get(form.get("thing_id", ""))
        if parent is None:
            return self._errors(["DELETED_COMMENT", "that comment has been deleted", "parent"])
        refused = parent.subreddit.refusal(me)
        if refused is not None:
            return refused
        if parent.deleted:
            return self._errors(["DELETED_COMMENT", "that comment has been deleted", "parent"])
        post = parent if parent.kind == "t3" else self.state.things.get(parent.link_id)
        if post is not None and post.archived:  # moderators too: an archived thread takes nothing
            return self._errors(
                ["TOO_OLD", "that's a piece of history now; it's too late to reply to it", "parent"]
            )
        if post is not None and post.locked and not self._is_mod(post.subreddit, me):
            return self._errors(["THREAD_LOCKED", "Comments are locked.", "parent"])
        thing = self.comment(parent, me, form.get("text", ""))
        thing.by_bot = True
        return 200, {"json": {"errors": [], "data": {"things": [thing_json(thing, me)]}}}

    def _quarantine_option(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        """An account opts in to (`action=accept`) or out of a quarantined subreddit's content."""
        sub = self.state.subreddit(form.get("sr_name", ""))
        if sub is None:
            return 404, {"message": "Not Found", "error": 404}
        if form.get("action") == "accept":
            sub.quarantine_optins.add(me.lower())
        else:
            sub.quarantine_optins.discard(me.lower())
        return 200, {}

    def _distinguish(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        thing = self.state.things.get(form.get("id", ""))
        if thing is None or not thing.subreddit.may(me, "posts"):
            return 403, {"message": "Forbidden", "error": 403}
        thing.distinguished = "moderator" if form.get("how", "yes") == "yes" else None
        if thing.kind == "t1" and form.get("sticky") == "True":
            thing.stickied = True
        return 200, {"json": {"errors": [], "data": {"things": [thing_json(thing, me)]}}}

    def _sticky(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        """Two sticky slots: a post stickied without `num` takes the bottom one, replacing the post
        there if both are taken; `num=1` takes the top one. Stickying a stickied post is a 409."""
        thing = self.state.things.get(form.get("id", ""))
        if thing is None or not thing.subreddit.may(me, "posts"):
            return 403, {"message": "Forbidden", "error": 403}
        sub, name = thing.subreddit, thing.fullname
        if form.get("state", "True").lower() != "true":
            thing.stickied = False
            sub.stickies = [n for n in sub.stickies if n != name]
            return 200, {"json": {"errors": []}}
        if name in sub.stickies:
            return 409, {"message": "Conflict", "error": 409}
        kept = [name, *sub.stickies] if form.get("num") == "1" else [*sub.stickies[:1], name]
        for gone in set(sub.stickies) - set(kept[:2]):
            self.state.things[gone].stickied = False
        sub.stickies = kept[:2]
        thing.stickied = True
        return 200, {"json": {"errors": []}}

    def set_sticky(self, thing: Thing) -> None:
        """A moderator stickies a post (the bottom slot, as on reddit.com)."""
        sub = thing.subreddit
        for gone in sub.stickies[1:]:
            self.state.things[gone].stickied = False
        sub.stickies = [*sub.stickies[:1], thing.fullname]
        thing.stickied = True

    def _lock(self, locked: bool, form: dict[str, str], me: str) -> tuple[int, Any]:
        thing = self.state.things.get(form.get("id", ""))
        if thing is None or not thing.subreddit.may(me, "posts"):
            return 403, {"message": "Forbidden", "error": 403}
        thing.locked = locked
        return 200, {}

    def _select_flair(self, name: str, form: dict[str, str], me: str) -> tuple[int, Any]:
        sub = self.state.subreddit(name)
        thing = self.state.things.get(form.get("link", ""))
        if sub is None or thing is None:
            return 404, {"message": "Not Found", "error": 404}
        template = next((f for f in sub.flairs if f.id == form.get("flair_template_id")), None)
        if template is None:
            return self._errors(["BAD_FLAIR_TEMPLATE_ID", "that flair doesn't exist", "flair_template_id"])
        if thing.author.lower() != me.lower() and not self._is_mod(sub, me):
            return 403, {"message": "Forbidden", "error": 403}
        thing.flair_template_id, thing.flair_text = template.id, form.get("text") or template.text
        return 200, {"json": {"errors": []}}

    def _edit(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        thing = self.state.things.get(form.get("thing_id", ""))
        if thing is None or thing.author.lower() != me.lower():
            return 403, {"message": "Forbidden", "error": 403}
        thing.body = form.get("text", "")
        thing.edits += 1
        thing.edited_utc = float(int(now()))
        return 200, {"json": {"errors": [], "data": {"things": [thing_json(thing, me)]}}}

    def _compose(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        to = form.get("to", "")
        if to.startswith(("#", "/r/", "r/")):  # a message to the subreddit's moderators
            sub = self.state.subreddit(to.lstrip("#").removeprefix("/").removeprefix("r/"))
            if sub is None:
                return self._errors(["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "to"])
            self.send_message(me, f"/r/{sub.name}", form.get("subject", ""), form.get("text", ""))
            return 200, {"json": {"errors": []}}
        if self.state.account(to) is None:
            return self._errors(["USER_DOESNT_EXIST", "that user doesn't exist", "to"])
        self.send_message(me, to, form.get("subject", ""), form.get("text", ""))
        return 200, {"json": {"errors": []}}

    def _read_message(self, form: dict[str, str], me: str) -> tuple[int, Any]:
        for name in form.get("id", "").split(","):
            item = self.state.messages.get(name) or self.state.notices.get(name)
            if item is not None and item.dest.lower() == me.lower():
                item.new = False
        return 200, {}


def post_requirements_json(sub: Subreddit) -> dict[str, Any]:
    """A subreddit's post requirements as Reddit documents them (the keys praw lists)."""
    return {
        "title_regexes": list(sub.title_patterns),
        "body_blacklisted_strings": [],
        "title_blacklisted_strings": list(sub.title_banned),
        "body_text_max_length": None,
        "title_required_strings": list(sub.title_required),
        "guidelines_text": None,
        "gallery_min_items": None,
        "domain_blacklist": [],
        "domain_whitelist": [],
        "title_text_max_length": sub.title_max,
        "body_regexes": [],
        "link_repost_age": None,
        "body_required_strings": [],
        "title_text_min_length": sub.title_min,
        "is_flair_required": sub.flair_required,
        "gallery_max_items": None,
        "gallery_captions_requirement": "none",
        "body_restriction_policy": "none" if sub.text_posts else "notAllowed",
        "body_text_min_length": None,
        "link_restriction_policy": "none",
        "guidelines_display_policy": None,
    }
