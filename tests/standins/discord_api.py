"""Local stand-in of Discord's REST API and websocket gateway for tests and benchmarks.

A real, unmodified discord.py 2.x client connects to it. Payload shapes follow the Discord
developer docs (docs.discord.com/developers): topics/gateway and events/gateway-events (HELLO,
IDENTIFY, READY, GUILD_CREATE, PRESENCE_UPDATE, MESSAGE_CREATE, GUILD_MEMBERS_CHUNK, close
codes), interactions/receiving-and-responding (interaction object, callback types, the
``with_response`` callback object), topics/rate-limits (``X-RateLimit-*`` headers and the 429
body) and topics/opcodes-and-status-codes (JSON error codes such as 50007).

Pointing discord.py at custom URLs
----------------------------------
discord.py 2.x has exactly two class-level settings that decide where it connects, and
both are read at call time, so setting them before ``Client.start`` is enough::

    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    Route.BASE = os.environ["DISCORD_API_URL"]  # e.g. "http://127.0.0.1:8080/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])

* ``Route.BASE`` prefixes every REST route, including the webhook/interaction routes used by
  ``interaction.response`` and ``interaction.followup`` (``discord.webhook.async_`` builds its
  ``Route`` objects from the same class). No trailing slash.
* A plain ``Client.connect`` never calls ``GET /gateway/bot``: it opens
  ``DiscordWebSocket.DEFAULT_GATEWAY`` and appends ``?v=10&encoding=json&compress=zlib-stream``
  (``zstd-stream`` instead when the ``zstandard`` package is importable). After READY it
  resumes against READY's ``resume_gateway_url``, and after INVALID_SESSION it falls back to
  ``DEFAULT_GATEWAY`` again, so that attribute must point at the stand-in for the whole run.
  ``AutoShardedClient`` instead takes the gateway from ``GET /gateway/bot``'s ``url``; this
  stand-in answers with its own gateway URL, so both client kinds work.
* Both settings are process-wide (every client in the process follows them). Do not call
  ``discord.http._set_api_version``; it rewrites ``Route.BASE`` back to discord.com.
* discord.py only retries a 429 when the response has a ``Via`` header (otherwise it assumes
  a Cloudflare ban); real Discord sends ``Via: 1.1 google`` and so does this stand-in.

``DiscordStandin.redirect_discord_py()`` sets both attributes and restores them afterwards.

Known simplifications: voice, threads, reactions and payload (non-transport) compression are
not modelled; ``zstd-stream`` is answered with uncompressed text frames (discord.py accepts
those); the global 50 requests/second limit is not enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import math
import random
import re
import secrets
import socket
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import yarl
from aiohttp import WSMsgType, web

from tests.standins.after_store import KINDS, AfterStore

with warnings.catch_warnings():
    # discord.py imports the stdlib audioop module, deprecated since 3.11; pytest runs with
    # warnings as errors, so keep that one import-time warning from failing collection.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

JSONDict = dict[str, Any]
Result = tuple[int, Any]

DISCORD_EPOCH_MS = 1420070400000
API_VERSION = 10

# Gateway intents (topics/gateway#list-of-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1

# Gateway opcodes (topics/opcodes-and-status-codes#gateway-gateway-opcodes).
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Gateway close codes (topics/opcodes-and-status-codes#gateway-gateway-close-event-codes).
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_API_VERSION = 4012
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014

# Interaction types and callback types (interactions/receiving-and-responding).
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9

# Message flags (resources/message#message-object-message-flags).
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7

# Application command option types (interactions/application-commands).
OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_NUMBER = 10

# Permissions given to @everyone by default: view, send, embed, attach, history, mention,
# external emojis, add reactions, use application commands.
DEFAULT_EVERYONE_PERMISSIONS = sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 17, 18, 31))

# Members per GUILD_MEMBERS_CHUNK, as the gateway docs state ("up to 1000 members").
CHUNK_SIZE = 1000
# discord.py sends 250; Discord's documented default is 50.
DEFAULT_LARGE_THRESHOLD = 50
# Interactions must get their initial callback within 3 seconds.
INTERACTION_ACK_DEADLINE = 3.0
# Events kept per session so RESUME can replay what a dropped connection missed.
RESUME_BUFFER = 1000
# enforce_nonce: "checked for uniqueness in the past few minutes" (resources/message).
NONCE_WINDOW = 180.0


def _iso_now() -> str:
    """ISO-8601 timestamp with offset, the format Discord uses for timestamps."""
    return datetime.now(UTC).isoformat()


@dataclass
class Call:
    """One REST request the stand-in received, so tests can assert on client behaviour."""

    method: str
    path: str
    json: Any
    at: float
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    after_store: str = ""  # the post-store fault that replaced the answer, if any


@dataclass
class _Member:
    """Guild membership of one user, the parts that vary between members."""

    user_id: int
    roles: list[int]
    nick: str | None = None
    joined_at: str = field(default_factory=_iso_now)


@dataclass
class _Guild:
    """One guild's state, used to build GUILD_CREATE, chunks and member lookups."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, JSONDict]
    channels: dict[int, JSONDict]
    members: dict[int, _Member]
    member_count: int | None = None
    unavailable: bool = False

    def count(self) -> int:
        """Member count as Discord reports it (an override lets tests fake big guilds)."""
        return self.member_count if self.member_count is not None else len(self.members)


@dataclass
class _Interaction:
    """Server-side record of an interaction so callbacks and webhooks can be validated."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    created: float
    message_id: int | None = None
    callback_type: int | None = None
    callback_data: Any = None
    original: JSONDict | None = None
    followups: dict[int, JSONDict] = field(default_factory=dict)


@dataclass
class _Fault:
    """A queued forced failure for requests whose path matches ``pattern``."""

    pattern: re.Pattern[str]
    remaining: int
    status: int
    retry_after: float
    method: str | None


@dataclass
class _Window:
    """Fixed-window counter backing one rate-limit bucket plus major parameter."""

    started: float
    used: int = 0


@dataclass(eq=False)
class _Session:
    """A gateway session: survives dropped connections so RESUME can replay events."""

    id: str
    intents: int
    shard: tuple[int, int] | None
    large_threshold: int
    seq: int = 0
    buffer: list[tuple[int, str]] = field(default_factory=list)
    conn: _Connection | None = None


@dataclass(eq=False)
class _Connection:
    """One websocket connection, with its transport compressor and send lock."""

    ws: web.WebSocketResponse
    compressor: Any
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: _Session | None = None
    client_close_code: int | None = None

    async def send(self, text: str) -> None:
        """Send one gateway payload, zlib-stream compressed when the client asked for it."""
        async with self.lock:
            if self.ws.closed:
                return
            if self.compressor is not None:
                data = self.compressor.compress(text.encode()) + self.compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass(frozen=True)
class _Route:
    """A REST route: method, path template, compiled regex and handler."""

    method: str
    template: str
    regex: re.Pattern[str]
    handler: Callable[..., Awaitable[Result]]
    auth: bool


def _too_big(body: Any) -> bool:
    """Discord's documented message limits (resources/message#create-message): 2,000
    characters of content, 10 embeds, 4,096 per description, 6,000 in all embeds."""
    if not isinstance(body, dict):
        return False
    embeds = [e for e in body.get("embeds") or [] if isinstance(e, dict)]
    descriptions = [len(str(e.get("description") or "")) for e in embeds]
    return (
        len(str(body.get("content") or "")) > 2000
        or len(embeds) > 10
        or any(n > 4096 for n in descriptions)
        or sum(descriptions) > 6000
    )


def _matcher(path_regex: str, method: str | None) -> Callable[[str], bool]:
    """Matches ``"<METHOD> <path>"`` the way ``fail_next`` matches requests."""
    pattern = re.compile(path_regex)

    def match(what: str) -> bool:
        verb, _, path = what.partition(" ")
        return method in (None, verb) and bool(pattern.search(path))

    return match


def _error(status: int, code: int, message: str) -> Result:
    """Discord's JSON error body (topics/opcodes-and-status-codes#json)."""
    return status, {"message": message, "code": code}


class DiscordStandin:
    """Fake Discord (REST + gateway) on 127.0.0.1 so bot tests never touch discord.com."""

    def __init__(
        self,
        *,
        token: str = "standin.bot.token",
        bot_id: int = 900000000000000001,
        bot_name: str = "groupcast",
        application_id: int | None = None,
        privileged_intents: int = PRIVILEGED_INTENTS,
        heartbeat_interval_ms: int = 41250,
        rate_limit: int = 50,
        rate_window: float = 1.0,
        echo_own_messages: bool = True,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.application_id = application_id if application_id is not None else bot_id
        self.privileged_intents = privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.echo_own_messages = echo_own_messages

        self.calls: list[Call] = []
        self.rate_limited: Counter[str] = Counter()
        self.gateway_received: list[JSONDict] = []
        self.identifies: list[JSONDict] = []
        self.users: dict[int, JSONDict] = {}
        self.dm_closed: set[int] = set()
        self.guilds: dict[int, _Guild] = {}
        self.presences: dict[tuple[int, int], JSONDict] = {}
        self.dm_channels: dict[int, int] = {}  # channel id -> recipient id
        self.messages: dict[int, dict[int, JSONDict]] = {}
        self.global_commands: dict[str, JSONDict] = {}
        self.guild_commands: dict[int, dict[str, JSONDict]] = {}
        self.interactions: dict[int, _Interaction] = {}
        self.sessions: dict[str, _Session] = {}

        self._connections: set[_Connection] = set()
        self._faults: list[_Fault] = []
        self.after_store = AfterStore()
        # enforce_nonce: (author, nonce) -> (channel id, message id, monotonic time created)
        self.nonce_window = NONCE_WINDOW
        self._nonces: dict[tuple[int, str], tuple[int, int, float]] = {}
        self._call_waiters: list[tuple[str, re.Pattern[str], asyncio.Future[Call]]] = []
        self._chaos_429 = 0.0
        self._chaos_5xx = 0.0
        self._rng = random.Random()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._increment = itertools.count()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session_starts = 0
        self._routes = self._build_routes()
        self.add_user(bot_id, bot_name, bot=True)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        """Start serving so the test body can connect."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving so no socket outlives the test."""
        await self.close()

    async def start(self) -> None:
        """Bind an ephemeral port on 127.0.0.1 so parallel runs never collide."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Close gateway connections (1001, going away) and stop the HTTP server."""
        self.after_store.release()
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"stand-in shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """REST base, the value for ``Route.BASE`` / DISCORD_API_URL."""
        return f"http://127.0.0.1:{self._port}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Gateway URL, the value for ``DiscordWebSocket.DEFAULT_GATEWAY`` / DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @contextlib.contextmanager
    def redirect_discord_py(self) -> Iterator[None]:
        """Point discord.py's class-level REST base and gateway here, restoring them after."""
        old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.api_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            Route.BASE = old_base
            DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # ------------------------------------------------------------------ test-side state

    def snowflake(self) -> int:
        """A fresh snowflake with a real timestamp, so discord.py's created_at is sane."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | (next(self._increment) & 0xFFF)

    def add_user(
        self,
        user_id: int,
        name: str,
        *,
        bot: bool = False,
        global_name: str | None = None,
        dm_closed: bool = False,
    ) -> JSONDict:
        """Register a user; ``dm_closed`` makes DMs to them fail with 50007."""
        user: JSONDict = {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": global_name,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        self.users[user_id] = user
        if dm_closed:
            self.dm_closed.add(user_id)
        else:
            self.dm_closed.discard(user_id)
        return user

    def add_guild(
        self,
        guild_id: int,
        name: str,
        *,
        roles: Iterable[tuple[int, str] | JSONDict] = (),
        channels: Iterable[tuple[int, str] | JSONDict] = (),
        members: Iterable[tuple[int, str, Sequence[int]]] = (),
        owner_id: int | None = None,
        member_count: int | None = None,
        unavailable: bool = False,
    ) -> None:
        """Register a guild; the bot joins it automatically, as it would by being invited."""
        guild_roles: dict[int, JSONDict] = {guild_id: self._role(guild_id, "@everyone", 0)}
        guild_roles[guild_id]["permissions"] = str(DEFAULT_EVERYONE_PERMISSIONS)
        for position, spec in enumerate(roles, start=1):
            role = (
                self._role(int(spec[0]), spec[1], position)
                if isinstance(spec, tuple)
                else {**self._role(int(spec["id"]), spec["name"], position), **spec}
            )
            guild_roles[int(role["id"])] = role
        guild_channels: dict[int, JSONDict] = {}
        for position, spec in enumerate(channels):
            channel = (
                self._text_channel(guild_id, int(spec[0]), spec[1], position)
                if isinstance(spec, tuple)
                else {
                    **self._text_channel(guild_id, int(spec["id"]), spec["name"], position),
                    **spec,
                }
            )
            channel["id"] = str(channel["id"])
            guild_channels[int(channel["id"])] = channel
        guild_members: dict[int, _Member] = {self.bot_id: _Member(self.bot_id, [])}
        for user_id, user_name, member_roles in members:
            if user_id not in self.users:
                self.add_user(user_id, user_name)
            guild_members[user_id] = _Member(user_id, [int(r) for r in member_roles])
        first_human = next((m for m in guild_members if m != self.bot_id), self.bot_id)
        self.guilds[guild_id] = _Guild(
            id=guild_id,
            name=name,
            owner_id=owner_id if owner_id is not None else first_human,
            roles=guild_roles,
            channels=guild_channels,
            members=guild_members,
            member_count=member_count,
            unavailable=unavailable,
        )

    def add_member(self, guild_id: int, user_id: int, name: str, roles: Sequence[int] = ()) -> None:
        """Add one member to an existing guild (state only; no GUILD_MEMBER_ADD is sent)."""
        if user_id not in self.users:
            self.add_user(user_id, name)
        self.guilds[guild_id].members[user_id] = _Member(user_id, list(roles))

    def set_presence(
        self,
        guild_id: int,
        user_id: int,
        status: str,
        client_status: JSONDict | None = None,
        activities: list[JSONDict] | None = None,
    ) -> None:
        """Set a presence without dispatching it, so GUILD_CREATE and chunks include it."""
        self.presences[(guild_id, user_id)] = self.presence_update(
            guild_id, user_id, status, client_status=client_status, activities=activities
        )

    def commands(self, guild_id: int | None = None) -> list[JSONDict]:
        """Commands registered by the bot, globally or for one guild."""
        store = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, {})
        return list(store.values())

    def channel_messages(self, channel_id: int) -> list[JSONDict]:
        """Messages stored in a channel (sent by the bot or dispatched as MESSAGE_CREATE)."""
        return list(self.messages.get(channel_id, {}).values())

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        """Recorded calls with this HTTP method whose path matches ``path_regex``."""
        pattern = re.compile(path_regex)
        return [c for c in self.calls if c.method == method and pattern.search(c.path)]

    async def wait_for_call(self, method: str, path_regex: str, timeout: float = 5.0) -> Call:
        """Wait until a matching request has been answered, so tests never need to sleep."""
        pattern = re.compile(path_regex)
        for call in self.calls:
            if call.status and call.method == method and pattern.search(call.path):
                return call
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        waiter = (method, pattern, future)
        self._call_waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if waiter in self._call_waiters:
                self._call_waiters.remove(waiter)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        path_regex: str,
        count: int = 1,
        retry_after: float = 0.05,
        *,
        status: int = 429,
        method: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with 429 (or ``status``)."""
        self._faults.append(_Fault(re.compile(path_regex), count, status, retry_after, method))

    def chaos(self, rate_429: float = 0.3, rate_5xx: float = 0.05, seed: int | None = 1) -> None:
        """Fail a random share of REST requests with 429 or 502, reproducibly via ``seed``."""
        self._chaos_429 = rate_429
        self._chaos_5xx = rate_5xx
        self._rng = random.Random(seed)

    def calm(self) -> None:
        """Stop chaos and drop queued forced failures (post-store ones too)."""
        self._chaos_429 = self._chaos_5xx = 0.0
        self._faults.clear()
        self.after_store.calm()

    def fail_after_store(
        self, path_regex: str, kind: str = "500", count: int = 1, *, method: str | None = None
    ) -> None:
        """The next ``count`` successful matching requests act, then fail: ``500``, ``drop``
        (connection closed, no answer) or ``timeout`` (answer held past any client timeout)."""
        self.after_store.once(_matcher(path_regex, method), kind, count)

    def storm_after_store(
        self,
        path_regex: str,
        rate: float,
        kinds: tuple[str, ...] = KINDS,
        *,
        method: str | None = None,
        seed: int = 1,
    ) -> None:
        """A seeded share ``rate`` of successful matching requests fail after they acted."""
        self.after_store.storm(_matcher(path_regex, method), rate, kinds, seed=seed)

    # ------------------------------------------------------------------ payload builders

    def presence_update(
        self,
        guild_id: int,
        user_id: int,
        status: str,
        client_status: JSONDict | None = None,
        activities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """PRESENCE_UPDATE data (events/gateway-events#presence-update)."""
        if client_status is None:
            client_status = {} if status == "offline" else {"desktop": status}
        return {
            "user": {"id": str(user_id)},
            "guild_id": str(guild_id),
            "status": status,
            "activities": activities or [],
            "client_status": client_status,
        }

    def message_create(
        self,
        guild_id: int | None,
        channel_id: int,
        author_id: int,
        content: str,
        mention_roles: Sequence[int] = (),
        mentions: Sequence[int] = (),
        *,
        message_id: int | None = None,
        mention_everyone: bool | None = None,
    ) -> JSONDict:
        """MESSAGE_CREATE data: a message object plus guild_id, member and mention members."""
        message = self._message(
            channel_id,
            self._user(author_id),
            {"content": content},
            message_id=message_id,
        )
        message["mentions"] = [self._user(uid) for uid in mentions]
        message["mention_roles"] = [str(r) for r in mention_roles]
        message["mention_everyone"] = (
            ("@everyone" in content or "@here" in content)
            if mention_everyone is None
            else mention_everyone
        )
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
            guild = self.guilds.get(guild_id)
            if guild is not None and author_id in guild.members:
                message["member"] = self._member(guild, author_id, with_user=False)
            for mentioned in message["mentions"]:
                if guild is not None and int(mentioned["id"]) in guild.members:
                    mentioned["member"] = self._member(guild, int(mentioned["id"]), with_user=False)
        return message

    def interaction_command(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: JSONDict | list[JSONDict] | None = None,
        subcommand: str | None = None,
    ) -> JSONDict:
        """INTERACTION_CREATE data for a slash command (type 2); subcommand may be "group sub"."""
        data = self._command_data(guild_id, name, self._options(options), subcommand)
        return self._interaction(
            INTERACTION_APPLICATION_COMMAND, guild_id, channel_id, user_id, data
        )

    def interaction_autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: JSONDict | list[JSONDict] | None,
        focused: str,
        subcommand: str | None = None,
    ) -> JSONDict:
        """INTERACTION_CREATE data for autocomplete (type 4); ``focused`` names the typed option."""
        opts = self._options(options)
        for opt in opts:
            if opt["name"] == focused:
                opt["focused"] = True
        data = self._command_data(guild_id, name, opts, subcommand)
        return self._interaction(INTERACTION_AUTOCOMPLETE, guild_id, channel_id, user_id, data)

    def interaction_component(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        custom_id: str,
        *,
        message_id: int | None = None,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> JSONDict:
        """INTERACTION_CREATE data for a button/select press (type 3) on ``message_id``."""
        data: JSONDict = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        message = self.messages.get(channel_id, {}).get(message_id) if message_id else None
        if message is None:
            message = self._message(
                channel_id, self._user(self.bot_id), {"content": ""}, message_id=message_id
            )
        payload = self._interaction(
            INTERACTION_MESSAGE_COMPONENT, guild_id, channel_id, user_id, data
        )
        payload["message"] = message
        self.interactions[int(payload["id"])].message_id = int(message["id"])
        return payload

    # ------------------------------------------------------------------ gateway, test side

    async def dispatch(self, event: str, data: JSONDict) -> int:
        """Send a DISPATCH to every session whose intents and shard allow it; returns count."""
        self._apply_side_effects(event, data)
        delivered = 0
        for session in list(self.sessions.values()):
            filtered = self._filter_for(session, event, data)
            if filtered is None:
                continue
            await self._send_dispatch(session, event, filtered)
            delivered += 1
        return delivered

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connection, as Discord does before maintenance."""
        for conn in list(self._connections):
            await conn.send(json.dumps({"op": OP_RECONNECT, "d": None, "s": None, "t": None}))

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway connection but keep sessions, so clients can RESUME."""
        for conn in list(self._connections):
            await conn.ws.close(code=code, message=b"dropped by stand-in")

    @property
    def intents(self) -> int | None:
        """Intents of the latest IDENTIFY, or None before any client identified."""
        return self.identifies[-1]["intents"] if self.identifies else None

    # ------------------------------------------------------------------ gateway, server side

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """Accept a gateway connection and run its opcode loop until it closes."""
        ws = web.WebSocketResponse(max_msg_size=0, compress=False)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = _Connection(ws, zlib.compressobj() if compress == "zlib-stream" else None)
        self._connections.add(conn)
        try:
            if request.query.get("v", str(API_VERSION)) not in ("9", str(API_VERSION)):
                await ws.close(code=CLOSE_INVALID_API_VERSION, message=b"Invalid API version.")
                return ws
            if request.query.get("encoding", "json") != "json":
                await ws.close(code=CLOSE_DECODE_ERROR, message=b"Only json is supported.")
                return ws
            hello = {"heartbeat_interval": self.heartbeat_interval_ms}
            await conn.send(json.dumps({"op": OP_HELLO, "d": hello, "s": None, "t": None}))
            while not ws.closed:
                msg = await ws.receive()
                if msg.type is WSMsgType.CLOSE:
                    conn.client_close_code = int(msg.data)
                    break
                if msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                try:
                    if msg.type is not WSMsgType.TEXT:
                        raise ValueError("binary frame")
                    payload = json.loads(msg.data)
                except ValueError:
                    await ws.close(
                        code=CLOSE_DECODE_ERROR, message=b"Error while decoding payload."
                    )
                    break
                self.gateway_received.append(payload)
                await self._handle_op(conn, payload)
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # A client closing with 1000/1001 ends its session; other codes (discord.py
                # uses 4000 before reconnecting) and server-side drops keep it resumable.
                if conn.client_close_code in (1000, 1001):
                    self.sessions.pop(session.id, None)
        return ws

    async def _handle_op(self, conn: _Connection, payload: JSONDict) -> None:
        """Act on one client payload the way the gateway docs describe."""
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            await conn.send(json.dumps({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None}))
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == OP_RESUME:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await conn.ws.close(code=CLOSE_NOT_AUTHENTICATED, message=b"Not authenticated.")
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._request_members(conn.session, data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            return
        else:
            await conn.ws.close(code=CLOSE_UNKNOWN_OPCODE, message=b"Unknown opcode.")

    async def _identify(self, conn: _Connection, data: JSONDict) -> None:
        """Validate IDENTIFY, then send READY and one GUILD_CREATE per guild on the shard."""
        if conn.session is not None:
            await conn.ws.close(code=CLOSE_ALREADY_AUTHENTICATED, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await conn.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~ALL_INTENTS:
            await conn.ws.close(code=CLOSE_INVALID_INTENTS, message=b"Invalid intent(s).")
            return
        self.identifies.append(data)
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await conn.ws.close(code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard")
        threshold = int(data.get("large_threshold", DEFAULT_LARGE_THRESHOLD))
        session = _Session(
            id=secrets.token_hex(16),
            intents=intents,
            shard=(int(shard[0]), int(shard[1])) if shard else None,
            large_threshold=max(50, min(250, threshold)),
            conn=conn,
        )
        conn.session = session
        self.sessions[session.id] = session
        self._session_starts += 1
        guilds = [g for g in self.guilds.values() if self._on_shard(session, g.id)]
        ready: JSONDict = {
            "v": API_VERSION,
            "user": self._bot_user(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            if guild.unavailable:
                continue
            await self._send_dispatch(session, "GUILD_CREATE", self._guild_create(guild, session))

    async def _resume(self, conn: _Connection, data: JSONDict) -> None:
        """Replay events after ``seq`` then RESUMED, or INVALID_SESSION (d=false) if unknown."""
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if (
            session is None
            or data.get("token") != self.token
            or not isinstance(seq, int)
            or seq > session.seq
            or (session.buffer and seq < session.buffer[0][0] - 1)
        ):
            await conn.send(
                json.dumps({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            )
            return
        if session.conn is not None and session.conn is not conn:
            await session.conn.ws.close(code=4000, message=b"Session resumed elsewhere.")
        session.conn = conn
        conn.session = session
        for number, text in session.buffer:
            if number > seq:
                await conn.send(text)
        await self._send_dispatch(session, "RESUMED", {})

    async def _request_members(self, session: _Session, data: JSONDict) -> None:
        """Answer op 8 with GUILD_MEMBERS_CHUNKs (by user_ids, or by name prefix and limit)."""
        raw_ids = data.get("guild_id")
        guild_ids: list[Any] = raw_ids if isinstance(raw_ids, list) else [raw_ids]
        for gid in guild_ids:
            guild = self.guilds.get(int(gid)) if str(gid).isdigit() else None
            if guild is None:
                continue
            not_found: list[str] = []
            if data.get("user_ids") is not None:
                raw = data["user_ids"]
                wanted = [int(u) for u in (raw if isinstance(raw, list) else [raw])]
                found = [u for u in wanted if u in guild.members]
                not_found = [str(u) for u in wanted if u not in guild.members]
            else:
                query = str(data.get("query", "")).lower()
                limit = int(data.get("limit", 0))
                found = [
                    uid
                    for uid, member in guild.members.items()
                    if self.users[uid]["username"].lower().startswith(query)
                    or (member.nick or "").lower().startswith(query)
                ]
                if limit:
                    found = found[:limit]
            chunks = [found[i : i + CHUNK_SIZE] for i in range(0, len(found), CHUNK_SIZE)] or [[]]
            for index, chunk in enumerate(chunks):
                body: JSONDict = {
                    "guild_id": str(guild.id),
                    "members": [self._member(guild, uid) for uid in chunk],
                    "chunk_index": index,
                    "chunk_count": len(chunks),
                }
                if index == 0 and not_found:
                    body["not_found"] = not_found
                if data.get("presences"):
                    body["presences"] = [
                        self.presences[(guild.id, uid)]
                        for uid in chunk
                        if (guild.id, uid) in self.presences
                    ]
                if data.get("nonce") is not None:
                    body["nonce"] = data["nonce"]
                await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", body)

    async def _send_dispatch(self, session: _Session, event: str, data: JSONDict) -> None:
        """Number, buffer and (if connected) send one DISPATCH for a session."""
        session.seq += 1
        text = json.dumps({"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data})
        session.buffer.append((session.seq, text))
        del session.buffer[:-RESUME_BUFFER]
        if session.conn is not None:
            await session.conn.send(text)

    def _on_shard(self, session: _Session, guild_id: int | None) -> bool:
        """Discord's shard formula: (guild_id >> 22) % num_shards; DMs go to shard 0."""
        if session.shard is None:
            return True
        shard_id, count = session.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id

    def _guild_create(self, guild: _Guild, session: _Session) -> JSONDict:
        """GUILD_CREATE with members/presences limited by intents and large_threshold."""
        large = guild.count() >= session.large_threshold
        has_presences = bool(session.intents & INTENT_GUILD_PRESENCES)
        online = {
            uid
            for uid in guild.members
            if self.presences.get((guild.id, uid), {}).get("status", "offline") != "offline"
        }
        # Without GUILD_PRESENCES only the bot (and voice users) are sent; large guilds omit
        # offline members (IDENTIFY large_threshold).
        if not has_presences:
            member_ids = [self.bot_id]
        elif large:
            member_ids = [uid for uid in guild.members if uid in online or uid == self.bot_id]
        else:
            member_ids = list(guild.members)
        presences = (
            [self.presences[(guild.id, uid)] for uid in member_ids if uid in online]
            if has_presences
            else []
        )
        bot_member = guild.members.get(self.bot_id)
        return {
            **self._guild_object(guild),
            "joined_at": bot_member.joined_at if bot_member else _iso_now(),
            "large": large,
            "unavailable": False,
            "member_count": guild.count(),
            "voice_states": [],
            "members": [self._member(guild, uid) for uid in member_ids],
            "channels": list(guild.channels.values()),
            "threads": [],
            "presences": presences,
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _filter_for(self, session: _Session, event: str, data: JSONDict) -> JSONDict | None:
        """Apply intent gating and MESSAGE_CONTENT redaction the way Discord does."""
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        if not self._on_shard(session, guild_id):
            return None
        intents = session.intents
        if event == "PRESENCE_UPDATE":
            return data if intents & INTENT_GUILD_PRESENCES else None
        if event.startswith("GUILD_MEMBER_") and event != "GUILD_MEMBERS_CHUNK":
            return data if intents & INTENT_GUILD_MEMBERS else None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"):
            needed = INTENT_GUILD_MESSAGES if guild_id is not None else INTENT_DIRECT_MESSAGES
            if not intents & needed:
                return None
            if event != "MESSAGE_DELETE" and not intents & INTENT_MESSAGE_CONTENT:
                return self._redact(data, guild_id)
        if event.startswith(("GUILD_", "CHANNEL_")):
            return data if intents & INTENT_GUILDS else None
        return data

    def _redact(self, message: JSONDict, guild_id: int | None) -> JSONDict:
        """Blank content fields unless the message is a DM, by the bot, or mentions the bot."""
        author_id = int(message.get("author", {}).get("id", 0))
        mentioned = any(int(u["id"]) == self.bot_id for u in message.get("mentions", []))
        if guild_id is None or author_id == self.bot_id or mentioned:
            return message
        return {
            **message,
            "content": "",
            "embeds": [],
            "attachments": [],
            "components": [],
        }

    def _apply_side_effects(self, event: str, data: JSONDict) -> None:
        """Keep stored state consistent with what tests dispatch."""
        if event == "PRESENCE_UPDATE":
            key = (int(data["guild_id"]), int(data["user"]["id"]))
            self.presences[key] = data
        elif event == "MESSAGE_CREATE":
            stored = {k: v for k, v in data.items() if k not in ("guild_id", "member")}
            self.messages.setdefault(int(data["channel_id"]), {})[int(data["id"])] = stored

    # ------------------------------------------------------------------ REST plumbing

    def _build_routes(self) -> list[_Route]:
        """Route table: (method, template, handler, needs bot auth)."""
        table: list[tuple[str, str, Callable[..., Awaitable[Result]], bool]] = [
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/{application_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{application_id}/commands", self._put_commands, True),
            ("POST", "/applications/{application_id}/commands", self._post_command, True),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._get_commands,
                True,
            ),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._put_commands,
                True,
            ),
            (
                "POST",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._post_command,
                True,
            ),
            ("GET", "/channels/{channel_id}", self._get_channel, True),
            ("GET", "/channels/{channel_id}/messages", self._list_messages, True),
            ("POST", "/channels/{channel_id}/messages", self._create_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message, True),
            ("GET", "/guilds/{guild_id}/members/{member_id}", self._get_member, True),
            (
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                self._interaction_callback,
                False,
            ),
            ("POST", "/webhooks/{webhook_id}/{webhook_token}", self._followup_create, False),
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self._webhook_get,
                False,
            ),
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self._webhook_edit,
                False,
            ),
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self._webhook_delete,
                False,
            ),
        ]
        routes = []
        for method, template, handler, auth in table:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            routes.append(_Route(method, template, re.compile(f"^{pattern}$"), handler, auth))
        return routes

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        """Find the route for a request; literal segments win over placeholders."""
        for route in sorted(self._routes, key=lambda r: r.template.count("{")):
            if route.method != method:
                continue
            match = route.regex.match(path)
            if match:
                return route, match.groupdict()
        return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        """Record, authenticate, rate-limit, fault-inject, then run the route handler."""
        path = "/" + request.match_info["tail"]
        body = await self._read_body(request)
        call = Call(request.method, path, body, time.monotonic(), dict(request.query))
        self.calls.append(call)
        found = self._match(request.method, path)
        template = found[0].template if found else path
        bucket = f"{request.method} {template}"
        params = found[1] if found else {}
        major = "+".join(
            params[k]
            for k in ("channel_id", "guild_id", "webhook_id", "webhook_token")
            if k in params
        )
        bucket_hash = hashlib.sha1(bucket.encode()).hexdigest()[:16]

        if found and found[0].auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return self._respond(call, *_error(401, 0, "401: Unauthorized"))

        forced = self._forced_failure(request.method, path)
        if forced is not None:
            return self._failure(call, bucket, bucket_hash, forced.status, forced.retry_after)
        roll = self._rng.random() if (self._chaos_429 or self._chaos_5xx) else 1.0
        if roll < self._chaos_429:
            return self._failure(
                call, bucket, bucket_hash, 429, round(self._rng.uniform(0.01, 0.1), 3)
            )
        if roll < self._chaos_429 + self._chaos_5xx:
            return self._failure(call, bucket, bucket_hash, 502, 0.0)

        window = self._windows.get((bucket_hash, major))
        now = time.monotonic()
        if window is None or now - window.started >= self.rate_window:
            window = self._windows[(bucket_hash, major)] = _Window(now)
        if window.used >= self.rate_limit:
            wait = max(0.001, self.rate_window - (now - window.started))
            return self._failure(call, bucket, bucket_hash, 429, round(wait, 3))
        window.used += 1
        headers = self._ratelimit_headers(bucket_hash, self.rate_limit - window.used, window, now)

        if found is None:
            return self._respond(call, *_error(404, 0, "404: Not Found"), headers=headers)
        route, params = found
        if any(k.endswith("_id") and not v.isdigit() for k, v in params.items()):
            # Discord validates snowflakes before anything else (50035 Invalid Form Body).
            return self._respond(call, *_error(400, 50035, "Invalid Form Body"), headers=headers)
        status, payload = await route.handler(request, body, **params)
        what = f"{request.method} {path}"
        late = self.after_store.pick(what) if status < 300 else None
        if late is not None:
            call.after_store = late
            answer = self._respond(call, status, payload, headers=headers)
            return await self.after_store.strike(request, what, late, answer)
        return self._respond(call, status, payload, headers=headers)

    async def _read_body(self, request: web.Request) -> Any:
        """JSON body, or ``payload_json`` of a multipart body (file uploads), else None."""
        if not request.can_read_body:
            return None
        if request.content_type == "application/json":
            return await request.json()
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            raw = form.get("payload_json")
            body = json.loads(str(raw)) if raw is not None else {}
            body["_files"] = [k for k in form if k != "payload_json"]
            return body
        text = await request.text()
        return text or None

    def _forced_failure(self, method: str, path: str) -> _Fault | None:
        """Consume one queued failure matching this request, if any."""
        for fault in self._faults:
            if (
                fault.remaining > 0
                and (fault.method in (None, method))
                and fault.pattern.search(path)
            ):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _ratelimit_headers(
        self, bucket_hash: str, remaining: int, window: _Window, now: float
    ) -> dict[str, str]:
        """Discord's per-route headers (topics/rate-limits#header-format)."""
        reset_after = max(0.0, self.rate_window - (now - window.started))
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, remaining)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }

    def _failure(
        self, call: Call, bucket: str, bucket_hash: str, status: int, retry_after: float
    ) -> web.Response:
        """A 429 with Discord's body and headers, or a Cloudflare-style 5xx."""
        if status != 429:
            return self._respond(call, *_error(status, 0, f"{status}: Bad Gateway"))
        self.rate_limited[bucket] += 1
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
            "X-RateLimit-Scope": "user",
            "Retry-After": str(max(1, math.ceil(retry_after))),
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        return self._respond(call, 429, body, headers=headers)

    def _respond(
        self, call: Call, status: int, payload: Any, *, headers: dict[str, str] | None = None
    ) -> web.Response:
        """Serialize a handler result; every response carries ``Via`` like Discord's."""
        call.status = status
        for waiter in list(self._call_waiters):
            method, pattern, future = waiter
            if call.method == method and pattern.search(call.path) and not future.done():
                future.set_result(call)
                self._call_waiters.remove(waiter)
        all_headers = {"Via": "1.1 google", **(headers or {})}
        if status == 204 or payload is None:
            return web.Response(status=status, headers=all_headers)
        # Exactly "application/json" with no charset, as Discord sends it: discord.py compares
        # the Content-Type header verbatim and treats anything else as plain text.
        all_headers["Content-Type"] = "application/json"
        return web.Response(body=json.dumps(payload).encode(), status=status, headers=all_headers)

    # ------------------------------------------------------------------ object builders

    def _user(self, user_id: int) -> JSONDict:
        """A user object, inventing one for ids tests never registered."""
        if user_id not in self.users:
            self.add_user(user_id, f"user{user_id}")
        return dict(self.users[user_id])

    def _bot_user(self) -> JSONDict:
        """The bot's own user object as /users/@me and READY return it."""
        return {
            **self.users[self.bot_id],
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
        }

    def _role(self, role_id: int, name: str, position: int) -> JSONDict:
        """A role object with Discord's documented fields."""
        return {
            "id": str(role_id),
            "name": name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": "0",
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _text_channel(self, guild_id: int, channel_id: int, name: str, position: int) -> JSONDict:
        """A GUILD_TEXT (type 0) channel object."""
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }

    def _dm_channel(self, channel_id: int, recipient_id: int) -> JSONDict:
        """A DM (type 1) channel object."""
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "recipients": [self._user(recipient_id)],
            "flags": 0,
        }

    def _guild_object(self, guild: _Guild) -> JSONDict:
        """The guild object fields shared by GUILD_CREATE and interaction payloads."""
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(guild.roles.values()),
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": False,
        }

    def _member(self, guild: _Guild, user_id: int, *, with_user: bool = True) -> JSONDict:
        """A guild member object; MESSAGE_CREATE's ``member`` omits ``user``."""
        member = guild.members[user_id]
        data: JSONDict = {
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in member.roles],
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self._user(user_id)
        return data

    def _permissions(self, guild: _Guild, user_id: int) -> int:
        """Guild-level permissions: owner gets all, others the OR of their roles."""
        if user_id == guild.owner_id:
            return (1 << 53) - 1
        member = guild.members.get(user_id)
        perms = int(guild.roles[guild.id]["permissions"])
        for role_id in member.roles if member else []:
            perms |= int(guild.roles.get(role_id, {}).get("permissions", "0"))
        return perms

    def _channel_for(self, channel_id: int) -> tuple[JSONDict | None, int | None]:
        """(channel object, guild id) for a channel id, or (None, None) if unknown."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id], guild.id
        if channel_id in self.dm_channels:
            return self._dm_channel(channel_id, self.dm_channels[channel_id]), None
        return None, None

    def _message(
        self,
        channel_id: int,
        author: JSONDict,
        body: JSONDict,
        *,
        message_id: int | None = None,
        message_type: int = 0,
        webhook_id: int | None = None,
    ) -> JSONDict:
        """A message object (resources/message#message-object) from a create/edit body."""
        content = str(body.get("content") or "")
        message: JSONDict = {
            "id": str(message_id if message_id is not None else self.snowflake()),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": _iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": "@everyone" in content or "@here" in content,
            "mentions": [self._user(int(u)) for u in re.findall(r"<@!?(\d+)>", content)],
            "mention_roles": re.findall(r"<@&(\d+)>", content),
            "attachments": [],
            "embeds": list(body.get("embeds") or []),
            "reactions": [],
            "pinned": False,
            "type": message_type,
            "flags": int(body.get("flags") or 0),
            "components": list(body.get("components") or []),
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
            message["application_id"] = str(self.application_id)
        if body.get("message_reference"):
            message["message_reference"] = {
                "type": 0,
                "channel_id": str(channel_id),
                **body["message_reference"],
            }
            message["type"] = 19
        return message

    def _options(self, options: JSONDict | list[JSONDict] | None) -> list[JSONDict]:
        """Turn {name: value} into typed interaction options; lists pass through unchanged."""
        if options is None:
            return []
        if isinstance(options, list):
            return [dict(o) for o in options]
        result = []
        for name, value in options.items():
            if isinstance(value, bool):
                kind = OPTION_BOOLEAN
            elif isinstance(value, int):
                kind = OPTION_INTEGER
            elif isinstance(value, float):
                kind = OPTION_NUMBER
            else:
                kind = OPTION_STRING
            result.append({"name": name, "type": kind, "value": value})
        return result

    def _command_data(
        self, guild_id: int | None, name: str, options: list[JSONDict], subcommand: str | None
    ) -> JSONDict:
        """Interaction ``data`` for a CHAT_INPUT command, using the registered command's id."""
        registered = None
        if guild_id is not None:
            registered = self.guild_commands.get(guild_id, {}).get(name)
        command_guild = guild_id if registered is not None else None
        registered = registered or self.global_commands.get(name)
        if subcommand:
            parts = subcommand.split()
            nested: list[JSONDict] = [
                {"name": parts[-1], "type": OPTION_SUB_COMMAND, "options": options}
            ]
            if len(parts) == 2:
                nested = [{"name": parts[0], "type": OPTION_SUB_COMMAND_GROUP, "options": nested}]
            options = nested
        data: JSONDict = {
            "id": registered["id"] if registered else str(self.snowflake()),
            "name": name,
            "type": 1,
            "options": options,
        }
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        return data

    def _interaction(
        self, kind: int, guild_id: int | None, channel_id: int, user_id: int, data: JSONDict
    ) -> JSONDict:
        """The interaction object common to all types; registers it for callbacks."""
        interaction_id = self.snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        channel, _ = self._channel_for(channel_id)
        if channel is None:
            channel = (
                self._text_channel(guild_id, channel_id, f"channel{channel_id}", 0)
                if guild_id is not None
                else self._dm_channel(channel_id, user_id)
            )
        payload: JSONDict = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel": channel,
            "channel_id": str(channel_id),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
            if guild is not None and user_id not in guild.members:
                self.add_member(guild_id, user_id, self._user(user_id)["username"])
            if guild is not None:
                member = self._member(guild, user_id)
                member["permissions"] = str(self._permissions(guild, user_id))
                payload["member"] = member
                payload["app_permissions"] = str(self._permissions(guild, self.bot_id))
            else:
                payload["member"] = {
                    "user": self._user(user_id),
                    "roles": [],
                    "joined_at": _iso_now(),
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                    "permissions": str(DEFAULT_EVERYONE_PERMISSIONS),
                }
                payload["app_permissions"] = str(DEFAULT_EVERYONE_PERMISSIONS)
        else:
            payload["user"] = self._user(user_id)
            payload["authorizing_integration_owners"] = {"1": str(user_id)}
            payload["context"] = 1
            payload["app_permissions"] = str(DEFAULT_EVERYONE_PERMISSIONS)
        self.interactions[interaction_id] = _Interaction(
            id=interaction_id,
            token=token,
            type=kind,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            created=time.monotonic(),
        )
        return payload

    # ------------------------------------------------------------------ REST handlers

    async def _get_me(self, request: web.Request, body: Any) -> Result:
        """GET /users/@me (resources/user#get-current-user)."""
        return 200, self._bot_user()

    async def _get_user(self, request: web.Request, body: Any, user_id: str) -> Result:
        """GET /users/{id}; unknown ids give 10013 Unknown User."""
        if not user_id.isdigit() or int(user_id) not in self.users:
            return _error(404, 10013, "Unknown User")
        return 200, self._user(int(user_id))

    async def _create_dm(self, request: web.Request, body: Any) -> Result:
        """POST /users/@me/channels: opening a DM succeeds even if the user blocks DMs."""
        recipient = int((body or {}).get("recipient_id", 0))
        if recipient not in self.users:
            return _error(400, 50033, "Invalid Recipient(s)")
        for channel_id, user_id in self.dm_channels.items():
            if user_id == recipient:
                return 200, self._dm_channel(channel_id, recipient)
        channel_id = self.snowflake()
        self.dm_channels[channel_id] = recipient
        return 200, self._dm_channel(channel_id, recipient)

    async def _get_gateway(self, request: web.Request, body: Any) -> Result:
        """GET /gateway (topics/gateway#get-gateway)."""
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, request: web.Request, body: Any) -> Result:
        """GET /gateway/bot with url, shards and session_start_limit."""
        return 200, {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": max(0, 1000 - self._session_starts),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_application(self, request: web.Request, body: Any) -> Result:
        """GET /applications/@me and /oauth2/applications/@me (resources/application)."""
        return 200, {
            "id": str(self.application_id),
            "name": self.users[self.bot_id]["username"],
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": False,
            "bot_require_code_grant": False,
            "bot": self._user(self.bot_id),
            "owner": self._user(self.bot_id),
            "team": None,
            "verify_key": "0" * 64,
            "flags": (1 << 13) | (1 << 15) | (1 << 19),  # limited members/presence/content
            "approximate_guild_count": len(self.guilds),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "install_params": None,
            "custom_install_url": None,
            "integration_types_config": {},
        }

    def _command_store(self, guild_id: str | None) -> dict[str, JSONDict]:
        """Global or per-guild command storage."""
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(int(guild_id), {})

    def _stored_command(
        self, spec: JSONDict, guild_id: str | None, existing: JSONDict | None
    ) -> JSONDict:
        """A command object as Discord returns it, keeping the id of a same-named command."""
        command = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            **spec,
            "id": existing["id"] if existing else str(self.snowflake()),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
        }
        if guild_id is not None:
            command["guild_id"] = guild_id
        return command

    async def _get_commands(
        self, request: web.Request, body: Any, application_id: str, guild_id: str | None = None
    ) -> Result:
        """GET application commands."""
        return 200, list(self._command_store(guild_id).values())

    async def _put_commands(
        self, request: web.Request, body: Any, application_id: str, guild_id: str | None = None
    ) -> Result:
        """PUT bulk overwrite: replaces the whole set, keeping ids of unchanged names."""
        if application_id != str(self.application_id):
            return _error(403, 50001, "Missing Access")
        store = self._command_store(guild_id)
        fresh = {
            spec["name"]: self._stored_command(spec, guild_id, store.get(spec["name"]))
            for spec in body or []
        }
        store.clear()
        store.update(fresh)
        return 200, list(store.values())

    async def _post_command(
        self, request: web.Request, body: Any, application_id: str, guild_id: str | None = None
    ) -> Result:
        """POST one command (upsert by name)."""
        store = self._command_store(guild_id)
        existing = store.get(body["name"])
        store[body["name"]] = self._stored_command(body, guild_id, existing)
        return (200 if existing else 201), store[body["name"]]

    async def _get_channel(self, request: web.Request, body: Any, channel_id: str) -> Result:
        """GET /channels/{id}."""
        channel, _ = self._channel_for(int(channel_id))
        return (200, channel) if channel else _error(404, 10003, "Unknown Channel")

    async def _list_messages(self, request: web.Request, body: Any, channel_id: str) -> Result:
        """GET /channels/{id}/messages, newest first, honouring ``limit``."""
        channel, _ = self._channel_for(int(channel_id))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        limit = int(request.query.get("limit", "50"))
        stored = sorted(
            self.messages.get(int(channel_id), {}).values(), key=lambda m: -int(m["id"])
        )
        return 200, stored[:limit]

    async def _create_message(self, request: web.Request, body: Any, channel_id: str) -> Result:
        """POST /channels/{id}/messages; DMs to ``dm_closed`` users give 403 / 50007."""
        cid = int(channel_id)
        channel, guild_id = self._channel_for(cid)
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if cid in self.dm_channels and self.dm_channels[cid] in self.dm_closed:
            return _error(403, 50007, "Cannot send messages to this user")
        body = body if isinstance(body, dict) else {}
        if _too_big(body):
            return _error(400, 50035, "Invalid Form Body")
        if not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or body.get("_files")
        ):
            return _error(400, 50006, "Cannot send an empty message")
        repeat = self._nonce_repeat(body)
        if repeat is not None:
            return 200, repeat
        message = self._message(cid, self._user(self.bot_id), body)
        self.messages.setdefault(cid, {})[int(message["id"])] = message
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            key = (self.bot_id, str(body["nonce"]))
            self._nonces[key] = (cid, int(message["id"]), time.monotonic())
        if self.echo_own_messages:
            event = dict(message)
            if guild_id is not None:
                event["guild_id"] = str(guild_id)
                event["member"] = self._member(self.guilds[guild_id], self.bot_id, with_user=False)
            await self.dispatch("MESSAGE_CREATE", event)
        return 200, message

    def _nonce_repeat(self, body: JSONDict) -> JSONDict | None:
        """resources/message#create-message: with ``enforce_nonce``, a nonce the same author
        used in the past few minutes returns that message instead of creating another."""
        nonce = body.get("nonce")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        seen = self._nonces.get((self.bot_id, str(nonce)))
        if seen is None or time.monotonic() - seen[2] > self.nonce_window:
            return None
        return self.messages.get(seen[0], {}).get(seen[1])

    async def _get_message(
        self, request: web.Request, body: Any, channel_id: str, message_id: str
    ) -> Result:
        """GET one message."""
        message = self.messages.get(int(channel_id), {}).get(int(message_id))
        return (200, message) if message else _error(404, 10008, "Unknown Message")

    async def _edit_message(
        self, request: web.Request, body: Any, channel_id: str, message_id: str
    ) -> Result:
        """PATCH a message the bot sent; others' messages give 50005."""
        message = self.messages.get(int(channel_id), {}).get(int(message_id))
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if int(message["author"]["id"]) != self.bot_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        if _too_big(body):
            return _error(400, 50035, "Invalid Form Body")
        self._apply_edit(message, body or {})
        return 200, message

    async def _delete_message(
        self, request: web.Request, body: Any, channel_id: str, message_id: str
    ) -> Result:
        """DELETE a message (204)."""
        if self.messages.get(int(channel_id), {}).pop(int(message_id), None) is None:
            return _error(404, 10008, "Unknown Message")
        return 204, None

    async def _get_member(
        self, request: web.Request, body: Any, guild_id: str, member_id: str
    ) -> Result:
        """GET /guilds/{id}/members/{uid}."""
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        if not member_id.isdigit() or int(member_id) not in guild.members:
            return _error(404, 10007, "Unknown Member")
        return 200, self._member(guild, int(member_id))

    @staticmethod
    def _apply_edit(message: JSONDict, body: JSONDict) -> None:
        """Apply an edit body to a stored message, as PATCH does."""
        for key in ("content", "embeds", "components", "flags"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        message["flags"] = int(message.get("flags", 0)) & ~FLAG_LOADING
        message["edited_timestamp"] = _iso_now()

    def _interaction_message(
        self, record: _Interaction, body: JSONDict, *, loading: bool
    ) -> JSONDict:
        """A message authored by the app through an interaction response or followup."""
        message_type = 20 if record.type == INTERACTION_APPLICATION_COMMAND else 0
        message = self._message(
            record.channel_id,
            self._user(self.bot_id),
            body,
            message_type=message_type,
            webhook_id=self.application_id,
        )
        if loading:
            message["flags"] = int(message["flags"]) | FLAG_LOADING
        message["interaction_metadata"] = {
            "id": str(record.id),
            "type": record.type,
            "user": self._user(record.user_id),
            "authorizing_integration_owners": {},
        }
        return message

    async def _interaction_callback(
        self, request: web.Request, body: Any, interaction_id: str, interaction_token: str
    ) -> Result:
        """POST /interactions/{id}/{token}/callback, once, within 3 s, with a valid type."""
        record = self.interactions.get(int(interaction_id)) if interaction_id.isdigit() else None
        if record is None or record.token != interaction_token:
            return _error(404, 10062, "Unknown interaction")
        if record.callback_type is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - record.created > INTERACTION_ACK_DEADLINE:
            return _error(404, 10062, "Unknown interaction")
        body = body if isinstance(body, dict) else {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        allowed = {
            INTERACTION_APPLICATION_COMMAND: {
                CALLBACK_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                CALLBACK_MODAL,
            },
            INTERACTION_MESSAGE_COMPONENT: {
                CALLBACK_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_UPDATE_MESSAGE,
                CALLBACK_UPDATE_MESSAGE,
                CALLBACK_MODAL,
            },
            INTERACTION_AUTOCOMPLETE: {CALLBACK_AUTOCOMPLETE_RESULT},
            INTERACTION_MODAL_SUBMIT: {
                CALLBACK_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                CALLBACK_DEFERRED_UPDATE_MESSAGE,
                CALLBACK_UPDATE_MESSAGE,
            },
        }
        if kind not in allowed.get(record.type, set()):
            return _error(400, 50035, "Invalid Form Body")
        record.callback_type = kind
        record.callback_data = data
        callback: JSONDict = {"id": str(record.id), "type": record.type}
        resource: JSONDict = {"type": kind}
        if kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE):
            loading = kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE
            record.original = self._interaction_message(record, data, loading=loading)
            callback["response_message_id"] = record.original["id"]
            callback["response_message_loading"] = loading
            callback["response_message_ephemeral"] = bool(
                int(data.get("flags") or 0) & FLAG_EPHEMERAL
            )
            resource["message"] = record.original
        elif (
            kind in (CALLBACK_UPDATE_MESSAGE, CALLBACK_DEFERRED_UPDATE_MESSAGE)
            and record.message_id
        ):
            target = self.messages.get(record.channel_id, {}).get(record.message_id)
            if target is not None:
                if kind == CALLBACK_UPDATE_MESSAGE:
                    self._apply_edit(target, data)
                    resource["message"] = target
                record.original = target
        if request.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, {"interaction": callback, "resource": resource}

    def _webhook_interaction(self, webhook_id: str, token: str) -> _Interaction | None:
        """The interaction behind an application webhook id + interaction token."""
        if webhook_id != str(self.application_id):
            return None
        return next((i for i in self.interactions.values() if i.token == token), None)

    def _webhook_message(self, record: _Interaction, message_id: str) -> JSONDict | None:
        """@original or a followup message of an interaction."""
        if message_id == "@original":
            return record.original
        return record.followups.get(int(message_id)) if message_id.isdigit() else None

    async def _followup_create(
        self, request: web.Request, body: Any, webhook_id: str, webhook_token: str
    ) -> Result:
        """POST /webhooks/{app}/{token}: a followup, only after the interaction was acked."""
        record = self._webhook_interaction(webhook_id, webhook_token)
        if record is None or record.callback_type is None:
            return _error(404, 10015, "Unknown Webhook")
        if _too_big(body):
            return _error(400, 50035, "Invalid Form Body")
        message = self._interaction_message(record, body or {}, loading=False)
        record.followups[int(message["id"])] = message
        if request.query.get("wait") not in ("1", "true", "True"):
            return 204, None
        return 200, message

    async def _webhook_get(
        self, request: web.Request, body: Any, webhook_id: str, webhook_token: str, message_id: str
    ) -> Result:
        """GET @original or a followup."""
        record = self._webhook_interaction(webhook_id, webhook_token)
        if record is None:
            return _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, message_id)
        return (200, message) if message else _error(404, 10008, "Unknown Message")

    async def _webhook_edit(
        self, request: web.Request, body: Any, webhook_id: str, webhook_token: str, message_id: str
    ) -> Result:
        """PATCH @original (e.g. filling a deferred response) or a followup."""
        record = self._webhook_interaction(webhook_id, webhook_token)
        if record is None or record.callback_type is None:
            return _error(404, 10015, "Unknown Webhook")
        message = self._webhook_message(record, message_id)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        self._apply_edit(message, body or {})
        return 200, message

    async def _webhook_delete(
        self, request: web.Request, body: Any, webhook_id: str, webhook_token: str, message_id: str
    ) -> Result:
        """DELETE @original or a followup (204)."""
        record = self._webhook_interaction(webhook_id, webhook_token)
        if record is None or self._webhook_message(record, message_id) is None:
            return _error(404, 10008, "Unknown Message")
        if message_id == "@original":
            record.original = None
        else:
            record.followups.pop(int(message_id), None)
        return 204, None
