"""What the Slack listeners share: the engine attached, who a Slack user is, replies out."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond

from bots.slack import render
from bots.slack.home import home_view
from bots.slack.people import People
from bots.slack.platform import SlackPlatform
from core.engine import Engine
from core.inbound import DbInboundEvents, InboundEvents
from core.ports import Actor, DeliveryFailed, Message, Place
from core.presence.signals import Signal

log = logging.getLogger(__name__)

USER_REF_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
WORKED = "groupcast_worked"
"""Context key of a future the command intake waits on: set once a command's own work is done
(what is left is its reply, paced), so the intake's worker can take the next command."""
Next = Callable[[], Awaitable[None]]


class SlackBot:
    """What the listeners share: the engine, the platform, event ids taken on, in-flight work."""

    def __init__(
        self, engine: Engine, platform: SlackPlatform, *, events: InboundEvents | None = None
    ) -> None:
        self.engine = engine
        self.platform = platform
        # Shared by every process on the database (or Redis), and kept across restarts.
        self.events = events if events is not None else DbInboundEvents(engine.clock)
        self.people = People(platform.call)
        self._open: set[asyncio.Future[None]] = set()
        platform.publish_home = self.publish_home
        platform.viewers = engine.notifier.viewers

    # -- bookkeeping ------------------------------------------------------------------

    def creates_work(self, team: str, event: dict[str, Any]) -> bool:
        """A person's channel message that may be a group request: persisted before the ack."""
        if event.get("type") != "message" or event.get("subtype") or event.get("bot_id"):
            return False
        if not isinstance(event.get("user"), str) or event.get("user_team", team) != team:
            return False  # a Slack Connect guest belongs to another tenant
        return self.engine.addresses_group(render.decode(str(event.get("text", ""))))

    async def group_request(self, team: str, event: dict[str, Any]) -> Message | None:
        """Create the request a channel message makes (persisted when this returns)."""
        user = str(event.get("user", ""))
        text = str(event.get("text", ""))
        channel, ts = str(event["channel"]), str(event["ts"])
        thread = str(event.get("thread_ts") or ts)
        actor = self.actor(team, user)
        place = Place(channel, thread, await self.permalink(channel, ts))
        return await self.engine.message(actor, render.decode(text), place)  # groups: tokens

    async def track(self, context: AsyncBoltContext, next: Next) -> None:
        """Listener middleware: register the work before bolt runs it in the background."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._open.add(future)
        future.add_done_callback(self._open.discard)
        context["groupcast_job"] = future
        await next()

    @asynccontextmanager
    async def job(self, context: AsyncBoltContext) -> AsyncIterator[None]:
        """Marks the listener's work finished, however it ends."""
        try:
            yield
        except Exception:
            log.exception("Slack listener failed")
        finally:
            self.worked(context)
            future = context.get("groupcast_job")
            if isinstance(future, asyncio.Future) and not future.done():
                future.set_result(None)

    @staticmethod
    def worked(context: AsyncBoltContext) -> None:
        """The command's own work is done; a command intake waiting on it may go on."""
        future = context.get(WORKED)
        if isinstance(future, asyncio.Future) and not future.done():
            future.set_result(None)

    async def settle(self) -> None:
        """Wait until every listener and the background sends they started are done."""
        while True:
            while self._open:
                await asyncio.gather(*list(self._open))
            await self.engine.drain()
            if not self._open:
                return

    # -- translation helpers ----------------------------------------------------------

    def actor(self, team: str, user_id: str, fallback: str = "") -> Actor:
        """Who is acting, from the cached workspace table or the payload: never a call.

        Someone the table does not know yet is filled in behind the reply (`behind`).
        """
        known = self.people.known(team, user_id)
        if known is None:
            return Actor("slack", team, user_id, fallback, None)
        return Actor("slack", team, user_id, known.name, known.tz)

    def behind(self, team: str, user_ids: list[str]) -> None:
        """After the reply: fill in the profiles of these people, if the directory holds them."""
        if user_ids:
            self.engine.spawn(self.fill(team, list(dict.fromkeys(user_ids))))

    async def fill(self, team: str, user_ids: list[str]) -> int:
        """Names and time zones for contacts we hold: users.list once per workspace and TTL,
        users.info only for someone the listing missed. People a rejected command named
        are not contacts, so they cost nothing."""
        held = await self.engine.directory.held("slack", team, user_ids)
        profiles: dict[str, tuple[str, str | None]] = {}
        for uid in user_ids:
            if uid in held:
                got = await self.people.lookup(team, uid)
                if got is not None:
                    profiles[uid] = (got.name, got.tz)
        return await self.engine.directory.update_profiles("slack", team, profiles)

    async def user_changed(self, team: str, user: dict[str, Any]) -> None:
        """A profile changed: the cached table takes it, and so does a community member's contact."""
        got = self.people.changed(team, user)
        uid = str(user.get("id") or "")
        if got is not None and self.engine.notifier.key(team, uid) in self.engine.tracked:
            await self.engine.directory.update_profiles("slack", team, {uid: (got.name, got.tz)})

    def observe(self, team: str, user_id: str, signal: Signal) -> None:
        """A presence signal, only for people some community tracks (memory stays small)."""
        key = self.engine.tracked.canonical(self.engine.notifier.key(team, user_id))
        if key is not None:
            self.engine.observe(key, signal)

    async def reply(
        self,
        team: str,
        channel: str | None,
        user_id: str,
        message: Message,
        respond: AsyncRespond | None,
    ) -> None:
        """An answer for the caller alone: chat.postEphemeral, else the response_url."""
        if channel:
            try:
                await self.platform.ephemeral(team, channel, user_id, message)
                return
            except DeliveryFailed as exc:
                log.info("ephemeral reply failed (%s); using response_url", exc.reason)
        if respond is not None:
            for args in render.payloads(message):
                await respond(response_type="ephemeral", replace_original=False, **args)

    async def publish_home(self, team: str, user_id: str) -> None:
        actor = self.actor(team, user_id)
        view = await home_view(self.engine, actor)
        await self.platform.call("views.publish", user_id=user_id, view=view.to_dict())

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            resp = await self.platform.call("chat.getPermalink", channel=channel, message_ts=ts)
        except DeliveryFailed:
            return None
        link = resp.get("permalink")
        return str(link) if link else None
