"""`groupcast slack`: HTTP mode on PORT, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.api import app as api
from bots.health import Health, serve
from bots.slack.app import build_app
from bots.slack.bot import SlackBot
from bots.slack.intake import CommandIntake
from bots.slack.oauth import add_install_routes, distribution
from bots.slack.pacing import ConnectionRetry, PacedRetry, Pacer
from bots.slack.platform import SlackPlatform
from bots.slack.prober import Prober
from core.bootstrap import running
from core.clock import Clock, SystemClock
from core.config import Settings, require
from core.engine import Engine
from core.inbound import inbound_events

log = logging.getLogger(__name__)


def make_pacer(settings: Settings) -> Pacer:
    """The workspace's budgets as the deployment configures them: posting (SLACK_POST_RATE/BURST)
    and presence probes (SLACK_PRESENCE_CALLS_PER_MINUTE, a minute's worth at once)."""
    probes = settings.slack_presence_calls_per_minute
    return Pacer(
        rates={
            "chat.postMessage": (settings.slack_post_rate, settings.slack_post_burst),
            "users.getPresence": (probes / 60, max(1.0, probes)),
        }
    )


CLIENT_TIMEOUT = 30.0
"""Seconds a Web API call may take before it counts as failed (ambiguously, for posts)."""


def make_client(
    token: str | None,
    settings: Settings,
    pacer: Pacer,
    *,
    timeout: float = CLIENT_TIMEOUT,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, connection retries, and 429/5xx through the pacer.

    Posting is never repeated on a 5xx or a broken connection (it may have been stored);
    SlackPlatform looks for the message instead. With `session`, calls reuse its connections
    (and its timeout applies); without, slack_sdk opens a new connection for every call.
    """
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,  # type: ignore[arg-type]  # slack_sdk annotates int, uses aiohttp's float
        retry_handlers=[ConnectionRetry(), PacedRetry(pacer)],
        session=session,
    )


def web_app(
    app: AsyncApp,
    engine: Engine | None = None,
    health: Health | None = None,
    intake: CommandIntake | None = None,
) -> web.Application:
    """POST /slack/events (events, commands, interactivity), /healthz (+ /readyz, /metrics),
    /api/v1; with `intake`, slash commands are acknowledged at once and worked on behind a
    bounded queue."""

    async def events(request: web.Request) -> web.Response:
        if intake is not None:
            return await intake.handle(request)
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = web.Application()
    server.router.add_post("/slack/events", events)
    if health is None:
        server.router.add_get("/healthz", healthz)
    else:
        health.routes(server)
    if engine is not None:
        api.add_routes(server, engine)
    add_install_routes(server, app)  # OAuth installs only: GET /slack/install, /oauth_redirect
    return server


async def auth_problem(client: AsyncWebClient, settings: Settings) -> str | None:
    """auth.test at start: a rejected token or an unreachable Slack in one line, else None."""
    try:
        await client.auth_test()
    except SlackApiError as exc:
        return (
            f"SLACK_BOT_TOKEN was rejected by Slack ({exc.response.get('error')}): "
            "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions again"
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return f"cannot reach Slack at {settings.slack_api_url} ({exc}); check the network or SLACK_API_URL"
    return None


def wire(
    engine: Engine, platform: SlackPlatform, settings: Settings, clock: Clock, per_minute: float
) -> Prober:
    """Hook the prober into the platform now that the engine exists."""
    prober = Prober(
        platform,
        clock,
        lambda: engine.tracked,
        engine.observe,
        ttl=settings.presence_stale_seconds,
        per_minute=per_minute,
    )
    platform.checker = prober.check
    return prober


async def _probing(prober: Prober, every: float) -> None:
    while True:
        try:
            await prober.step()
        except Exception:
            log.exception("presence probe failed; will try again")
        await asyncio.sleep(every)


def _route(
    token: str, settings: Settings, session: aiohttp.ClientSession
) -> tuple[AsyncWebClient, Pacer]:
    """An installed workspace's own client and posting budget."""
    pacer = make_pacer(settings)
    return make_client(token, settings, pacer, session=session), pacer


async def run_slack(settings: Settings) -> int:
    """Start the bot; returns when the server stops."""
    # One connection pool for every Web API call: without it slack_sdk opens (and, against
    # slack.com, TLS-handshakes) a new connection for each call, a DM's first DM included.
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        return await _serve(settings, session)


async def _serve(settings: Settings, session: aiohttp.ClientSession) -> int:
    oauth = distribution(settings, lambda tok: _route(tok, settings, session))  # None: one token
    token = None if oauth else require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    secret = require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    pacer = make_pacer(settings)
    client = make_client(token, settings, pacer, session=session)
    platform = SlackPlatform(client, pacer)
    # One token is checked now; OAuth installs bring their own tokens, checked as they arrive.
    if oauth is None and (problem := await auth_problem(client, settings)):
        print(f"groupcast: {problem}", file=sys.stderr, flush=True)
        return 2
    clock = SystemClock()
    async with running(settings, platform, clock) as engine:
        health = Health(engine, settings.database_url)  # auth.test passed above
        health.instrument()
        prober = wire(engine, platform, settings, clock, settings.slack_presence_calls_per_minute)
        events = inbound_events(settings, clock)  # event ids, shared by every slack process
        bot = SlackBot(engine, platform, events=events)
        app = build_app(bot, client, secret, **(oauth.bolt if oauth else {}))
        if oauth is not None:
            oauth.attach(app, platform, prober, engine.retention)
        probing = asyncio.create_task(_probing(prober, settings.slack_probe_every))
        try:
            if settings.slack_app_token is not None:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                app_token = require(settings.slack_app_token, "SLACK_APP_TOKEN")
                log.info("Slack bot running in Socket Mode")
                side = await serve(health, settings.health_port)
                try:
                    await AsyncSocketModeHandler(app, app_token).start_async()  # type: ignore[no-untyped-call]
                finally:
                    await side.cleanup()
            else:
                # Slash commands are acked at once and worked on behind a queue; with OAuth
                # installs each is worked on with its own workspace's token (bots.slack.intake).
                worker = build_app(
                    bot,
                    client,
                    secret,
                    process_before_response=True,
                    **(oauth.bolt if oauth else {}),
                )
                installed = oauth.workspaces.serves if oauth is not None else None
                intake = CommandIntake(app, worker, secret, installed=installed)
                intake.start()
                runner = web.AppRunner(web_app(app, engine, health, intake), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "0.0.0.0", settings.port).start()
                log.info("Slack bot listening on :%s (POST /slack/events, /api/v1)", settings.port)
                try:
                    await asyncio.Event().wait()
                finally:
                    await runner.cleanup()
                    await intake.stop()
        finally:
            probing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probing
            await events.close()
    return 0
