"""Bolt listeners: Slack requests in, engine calls, Slack replies out. No business rules here."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import render
from bots.slack.bot import USER_REF_RE, Next, SlackBot
from bots.slack.home import HOME_ACTIONS, JOIN_ACTION
from bots.slack.prober import dnd_signal
from core.commands import COMMANDS, Command, CommandError, JoinCommunity, Subscribe
from core.inbound import Claim
from core.ports import Actor, Message, Place
from core.presence.signals import Activity, Huddle, Signal, Status

log = logging.getLogger(__name__)


def build_app(
    bot: SlackBot,
    client: AsyncWebClient,
    signing_secret: str,
    *,
    process_before_response: bool = False,
    **bolt: Any,
) -> AsyncApp:
    """The bolt app with every listener registered; transports (HTTP, Socket Mode) wrap it.

    `bolt` carries AsyncApp's OAuth options when workspaces install by OAuth (bots.slack.oauth).
    """
    # Bolt's process_before_response is one switch for the whole app: on, every slash command
    # would hold its HTTP answer until its fan-out is done. The web app acks first, and the
    # events that create work run `persist_first` (a listener middleware, which bolt awaits
    # before it acks) instead; the command workers' app processes before it responds.
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,  # True for the command workers
        **bolt,
    )
    engine = bot.engine
    track = [bot.track]

    @app.middleware
    async def once(
        body: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        """An event id is taken on once by all processes, before and after restarts: a retry of
        one done is acked and dropped; one another process is working on is refused (non-200),
        so Slack tries again later and finds it done, or takes it over if that process died."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            team, event = str(body.get("team_id", "")), body.get("event") or {}
            work = bot.creates_work(team, event)
            claim = await bot.events.claim("slack", team, str(event_id), done=not work)
            if claim is Claim.SEEN:
                return BoltResponse(status=200, body="")
            if claim is Claim.BUSY:
                return BoltResponse(status=503, body="")
            if work:
                context["groupcast_event"] = (team, str(event_id))
        await next()
        return None

    async def persist_first(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        """The group request exists in the database before Slack gets its 200; if creating it
        fails, Slack gets a 500 and its retry (to any process) creates it."""
        claimed = context.get("groupcast_event")
        if not isinstance(claimed, tuple):
            await next()
            return None
        team, event_id = claimed
        try:
            context["groupcast_answer"] = await bot.group_request(team, event)
        except Exception:
            log.exception("group request failed before it was stored; Slack will retry")
            await bot.events.release("slack", team, event_id)
            return BoltResponse(status=500, body="")
        await bot.events.finish("slack", team, event_id)
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
                actor = bot.actor(team, user, command.get("user_name", ""))
                text = render.decode(command.get("text", ""))
                answer = await engine.command(actor, name, text, Place(channel, None, None))
                bot.worked(
                    context
                )  # the reply below waits its turn under chat.postEphemeral's limit
                await bot.reply(team, channel, user, answer, respond)
                named = USER_REF_RE.findall(text)
                bot.behind(team, named if actor.tz else [user, *named])
                if user in bot.platform.recent_home_viewers(team):
                    await bot.publish_home(team, user)

        app.command(f"/{name}", middleware=track)(on_command)

    for name in COMMANDS:
        command(name)

    @app.event("message", middleware=[persist_first, *track])
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
            if "groupcast_event" not in context:
                bot.observe(team, user, Activity("message"))
                return
            answer = context.get("groupcast_answer")
            if isinstance(answer, Message):
                channel, ts = str(event["channel"]), str(event["ts"])
                await bot.platform.post(team, channel, answer, str(event.get("thread_ts") or ts))

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
            if event.get("type") == "user_change":
                await bot.user_changed(team, user)
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
        return team, bot.actor(team, str(user.get("id", "")), str(user.get("name", "")))

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
            try:
                command: Command = (
                    Subscribe(value, once=True)
                    if action_id == "groupcast_subscribe_once"
                    else JoinCommunity(value)
                    if action_id == JOIN_ACTION
                    else HOME_ACTIONS[action_id]
                )
            except CommandError as exc:  # not a handle: a forged payload
                answer = exc.reply()
            else:
                answer = await engine.run(actor, command, Place())
            if (body.get("container") or {}).get("type") == "view":
                await bot.publish_home(team, actor.user_id)
            else:
                channel = (body.get("channel") or {}).get("id")
                await bot.reply(team, channel, actor.user_id, answer, respond)

    for action_id in ("groupcast_subscribe_once", JOIN_ACTION, *HOME_ACTIONS):
        app.action(action_id, middleware=track)(on_button_command)

    return app
