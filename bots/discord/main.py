"""`groupcast discord`: check the token and portal switches, wire the core, connect."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Awaitable, Callable

import aiohttp
import yarl

from bots.discord.bot import GroupcastBot
from bots.discord.shards import make_bot
from bots.health import Health, serve
from core.bootstrap import running
from core.clock import Clock
from core.config import Settings, require
from core.engine import Engine

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

log = logging.getLogger(__name__)

PORTAL = "https://discord.com/developers/applications → your app → Bot → Privileged Gateway Intents"

Started = Callable[[GroupcastBot, Engine], Awaitable[None] | None]


def point_at(settings: Settings) -> None:
    """REST to DISCORD_API_URL and the gateway to DISCORD_GATEWAY_URL (a proxy or a stand-in).

    discord.py reads both class attributes at call time; they are process-wide.
    """
    Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def message_content_enabled(token: str) -> bool:
    """Whether the portal grants Message Content, so we never ask for what gets us closed (4014)."""
    probe = discord.Client(intents=discord.Intents(guilds=True))  # never connects
    async with probe:
        await probe.login(token)
        flags = probe.application_flags
    return bool(flags.gateway_message_content or flags.gateway_message_content_limited)


def switches(bot_intents: discord.Intents) -> str:
    """The portal switches these intents need, in the portal's words."""
    names = []
    if bot_intents.members:
        names.append("Server Members Intent")
    if bot_intents.presences:
        names.append("Presence Intent")
    if bot_intents.message_content:
        names.append("Message Content Intent")
    return ", ".join(names)


async def run_discord(
    settings: Settings,
    *,
    clock: Clock | None = None,
    started: Started | None = None,
    tick_every: float | None = 1.0,
    guild_ready_timeout: float = 2.0,
    serve_health: bool = True,
) -> int:
    """Run the bot until it is closed; 2 with one clear line when Discord refuses to start it."""
    token = require(settings.discord_token, "DISCORD_TOKEN")
    point_at(settings)
    try:
        content = await message_content_enabled(token)
    except discord.LoginFailure:
        return _fail("DISCORD_TOKEN was rejected by Discord (401): copy the bot token again")
    except (aiohttp.ClientError, OSError, TimeoutError, discord.HTTPException) as exc:
        return _fail(unreachable(settings, exc))
    if not content:
        log.warning(
            "Message Content Intent is off in the developer portal: @handle mentions in "
            "messages will not be seen; linked role mentions and commands still work"
        )
    bot = make_bot(settings, message_content=content, guild_ready_timeout=guild_ready_timeout)
    try:
        async with running(settings, bot.platform, clock, tick_every=tick_every) as engine:
            bot.attach(engine)
            health = Health(engine, settings.database_url, lambda: _gateway(bot))
            health.instrument()
            side = await serve(health, settings.health_port) if serve_health else None
            try:
                async with bot:
                    if started is not None:
                        result = started(bot, engine)
                        if result is not None:
                            await result
                    await bot.start(token)
            finally:
                if side is not None:
                    await side.cleanup()
    except discord.PrivilegedIntentsRequired:
        return _fail(
            "Discord closed the gateway (4014: disallowed intents). Turn on "
            f"{switches(bot.intents)} in {PORTAL}, then start again"
        )
    except discord.LoginFailure:
        return _fail("DISCORD_TOKEN was rejected by Discord (401): copy the bot token again")
    except (aiohttp.ClientError, discord.GatewayNotFound, discord.ConnectionClosed) as exc:
        return _fail(unreachable(settings, exc))
    return 0


def unreachable(settings: Settings, exc: BaseException) -> str:
    """The one line for a Discord that cannot be reached (network, DNS, an outage)."""
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"cannot reach Discord at {settings.discord_api_url} ({why}); check the network or DISCORD_API_URL"


def _gateway(bot: GroupcastBot) -> str | None:
    """Ready once the gateway said READY (and until it drops)."""
    return None if bot.is_ready() and not bot.is_closed() else "discord: gateway not READY"


def _fail(line: str) -> int:
    print(f"groupcast: {line}", file=sys.stderr, flush=True)
    return 2
