"""A real bolt app over SQLite and the Slack stand-in, driven by signed payloads and a manual clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bots.slack.app import build_app
from bots.slack.bot import SlackBot
from bots.slack.main import make_client, wire
from bots.slack.pacing import Pacer
from bots.slack.platform import SlackPlatform
from bots.slack.prober import Prober
from core.bootstrap import build_engine
from core.clock import ManualClock
from core.config import Settings, load_settings
from core.engine import Engine
from core.presence.store import MemoryPresenceStore
from core.store.db import close_db, open_db
from tests.standins import slack_payloads as sp
from tests.standins.slack_api import SlackStandin

SECRET = "groupcast-test-signing-secret"
TEAM = sp.DEFAULT_TEAM_ID
CHANNEL = "C0000GENRL"
ALICE, BOB, CAROL, DAVE = "U0000ALICE", "U00000BOB", "U0000CAROL", "U00000DAVE"
PEOPLE = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave"}
START = 1_767_600_000.0  # a Monday morning, UTC


class VirtualTime:
    """Monotonic time for the pacer and the stand-in's limiter; sleeping just moves it on."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        target = self.t + max(0.0, seconds)
        await asyncio.sleep(0)
        self.t = max(self.t, target)


@dataclass
class World:
    """Everything a scenario touches."""

    slack: SlackStandin
    app: AsyncApp
    bot: SlackBot
    engine: Engine
    platform: SlackPlatform
    prober: Prober
    clock: ManualClock
    vt: VirtualTime
    settings: Settings

    async def send(self, body: bytes, headers: dict[str, str] | None = None) -> BoltResponse:
        """Dispatch one signed request through bolt and wait for all the work it started."""
        content_type = sp.CONTENT_TYPE_JSON if body.startswith(b"{") else sp.CONTENT_TYPE_FORM
        hdrs = headers or sp.signed_headers(body, SECRET, content_type=content_type)
        resp = await self.app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=hdrs))
        await self.bot.settle()
        return resp

    async def command(self, user: str, command: str, text: str, team: str = TEAM) -> str:
        """A slash command; returns the ephemeral answer the caller saw."""
        before = len(self.slack.ephemeral)
        body = sp.slash_command(
            command, text, team_id=team, user_id=user, user_name=PEOPLE.get(user, user)
        )
        resp = await self.send(body)
        assert resp.status == 200
        answers = [e for e in self.slack.ephemeral[before:] if e["user"] == user]
        return "\n".join(str(e["text"]) for e in answers)

    async def event(self, event: dict[str, Any], team: str = TEAM) -> BoltResponse:
        return await self.send(sp.event_callback(event, team_id=team))

    async def press(
        self, user: str, action_id: str, value: str, ref: str, team: str = TEAM
    ) -> BoltResponse:
        channel, _, ts = ref.partition(":")
        body = sp.block_actions(
            action_id,
            value,
            team_id=team,
            user_id=user,
            channel_id=channel,
            message_ts=ts,
            user_name=PEOPLE.get(user, user),
        )
        return await self.send(body)

    def dms(self, user: str) -> list[tuple[str, dict[str, Any]]]:
        """(ref, message) of everything the bot posted in its DM with this person, oldest first."""
        return sorted(
            (f"{ch}:{ts}", m)
            for (ch, ts), m in self.slack.messages.items()
            if self.slack.channels.get(ch) == user
        )

    def channel_posts(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        return [m for (ch, _), m in sorted(self.slack.messages.items()) if ch == channel]

    def outbound_text(self) -> str:
        """Every text and block the bot sent anywhere, as one string to search."""
        return "\n".join(json.dumps(c.args) for c in self.slack.calls)

    async def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.engine.tick()
        await self.bot.settle()


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """action_id → value of the buttons in a posted message."""
    out: dict[str, str] = {}
    for block in message.get("blocks") or []:
        for el in block.get("elements") or []:
            if el.get("type") == "button":
                out[el["action_id"]] = el.get("value", "")
    return out


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """One fresh workspace and database per test; swap the DB lines for a shared fixture later."""
    vt = VirtualTime()
    async with SlackStandin(clock=vt.now) as slack:
        for uid, name in PEOPLE.items():
            slack.add_user(uid, name, tz="UTC")
        slack.add_channel(CHANNEL, "general")
        settings = load_settings(
            database_url=f"sqlite://{tmp_path / 'slack.sqlite3'}",
            slack_api_url=slack.url,
            random_seed=7,
            ask_timeout_seconds=300,
        )
        await open_db(settings.database_url)
        try:
            clock = ManualClock(START)
            pacer = Pacer(monotonic=vt.now, sleep=vt.sleep)
            client = make_client("xoxb-standin", settings, pacer)
            platform = SlackPlatform(client, pacer)
            engine = build_engine(settings, platform, clock, MemoryPresenceStore())
            await engine.start()
            prober = wire(engine, platform, settings, clock, 50.0)
            bot = SlackBot(engine, platform)
            app = build_app(bot, client, SECRET)
            yield World(slack, app, bot, engine, platform, prober, clock, vt, settings)
            await bot.settle()
        finally:
            await close_db()
