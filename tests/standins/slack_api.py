"""Local stand-in of the Slack Web API so tests and benchmarks never touch slack.com.

Response shapes follow the method pages on docs.slack.dev / api.slack.com (one line per
handler names the page). Slack answers most failures with HTTP 200 and
``{"ok": false, "error": ...}``; only rate limiting (429 + ``Retry-After``) and server
faults (5xx) use other status codes, and this stand-in does the same.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.standins.after_store import KINDS, AfterStore

JSONDict = dict[str, Any]
Handler = Callable[[JSONDict, "str | None"], JSONDict]

# Slack documents that dnd.teamInfo takes "up to 50 users" per call.
DND_TEAM_INFO_MAX_USERS = 50
# Home tab views hold "Max of 100 blocks" (docs.slack.dev/reference/views/home-tab-views).
HOME_VIEW_MAX_BLOCKS = 100
# Methods called with the app's client id and secret (HTTP Basic), not a token.
NO_TOKEN_METHODS = frozenset({"oauth.v2.access"})
# The app's OAuth credentials as the stand-in knows them.
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "standin-client-secret"
# Fields that slack_sdk may send JSON-encoded inside a form body.
_JSON_STRING_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class Call:
    """One request the stand-in received, kept so tests can assert on client behaviour."""

    method: str
    args: JSONDict
    at: float
    token: str | None = None
    status: int = 200
    after_store: str = ""  # the post-store fault that replaced the answer, if any


@dataclass
class _Dnd:
    """Do-not-disturb state of one user, mirroring dnd.info / dnd.teamInfo fields."""

    dnd_enabled: bool = False
    next_dnd_start_ts: int = 1
    next_dnd_end_ts: int = 1
    snooze_enabled: bool = False
    snooze_endtime: int | None = None


@dataclass
class _User:
    """A workspace member as the stand-in knows it."""

    id: str
    name: str
    real_name: str
    display_name: str
    tz: str
    tz_label: str | None
    presence: str
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0
    is_bot: bool = False
    deleted: bool = False
    huddle_state: str = "default_unset"
    dnd: _Dnd = field(default_factory=_Dnd)


@dataclass
class _Fault:
    """A scripted failure queued by ``fail_next``."""

    status: int
    retry_after: int
    error: str | None


class SlackStandin:
    """aiohttp server answering ``/api/<method>`` like slack.com so clients run unmodified."""

    def __init__(
        self,
        *,
        team_id: str = "T0STANDIN",
        team_name: str = "Standin Workspace",
        team_domain: str = "standin",
        bot_user_id: str = "U0BOTUSER",
        bot_id: str = "B0BOTID00",
        bot_name: str = "groupcast",
        app_id: str = "A0STANDIN",
        clock: Callable[[], float] = time.monotonic,
        team_info_includes_snooze: bool = False,
    ) -> None:
        """Set up an empty workspace; ``clock`` is injectable so pacing tests need no sleep."""
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.clock = clock
        # Slack's dnd.teamInfo example carries no snooze_* fields (they are private to the
        # user, see dnd.info); turn this on to model a richer variant anyway.
        self.team_info_includes_snooze = team_info_includes_snooze

        self.calls: list[Call] = []
        self.rate_limited: Counter[str] = Counter()
        self.max_rate_limited_streak: Counter[str] = Counter()
        self.users: dict[str, _User] = {}
        self.channels: dict[str, str] = {}
        self.messages: dict[tuple[str, str], JSONDict] = {}
        self.ephemeral: list[JSONDict] = []
        self.home_views: dict[str, JSONDict] = {}
        self.usergroups: dict[str, list[str]] = {}

        self._dm_by_user: dict[str, str] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._limits: dict[str, tuple[float, float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._streak: Counter[str] = Counter()
        self._chaos: tuple[float, float, int, random.Random] | None = None
        self.after_store = AfterStore()
        self._last_ts_us = 0
        self._view_seq = 0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # OAuth: codes handed to installers, the bot tokens traded for them (once any token
        # was issued, only issued tokens are accepted), and whether the app is installed.
        self.codes: dict[str, str] = {}
        self.issued: set[str] = set()
        self.oauth_only = False
        self._handlers: dict[str, Handler] = {
            "oauth.v2.access": self._oauth_v2_access,
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.getPresence": self._users_get_presence,
            "dnd.info": self._dnd_info,
            "dnd.teamInfo": self._dnd_team_info,
            "usergroups.users.list": self._usergroups_users_list,
            "team.info": self._team_info,
        }
        self.add_user(bot_user_id, bot_name, is_bot=True)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        """Start listening on an ephemeral localhost port so parallel tests never collide."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Shut the server down so no sockets leak into later tests."""
        await self.close()

    async def start(self) -> None:
        """Bind 127.0.0.1:0 and remember the port the OS picked."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])

    async def close(self) -> None:
        """Release the listening socket and any open connections."""
        self.after_store.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """Base URL ending in ``/api/``, the form slack_sdk's ``base_url`` expects."""
        if self._port is None:
            raise RuntimeError("SlackStandin is not started; use 'async with SlackStandin()'")
        return f"http://127.0.0.1:{self._port}/api/"

    # ------------------------------------------------------------------ test setup

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "Europe/Berlin",
        tz_label: str | None = None,
        presence: str = "active",
        real_name: str | None = None,
        display_name: str | None = None,
        status_text: str = "",
        status_emoji: str = "",
        status_expiration: int = 0,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> None:
        """Register a member so users.*, dnd.* and conversations.open can answer for them."""
        self.users[user_id] = _User(
            id=user_id,
            name=name,
            real_name=real_name if real_name is not None else name.title(),
            display_name=display_name if display_name is not None else name,
            tz=tz,
            tz_label=tz_label,
            presence=presence,
            status_text=status_text,
            status_emoji=status_emoji,
            status_expiration=status_expiration,
            is_bot=is_bot,
            deleted=deleted,
        )

    def set_status(self, user_id: str, text: str, emoji: str = "", expiration: int = 0) -> None:
        """Change a member's custom status as users.profile.set would."""
        user = self._user(user_id)
        user.status_text, user.status_emoji, user.status_expiration = text, emoji, expiration

    def set_presence(self, user_id: str, presence: str) -> None:
        """Flip a member between ``active`` and ``away``."""
        if presence not in ("active", "away"):
            raise ValueError("Slack presence is either 'active' or 'away'")
        self._user(user_id).presence = presence

    def set_dnd(
        self,
        user_id: str,
        *,
        dnd_enabled: bool = True,
        next_dnd_start_ts: int = 1,
        next_dnd_end_ts: int = 1,
        snooze_enabled: bool = False,
        snooze_endtime: int | None = None,
    ) -> None:
        """Set the Do Not Disturb schedule and snooze a member reports via dnd.*."""
        self._user(user_id).dnd = _Dnd(
            dnd_enabled=dnd_enabled,
            next_dnd_start_ts=next_dnd_start_ts,
            next_dnd_end_ts=next_dnd_end_ts,
            snooze_enabled=snooze_enabled,
            snooze_endtime=snooze_endtime,
        )

    def set_usergroup(self, usergroup_id: str, user_ids: list[str]) -> None:
        """Define the members of a user group (subteam) for usergroups.users.list."""
        self.usergroups[usergroup_id] = list(user_ids)

    def add_channel(self, channel_id: str, name: str) -> None:
        """Make a public/private channel known so posting to it succeeds."""
        self.channels[channel_id] = name

    def dm_channel(self, user_id: str) -> str:
        """The stable D-channel id of the app's DM with ``user_id`` (opened on demand)."""
        if user_id not in self._dm_by_user:
            channel_id = f"D{len(self._dm_by_user) + 1:08d}{user_id[-2:]}"
            self._dm_by_user[user_id] = channel_id
            self.channels[channel_id] = user_id
        return self._dm_by_user[user_id]

    # ------------------------------------------------------------------ OAuth

    def authorize(self, user_id: str) -> str:
        """An installer pressed "Allow" on slack.com: the code Slack puts on the redirect."""
        code = f"{self.team_id}.{secrets.token_hex(8)}"
        self.codes[code] = user_id
        self.oauth_only = True
        return code

    def uninstall(self) -> JSONDict:
        """Every token issued stops working; returns the app_uninstalled event to deliver."""
        self.issued.clear()
        return {"type": "app_uninstalled"}

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Make the next ``count`` calls to ``method`` fail (429, 5xx, or 200 + ``error``)."""
        queue = self._faults.setdefault(method, deque())
        for _ in range(count):
            queue.append(_Fault(status=status, retry_after=retry_after, error=error))

    def chaos(
        self,
        rate_429: float = 0.3,
        rate_5xx: float = 0.05,
        *,
        retry_after: int = 0,
        seed: int = 1,
    ) -> None:
        """Fail a seeded random share of all calls so retry paths get exercised reproducibly."""
        if rate_429 < 0 or rate_5xx < 0 or rate_429 + rate_5xx > 1:
            raise ValueError("rates must be non-negative and sum to at most 1")
        self._chaos = (rate_429, rate_5xx, retry_after, random.Random(seed))

    def calm(self) -> None:
        """Switch chaos mode off again (and any post-store faults)."""
        self._chaos = None
        self.after_store.calm()

    def fail_after_store(self, method: str, kind: str = "500", count: int = 1) -> None:
        """The next ``count`` successful calls to ``method`` do their work, then fail: ``500``,
        ``drop`` (connection closed, no answer) or ``timeout`` (answer held past any client
        timeout)."""
        self.after_store.once(lambda m: m == method, kind, count)

    def storm_after_store(
        self, method: str, rate: float, kinds: tuple[str, ...] = KINDS, *, seed: int = 1
    ) -> None:
        """A seeded share ``rate`` of successful calls to ``method`` fail after they acted."""
        self.after_store.storm(lambda m: m == method, rate, kinds, seed=seed)

    def limit(self, method: str, per_second: float, *, burst: float = 1.0) -> None:
        """Answer 429 whenever ``method`` is called faster than ``per_second`` (token bucket)."""
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be > 0 and burst >= 1")
        self._limits[method] = (per_second, burst)
        self._buckets[method] = (burst, self.clock())

    def calls_to(self, method: str) -> list[Call]:
        """Calls made to one method, in arrival order."""
        return [call for call in self.calls if call.method == method]

    # ------------------------------------------------------------------ HTTP plumbing

    async def _dispatch(self, request: web.Request) -> web.Response:
        """Parse a Web API request like Slack does and route it to a method handler."""
        method = request.match_info["method"]
        args, token = await self._read_args(request)
        now = time.time()

        fault = self._pick_fault(method)
        if fault is not None:
            self.calls.append(Call(method, args, now, token, fault.status))
            return self._fault_response(method, fault)

        self._streak[method] = 0
        if method in NO_TOKEN_METHODS:
            args.update(_basic_auth(request.headers.get("Authorization", "")))
            body: JSONDict = self._handlers[method](args, token)
        elif token is None:
            body = {"ok": False, "error": "not_authed"}
        elif self.oauth_only and token not in self.issued:
            body = {"ok": False, "error": "invalid_auth"}
        else:
            handler = self._handlers.get(method)
            body = (
                handler(args, token)
                if handler is not None
                else {"ok": False, "error": "unknown_method"}
            )
        late = self.after_store.pick(method) if body.get("ok") else None
        self.calls.append(Call(method, args, now, token, 200, late or ""))
        if late is not None:
            return await self.after_store.strike(
                request, method, late, web.json_response(body, headers=self._limit_headers(method))
            )
        return web.json_response(body, headers=self._limit_headers(method))

    def _limit_headers(self, method: str) -> dict[str, str]:
        """The limiter's shape as Discord-style X-RateLimit headers (burst, what is left now,
        seconds until full), so a client can pace to it instead of guessing."""
        if method not in self._limits:
            return {}
        per_second, burst = self._limits[method]
        tokens, _ = self._buckets[method]
        return {
            "X-RateLimit-Limit": f"{burst:g}",
            "X-RateLimit-Remaining": f"{max(0.0, tokens):.6f}",
            "X-RateLimit-Reset-After": f"{max(0.0, burst - tokens) / per_second:.6f}",
        }

    async def _read_args(self, request: web.Request) -> tuple[JSONDict, str | None]:
        """Merge query string, form or JSON body; take the token from header or args."""
        args: JSONDict = dict(request.query)
        if request.body_exists:  # not can_read_body: a router may have read (and kept) it
            if request.content_type == "application/json":
                payload = await request.json()
                if isinstance(payload, dict):
                    args.update(payload)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_STRING_FIELDS:
            value = args.get(key)
            if isinstance(value, str):
                with contextlib.suppress(json.JSONDecodeError):
                    args[key] = json.loads(value)
        token: str | None = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip() or None
        form_token = args.pop("token", None)
        if token is None and isinstance(form_token, str) and form_token:
            token = form_token
        return args, token

    def _pick_fault(self, method: str) -> _Fault | None:
        """Scripted faults first, then the pacing limit, then chaos."""
        queue = self._faults.get(method)
        if queue:
            return queue.popleft()
        if method in self._limits:
            wait = self._take_token(method)
            if wait > 0:
                return _Fault(status=429, retry_after=max(1, math.ceil(wait)), error=None)
        if self._chaos is not None:
            rate_429, rate_5xx, retry_after, rng = self._chaos
            roll = rng.random()
            if roll < rate_429:
                return _Fault(status=429, retry_after=retry_after, error=None)
            if roll < rate_429 + rate_5xx:
                return _Fault(status=rng.choice((500, 503)), retry_after=0, error=None)
        return None

    def _take_token(self, method: str) -> float:
        """Spend one bucket token; return 0 on success or the seconds until one is free."""
        per_second, burst = self._limits[method]
        tokens, last = self._buckets[method]
        now = self.clock()
        tokens = min(burst, tokens + (now - last) * per_second)
        if tokens >= 1:
            self._buckets[method] = (tokens - 1, now)
            return 0.0
        self._buckets[method] = (tokens, now)
        return (1 - tokens) / per_second

    def _fault_response(self, method: str, fault: _Fault) -> web.Response:
        """Render a fault the way Slack's edge does for that status code."""
        if fault.status == 429:
            self.rate_limited[method] += 1
            self._streak[method] += 1
            self.max_rate_limited_streak[method] = max(
                self.max_rate_limited_streak[method], self._streak[method]
            )
            # Rate limits page: HTTP 429 plus Retry-After (integer seconds); body error
            # "ratelimited".
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(int(fault.retry_after)), **self._limit_headers(method)},
            )
        self._streak[method] = 0
        if fault.status >= 500:
            return web.Response(
                status=fault.status,
                text=f"<html><body>{fault.status}</body></html>",
                content_type="text/html",
            )
        return web.json_response(
            {"ok": False, "error": fault.error or "fatal_error"}, status=fault.status
        )

    # ------------------------------------------------------------------ helpers

    def _user(self, user_id: str) -> _User:
        """Look a member up or fail loudly in test setup code."""
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown Slack user {user_id!r}; call add_user first") from None

    def _next_ts(self) -> str:
        """A message ``ts`` that is unique and strictly increasing, like Slack's."""
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _resolve_channel(self, channel: object) -> str | None:
        """Map a channel id (or a user id, which Slack treats as the app DM) to a channel."""
        if not isinstance(channel, str):
            return None
        if channel in self.channels:
            return channel
        if channel in self.users:
            return self.dm_channel(channel)
        return None

    def _tz_offset(self, tz: str) -> tuple[int, str]:
        """Current UTC offset in seconds and a label for an IANA zone."""
        now = datetime.now(ZoneInfo(tz))
        offset = now.utcoffset()
        return (int(offset.total_seconds()) if offset else 0), (now.tzname() or tz)

    def _user_object(self, user: _User) -> JSONDict:
        """User object as returned by users.info (docs.slack.dev/reference/methods/users.info)."""
        tz_offset, tz_name = self._tz_offset(user.tz)
        profile: JSONDict = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.display_name,
            "display_name_normalized": user.display_name,
            "fields": {},
            "status_text": user.status_text,
            "status_emoji": user.status_emoji,
            "status_emoji_display_info": [],
            "status_expiration": user.status_expiration,
            "avatar_hash": "g000standin",
            "huddle_state": user.huddle_state,
            "first_name": user.real_name.split(" ")[0],
            "last_name": " ".join(user.real_name.split(" ")[1:]),
            "image_72": "https://example.invalid/avatar_72.png",
            "team": self.team_id,
        }
        if user.is_bot:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = self.app_id
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "color": "9f69e7",
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": user.tz_label or tz_name,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "is_email_confirmed": True,
        }

    # ------------------------------------------------------------------ method handlers

    def _oauth_v2_access(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/oauth.v2.access: a code, once, for a bot token."""
        if args.get("client_id") != CLIENT_ID or args.get("client_secret") != CLIENT_SECRET:
            return {"ok": False, "error": "invalid_client_id"}
        installer = self.codes.pop(str(args.get("code", "")), None)
        if installer is None:
            return {"ok": False, "error": "invalid_code"}
        bot_token = f"xoxb-{self.team_id}-{secrets.token_hex(12)}"
        self.issued.add(bot_token)
        return {
            "ok": True,
            "access_token": bot_token,
            "token_type": "bot",
            "scope": "chat:write,commands,im:write,users:read",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"name": self.team_name, "id": self.team_id},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": installer},
        }

    def _auth_test(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/auth.test (bot tokens also carry bot_id)."""
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _conversations_open(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/conversations.open: 1:1 DM by ``users``."""
        channel = args.get("channel")
        if isinstance(channel, str) and channel:
            if channel not in self.channels:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel}}
        raw = args.get("users")
        users = [u for u in (raw.split(",") if isinstance(raw, str) else []) if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 1:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if users[0] not in self.users:
            return {"ok": False, "error": "user_not_found"}
        already = users[0] in self._dm_by_user
        channel_id = self.dm_channel(users[0])
        body: JSONDict = {"ok": True, "channel": {"id": channel_id}}
        if already:
            body.update(no_op=True, already_open=True)
        return body

    def _message(self, channel: str, ts: str, args: JSONDict) -> JSONDict:
        """The message object Slack echoes back for a bot post."""
        message: JSONDict = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": args.get("text", ""),
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in args:
                message[key] = args[key]
        return message

    @staticmethod
    def _too_big(args: JSONDict) -> str | None:
        """Slack's limits: 40,000 characters a message, 50 blocks, 3,000 per section text."""
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            with contextlib.suppress(json.JSONDecodeError):
                blocks = json.loads(blocks)
        blocks = blocks if isinstance(blocks, list) else []
        sections = [
            str((b.get("text") or {}).get("text", ""))
            for b in blocks
            if isinstance(b, dict) and b.get("type") == "section"
        ]
        if len(str(args.get("text") or "")) > 40_000 or sum(map(len, sections)) > 40_000:
            return "msg_too_long"
        if len(blocks) > 50 or any(len(t) > 3000 for t in sections):
            return "invalid_blocks"
        return None

    def _chat_post_message(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/chat.postMessage: channel, ts, message."""
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if self._too_big(args):
            return {"ok": False, "error": self._too_big(args)}
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message = self._message(channel, ts, args)
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversation(self, channel: str, args: JSONDict) -> list[JSONDict]:
        """Messages of a channel oldest first; metadata only with ``include_all_metadata``."""
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        out = []
        for (ch, _), message in sorted(self.messages.items()):
            if ch != channel:
                continue
            shown = dict(message)
            if not with_meta:
                shown.pop("metadata", None)
            out.append(shown)
        return out

    def _conversations_history(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/conversations.history: newest first, no replies."""
        raw = args.get("channel")
        channel = self._resolve_channel(raw)
        if channel is None or raw in self.users:  # a user id is not a conversation here
            return {"ok": False, "error": "channel_not_found"}
        limit = int(args.get("limit") or 100)
        top = [
            m for m in self._conversation(channel, args) if m.get("thread_ts") in (None, m["ts"])
        ]
        page = list(reversed(top))[:limit]
        return {
            "ok": True,
            "messages": page,
            "has_more": len(top) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/conversations.replies: the parent, then replies."""
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = args.get("ts")
        thread = [
            m
            for m in self._conversation(channel, args)
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        # People's own messages reach the stand-in only as events, so a parent it never stored
        # still has a thread: the replies the bot posted under it.
        limit = int(args.get("limit") or 1000)
        return {"ok": True, "messages": thread[:limit], "has_more": len(thread) > limit}

    def _chat_update(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/chat.update: channel, ts, text, message."""
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = args.get("ts")
        if not isinstance(ts, str) or (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if self._too_big(args):
            return {"ok": False, "error": self._too_big(args)}
        message = self.messages[(channel, ts)]
        message["text"] = args.get("text", message.get("text", ""))
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _chat_delete(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/chat.delete: channel and ts of the deleted message."""
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = args.get("ts")
        if not isinstance(ts, str) or (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        del self.messages[(channel, ts)]
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_post_ephemeral(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/chat.postEphemeral: answers ``message_ts``."""
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        user = args.get("user")
        if not isinstance(user, str) or user not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        if self._too_big(args):
            return {"ok": False, "error": self._too_big(args)}
        ts = self._next_ts()
        self.ephemeral.append({"channel": channel, "user": user, "message_ts": ts, **args})
        return {"ok": True, "message_ts": ts}

    def _chat_get_permalink(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/chat.getPermalink: ``permalink`` URL."""
        channel = self._resolve_channel(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        message_ts = args.get("message_ts")
        if not isinstance(message_ts, str) or not message_ts:
            return {"ok": False, "error": "message_not_found"}
        digits = message_ts.replace(".", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{digits}",
        }

    def _views_publish(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/views.publish with home-tab-views limits."""
        user_id = args.get("user_id")
        if not isinstance(user_id, str) or user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        problems: list[str] = []
        if view.get("type") != "home":
            problems.append("[ERROR] must be 'home' [json-pointer:/view/type]")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
        elif len(blocks) > HOME_VIEW_MAX_BLOCKS:
            problems.append(
                f"[ERROR] no more than {HOME_VIEW_MAX_BLOCKS} items allowed "
                "[json-pointer:/view/blocks]"
            )
        if problems:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": problems},
            }
        current = self.home_views.get(user_id)
        given_hash = args.get("hash")
        if given_hash and current is not None and given_hash != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        self._view_seq += 1
        view_id = current["id"] if current is not None else f"V{self._view_seq:08d}"
        published: JSONDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "home",
            "close": None,
            "submit": None,
            "blocks": blocks,
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self.home_views[user_id] = published
        return {"ok": True, "view": published}

    def _users_info(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/users.info: ``user`` object with profile."""
        user_id = args.get("user")
        if not isinstance(user_id, str) or user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        user = self._user_object(self.users[user_id])
        if str(args.get("include_locale", "")).lower() in ("1", "true"):
            user["locale"] = "en-US"
        return {"ok": True, "user": user}

    def _users_list(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/users.list: ``members`` a page at a time, with
        ``response_metadata.next_cursor`` (empty on the last page); ``limit`` defaults to 0,
        which Slack treats as "as many as it likes" (here: 100), capped at 1000."""
        raw_limit = str(args.get("limit") or "0")
        limit = int(raw_limit) if raw_limit.isdigit() else 0
        limit = min(limit or 100, 1000)
        cursor = str(args.get("cursor") or "")
        ids = sorted(self.users)
        start = 0
        if cursor:
            if not cursor.startswith("next:") or not cursor[5:].isdigit():
                return {"ok": False, "error": "invalid_cursor"}
            start = int(cursor[5:])
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        return {
            "ok": True,
            "members": [self._user_object(self.users[u]) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }

    def _users_get_presence(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/users.getPresence: other users get presence only."""
        user_id = args.get("user") or self.bot_user_id
        if not isinstance(user_id, str) or user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        presence = self.users[user_id].presence
        if user_id != self.bot_user_id:
            return {"ok": True, "presence": presence}
        return {
            "ok": True,
            "presence": presence,
            "online": presence == "active",
            "auto_away": False,
            "manual_away": presence == "away",
            "connection_count": 1,
            "last_activity": int(time.time()),
        }

    def _dnd_fields(self, dnd: _Dnd, *, with_snooze: bool) -> JSONDict:
        """DND fields; snooze_* only where Slack shows them."""
        fields: JSONDict = {
            "dnd_enabled": dnd.dnd_enabled,
            "next_dnd_start_ts": dnd.next_dnd_start_ts,
            "next_dnd_end_ts": dnd.next_dnd_end_ts,
        }
        if with_snooze:
            fields["snooze_enabled"] = dnd.snooze_enabled
            if dnd.snooze_enabled and dnd.snooze_endtime is not None:
                fields["snooze_endtime"] = dnd.snooze_endtime
                fields["snooze_remaining"] = max(0, dnd.snooze_endtime - int(time.time()))
        return fields

    def _dnd_info(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/dnd.info: snooze_* only for the calling user."""
        user_id = args.get("user") or self.bot_user_id
        if not isinstance(user_id, str) or user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        own = user_id == self.bot_user_id
        return {"ok": True, **self._dnd_fields(self.users[user_id].dnd, with_snooze=own)}

    def _dnd_team_info(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/dnd.teamInfo: ``users`` map, at most 50 ids."""
        raw = args.get("users")
        user_ids = [u for u in (raw.split(",") if isinstance(raw, str) else []) if u]
        if not user_ids:
            return {"ok": False, "error": "no_users_provided"}
        if len(user_ids) > DND_TEAM_INFO_MAX_USERS:
            # The docs state the 50-user cap but not the error code; this one is a guess.
            return {"ok": False, "error": "invalid_arguments"}
        if any(u not in self.users for u in user_ids):
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "users": {
                u: self._dnd_fields(self.users[u].dnd, with_snooze=self.team_info_includes_snooze)
                for u in user_ids
            },
        }

    def _usergroups_users_list(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/usergroups.users.list: list of user ids."""
        group = args.get("usergroup")
        if not isinstance(group, str) or group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _team_info(self, args: JSONDict, token: str | None) -> JSONDict:
        """docs.slack.dev/reference/methods/team.info: ``team`` with icon."""
        team = args.get("team")
        if isinstance(team, str) and team and team != self.team_id:
            return {"ok": False, "error": "team_not_found"}
        return {
            "ok": True,
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": self.team_domain,
                "email_domain": "",
                "icon": {"image_default": True},
            },
        }


def _basic_auth(header: str) -> JSONDict:
    """client_id and client_secret from an HTTP Basic header (how slack_sdk sends them)."""
    if not header.startswith("Basic "):
        return {}
    with contextlib.suppress(ValueError):
        raw = base64.b64decode(header.removeprefix("Basic ").strip()).decode()
        client_id, _, secret = raw.partition(":")
        return {"client_id": client_id, "client_secret": secret}
    return {}
