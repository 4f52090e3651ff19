"""`groupcast slack`: HTTP mode on PORT, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.app import SlackBot, build_app
from bots.slack.intake import CommandIntake
from bots.slack.pacing import PacedRetry, Pacer
from bots.slack.platform import SlackPlatform
from bots.slack.prober import Prober
from core.bootstrap import running
from core.clock import Clock, SystemClock
from core.config import Settings, require
from core.engine import Engine

log = logging.getLogger(__name__)


def make_pacer(settings: Settings) -> Pacer:
    """The workspace's posting budget, as the deployment configures it (SLACK_POST_RATE/BURST)."""
    return Pacer(rates={"chat.postMessage": (settings.slack_post_rate, settings.slack_post_burst)})


def make_client(token: str, settings: Settings, pacer: Pacer) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, connection retries, and 429/5xx through the pacer."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), PacedRetry(pacer)],
    )


def web_app(app: AsyncApp, intake: CommandIntake | None = None) -> web.Application:
    """POST /slack/events (events, commands, interactivity) and GET /healthz; with `intake`,
    slash commands are acknowledged at once and worked on behind a bounded queue."""

    async def events(request: web.Request) -> web.Response:
        if intake is not None:
            return await intake.handle(request)
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = web.Application()
    server.router.add_post("/slack/events", events)
    server.router.add_get("/healthz", healthz)
    return server


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
    platform.probe = prober.probe
    return prober


async def _probing(prober: Prober, every: float) -> None:
    while True:
        try:
            await prober.step()
        except Exception:
            log.exception("presence probe failed; will try again")
        await asyncio.sleep(every)


async def run_slack(settings: Settings) -> int:
    """Start the bot; returns when the server stops."""
    token = require(settings.slack_bot_token, "SLACK_BOT_TOKEN")
    secret = require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    pacer = make_pacer(settings)
    client = make_client(token, settings, pacer)
    platform = SlackPlatform(client, pacer)
    clock = SystemClock()
    async with running(settings, platform, clock) as engine:
        prober = wire(engine, platform, settings, clock, settings.slack_presence_calls_per_minute)
        bot = SlackBot(engine, platform)
        app = build_app(bot, client, secret)
        probing = asyncio.create_task(_probing(prober, settings.slack_probe_every))
        try:
            if settings.slack_app_token is not None:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                app_token = require(settings.slack_app_token, "SLACK_APP_TOKEN")
                log.info("Slack bot running in Socket Mode")
                await AsyncSocketModeHandler(app, app_token).start_async()  # type: ignore[no-untyped-call]
            else:
                worker = build_app(bot, client, secret, process_before_response=True)
                intake = CommandIntake(app, worker, secret)
                intake.start()
                runner = web.AppRunner(web_app(app, intake), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "0.0.0.0", settings.port).start()
                log.info("Slack bot listening on :%s (POST /slack/events)", settings.port)
                try:
                    await asyncio.Event().wait()
                finally:
                    await runner.cleanup()
                    await intake.stop()
        finally:
            probing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probing
    return 0
