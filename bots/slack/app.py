"""Bolt listeners: Slack requests in, engine calls, Slack replies out. No business rules here."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import render
from bots.slack.home import HOME_ACTIONS, JOIN_ACTION, home_view
from bots.slack.platform import SlackPlatform
from bots.slack.prober import dnd_signal
from core.engine import Engine
from core.ports import Actor, DeliveryFailed, Message, Place
from core.presence.signals import Activity, Huddle, Signal, Status

log = logging.getLogger(__name__)

COMMANDS = ("ask-available", "community", "available", "away", "busy", "hours")
USER_REF_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
Next = Callable[[], Awaitable[None]]


class SlackBot:
    """What the listeners share: the engine, the platform, a dedupe window and in-flight work."""

    def __init__(
        self, engine: Engine, platform: SlackPlatform, *, dedupe_size: int = 10_000
    ) -> None:
        self.engine = engine
        self.platform = platform
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._dedupe_size = dedupe_size
        self._profiles: OrderedDict[tuple[str, str], tuple[str, str | None]] = OrderedDict()
        self._open: set[asyncio.Future[None]] = set()
        platform.publish_home = self.publish_home
        platform.viewers = engine.notifier.viewers

    # -- bookkeeping ------------------------------------------------------------------

    def first_time(self, team: str, event_id: str) -> bool:
        """True once per event id (a bounded window), so Slack's retries do nothing twice."""
        key = (team, event_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self._dedupe_size:
            self._seen.popitem(last=False)
        return True

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
            future = context.get("groupcast_job")
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

    async def profile(self, team: str, user_id: str, fallback: str = "") -> tuple[str, str | None]:
        """Display name and time zone from users.info, cached; the payload's name if that fails."""
        key = (team, user_id)
        if key in self._profiles:
            return self._profiles[key]
        name, tz = fallback or user_id, None
        try:
            resp = await self.platform.call("users.info", user=user_id)
            user = resp.get("user") or {}
            prof = user.get("profile") or {}
            name = prof.get("display_name") or user.get("real_name") or user.get("name") or name
            tz = user.get("tz") or None
            self._profiles[key] = (str(name), tz)
            while len(self._profiles) > 10_000:
                self._profiles.popitem(last=False)
        except DeliveryFailed as exc:
            log.info("users.info %s: %s", user_id, exc.reason)
        return str(name), tz

    async def actor(self, team: str, user_id: str, fallback: str = "") -> Actor:
        name, tz = await self.profile(team, user_id, fallback)
        return Actor("slack", team, user_id, name, tz)

    async def introduce(self, team: str, text: str) -> None:
        """People named as `<@U…>` get their Slack display name in the directory."""
        for uid in dict.fromkeys(USER_REF_RE.findall(text)):
            await self.engine.directory.who(await self.actor(team, uid))

    def observe(self, team: str, user_id: str, signal: Signal) -> None:
        """A presence signal, only for people some community tracks (memory stays small)."""
        key = self.engine.notifier.key(team, user_id)
        if key in self.engine.tracked:
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
        actor = await self.actor(team, user_id)
        view = await home_view(self.engine, actor)
        await self.platform.call("views.publish", user_id=user_id, view=view.to_dict())

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            resp = await self.platform.call("chat.getPermalink", channel=channel, message_ts=ts)
        except DeliveryFailed:
            return None
        link = resp.get("permalink")
        return str(link) if link else None


def build_app(
    bot: SlackBot,
    client: AsyncWebClient,
    signing_secret: str,
    *,
    process_before_response: bool = False,
) -> AsyncApp:
    """The bolt app with every listener registered; transports (HTTP, Socket Mode) wrap it."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,  # True for the command workers
    )
    engine = bot.engine
    track = [bot.track]

    @app.middleware
    async def once(body: dict[str, Any], next: Next) -> BoltResponse | None:
        """Events API retries and duplicate event ids are acknowledged and dropped."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not bot.first_time(str(body.get("team_id", "")), str(event_id)):
            return BoltResponse(status=200, body="")
        await next()
        return None

    def command(name: str) -> None:
        async def on_command(
            ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
        ) -> None:
            async with bot.job(context):
                await ack()
                team, user, channel = (
                    command["team_id"],
                    command["user_id"],
                    command.get("channel_id"),
                )
                actor = await bot.actor(team, user, command.get("user_name", ""))
                text = render.decode(command.get("text", ""))
                await bot.introduce(team, text)
                answer = await engine.command(actor, name, text, Place(channel, None, None))
                await bot.reply(team, channel, user, answer, respond)
                if user in bot.platform.recent_home_viewers(team):
                    await bot.publish_home(team, user)

        app.command(f"/{name}", middleware=track)(on_command)

    for name in COMMANDS:
        command(name)

    @app.event("message", middleware=track)
    async def on_message(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with bot.job(context):
            team = str(body.get("team_id", ""))
            user = event.get("user")
            if event.get("subtype") or event.get("bot_id") or not isinstance(user, str):
                return  # edits, joins, bot posts: not people talking
            if event.get("user_team", team) != team:
                return  # a Slack Connect guest belongs to another tenant
            text = str(event.get("text", ""))
            neutral = render.decode(text)
            if not engine.addresses_group(neutral):
                bot.observe(team, user, Activity("message"))
                return
            channel, ts = str(event["channel"]), str(event["ts"])
            thread = str(event.get("thread_ts") or ts)
            actor = await bot.actor(team, user)
            place = Place(channel, thread, await bot.permalink(channel, ts))
            answer = await engine.message(actor, neutral, place)  # groups are tokens in it
            if answer is not None:
                await bot.platform.post(team, channel, answer, thread)

    @app.event("reaction_added", middleware=track)
    async def on_reaction(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with bot.job(context):
            bot.observe(
                str(body.get("team_id", "")), str(event.get("user", "")), Activity("reaction")
            )

    @app.event("app_home_opened", middleware=track)
    async def on_home(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with bot.job(context):
            team, user = str(body.get("team_id", "")), str(event.get("user", ""))
            bot.observe(team, user, Activity("home"))
            if event.get("tab", "home") == "home":
                bot.platform.saw_home(team, user)
                await bot.publish_home(team, user)

    @app.event("dnd_updated_user", middleware=track)
    async def on_dnd(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with bot.job(context):
            status = event.get("dnd_status") or {}
            bot.observe(
                str(body.get("team_id", "")), str(event.get("user", "")), dnd_signal(status)
            )

    async def on_user(
        event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with bot.job(context):
            user = event.get("user") or {}
            profile = user.get("profile") or {}
            team = str(body.get("team_id", ""))
            if event.get("type") == "user_huddle_changed":
                signal: Signal = Huddle(profile.get("huddle_state") == "in_a_huddle")
            else:
                expiry = profile.get("status_expiration") or 0
                signal = Status(
                    str(profile.get("status_text") or ""),
                    str(profile.get("status_emoji") or ""),
                    float(expiry) if expiry else None,
                )
            bot.observe(team, str(user.get("id", "")), signal)

    for kind in ("user_change", "user_status_changed", "user_huddle_changed"):
        app.event(kind, middleware=track)(on_user)

    async def presser(body: dict[str, Any]) -> tuple[str, Actor]:
        """Who pressed a button, in which workspace: the one reading of an interactivity payload."""
        team = str((body.get("team") or {}).get("id", ""))
        user = body.get("user") or {}
        return team, await bot.actor(team, str(user.get("id", "")), str(user.get("name", "")))

    async def on_answer(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        async with bot.job(context):
            await ack()
            team, actor = await presser(body)
            accept = action.get("action_id") == "groupcast_accept"
            answer = await engine.answer(actor, str(action.get("value", "")), accept)
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
                "channel_id"
            )
            await bot.reply(team, channel, actor.user_id, answer, respond)

    app.action("groupcast_accept", middleware=track)(on_answer)
    app.action("groupcast_decline", middleware=track)(on_answer)

    async def on_button_command(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        async with bot.job(context):
            await ack()
            team, actor = await presser(body)
            action_id, value = str(action.get("action_id")), str(action.get("value", ""))
            if action_id == "groupcast_subscribe_once":
                name, text = "community", f"subscribe {value} --once"
            elif action_id == JOIN_ACTION:
                name, text = "community", f"join {value}"
            else:
                name, text = HOME_ACTIONS[action_id]
            answer = await engine.command(actor, name, text, Place())
            if (body.get("container") or {}).get("type") == "view":
                await bot.publish_home(team, actor.user_id)
            else:
                channel = (body.get("channel") or {}).get("id")
                await bot.reply(team, channel, actor.user_id, answer, respond)

    for action_id in ("groupcast_subscribe_once", JOIN_ACTION, *HOME_ACTIONS):
        app.action(action_id, middleware=track)(on_button_command)

    return app
