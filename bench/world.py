"""The deployed Slack shape for the benchmarks: the stand-in in its own process, the real bolt
app, SlackPlatform and a running engine over a SQLite file, wired like `run_slack` wires it,
optionally served over HTTP with the command intake in front."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bench.outside import RemoteSlack
from bots.slack.app import build_app
from bots.slack.bot import SlackBot
from bots.slack.intake import CommandIntake
from bots.slack.main import CLIENT_TIMEOUT, make_client, make_pacer, web_app, wire
from bots.slack.platform import SlackPlatform
from bots.slack.prober import Prober
from core.bootstrap import running
from core.clock import SystemClock
from core.config import load_settings
from core.engine import Engine
from core.store.models import Community, Contact, Membership, Role, Tenant
from tests.standins import slack_payloads as sp

SECRET = "groupcast-bench-signing-secret"
CHANNEL = "C0000GENRL"
OWNER = "U0000OWNER"
HANDLE = "bench"


@dataclass
class SlackWorld:
    """Stand-in, bolt app, bot, platform, prober and a running engine."""

    slack: RemoteSlack
    app: AsyncApp
    bot: SlackBot
    engine: Engine
    platform: SlackPlatform
    prober: Prober

    async def dispatch(self, body: bytes) -> int:
        """One signed request through bolt, as the HTTP handler would pass it on."""
        headers = sp.signed_headers(body, SECRET)
        resp = await self.app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        return resp.status


def member_id(i: int) -> str:
    """A Slack-shaped user id for the i-th seeded member."""
    return f"U{i:09d}"


@asynccontextmanager
async def slack_world(
    db_dir: Path, *, members: int, settle: bool = True, **settings: Any
) -> AsyncIterator[SlackWorld]:
    """Stand-in + real adapter + engine over a SQLite file, with `members` in @bench."""
    async with RemoteSlack() as slack, contextlib.AsyncExitStack() as stack:
        users = [(OWNER, "owner")] + [(member_id(i), f"member{i}") for i in range(1, members + 1)]
        await slack.do("add_users", users)
        await slack.do("add_channel", CHANNEL, "general")
        config = load_settings(
            **settings,
            database_url=f"sqlite://{db_dir / 'bench.sqlite3'}",
            slack_api_url=slack.url,
            random_seed=7,
            ask_timeout_seconds=3_600,
        )
        pacer = make_pacer(config)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT))
        stack.push_async_callback(session.close)
        client = make_client("xoxb-bench", config, pacer, session=session)
        platform = SlackPlatform(client, pacer)
        async with running(config, platform, SystemClock()) as engine:
            prober = wire(
                engine, platform, config, engine.clock, config.slack_presence_calls_per_minute
            )
            bot = SlackBot(engine, platform)
            world = SlackWorld(slack, build_app(bot, client, SECRET), bot, engine, platform, prober)
            await seed(world, members)
            yield world
            if settle:  # the ack benchmark leaves paced replies unsent on purpose
                await bot.settle()


async def seed(world: SlackWorld, members: int) -> None:
    """The owner creates @bench by slash command; members are inserted in bulk."""
    body = sp.slash_command("/community", f"create {HANDLE} Bench", user_id=OWNER)
    assert await world.dispatch(body) == 200
    while world.bot._open:  # the command and its reply, not the profile fill behind them
        await asyncio.gather(*list(world.bot._open))
    await abandon(world)  # users.list for the whole workspace, paced at Tier 2: seconds
    community = await Community.get(handle=HANDLE)
    tenant = await Tenant.get(id=community.tenant_id)
    contacts = [
        Contact(tenant=tenant, user_id=member_id(i), display_name=f"member{i}", tz="UTC")
        for i in range(1, members + 1)
    ]
    await Contact.bulk_create(contacts, batch_size=1_000)
    ids = await Contact.filter(tenant=tenant, user_id__not=OWNER).values_list("id", flat=True)
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        Membership(community=community, contact_id=cid, role=Role.MEMBER, joined_at=joined)
        for cid in ids
    ]
    await Membership.bulk_create(rows, batch_size=1_000)
    await world.slack.do("clear")


async def abandon(world: SlackWorld) -> None:
    """Drop the background work left (replies still pacing): it is not being measured, and
    waiting for it would only lengthen the run."""
    left = list(world.engine.tasks._running)
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)


@asynccontextmanager
async def served(world: SlackWorld) -> AsyncIterator[tuple[int, CommandIntake]]:
    """`web_app` with the command intake on 127.0.0.1, as `run_slack` serves HTTP mode."""
    worker = build_app(world.bot, world.platform.client, SECRET, process_before_response=True)
    intake = CommandIntake(world.app, worker, SECRET)
    intake.start()
    runner = web.AppRunner(web_app(world.app, intake=intake), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield int(runner.addresses[0][1]), intake
    finally:
        await runner.cleanup()
        await intake.stop()
