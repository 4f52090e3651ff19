"""The Procfile's deployment under test: a real `groupcast slack` and a real `groupcast discord`
process on one database + Redis, each pointed at its stand-in running in the test's event loop.

Reusable: `Deployment.start(name, **env)` / `await kill(name)` restart one process with extra
environment (a fault point, say), and `until` polls with a deadline while the stand-ins keep
serving. Nothing here sleeps for a fixed time: every wait is a deadline loop over the stand-ins'
state.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.faults.processes import Process, environment
from tests.standins import slack_payloads as sp
from tests.standins.discord_api import DiscordStandin
from tests.standins.slack_api import SlackStandin

SECRET = "deployment-signing-secret"
SLACK_TOKEN = "xoxb-deployment"
TEAM = sp.DEFAULT_TEAM_ID
GUILD = 760000000000000001
DISCORD_CHANNEL = 760000000000000002
POLL = 0.05  # seconds between looks at the stand-ins while a deadline runs
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Deployment:
    """The two stand-ins, the two processes, and how to talk to them as users would."""

    slack: SlackStandin
    discord: DiscordStandin
    cwd: Path
    base_env: dict[str, str]
    port: int
    http: aiohttp.ClientSession
    procs: dict[str, Process] = field(default_factory=dict)
    logs: dict[str, list[str]] = field(default_factory=dict)

    # -- processes ----------------------------------------------------------------------

    def env_for(self, name: str, **extra: str) -> dict[str, str]:
        env = dict(self.base_env)
        if name == "slack":
            env.update(
                SLACK_BOT_TOKEN=SLACK_TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=self.slack.url,
                PORT=str(self.port),
            )
        else:
            env.update(
                DISCORD_TOKEN=self.discord.token,
                DISCORD_API_URL=self.discord.api_url,
                DISCORD_GATEWAY_URL=self.discord.gateway_url,
            )
        env.update(extra)
        return environment(**env)

    async def start(self, name: str, **extra: str) -> Process:
        """Start (or restart) `groupcast <name>` and wait until it serves."""
        proc = Process([name], self.env_for(name, **extra), self.cwd)
        self.procs[name] = proc
        if name == "slack":
            await self.until(self._slack_up, "the slack process to serve /healthz", START_TIMEOUT)
        else:
            before = len(self.discord.identifies)
            await self.until(
                lambda: len(self.discord.identifies) > before and self._gateway_up(),
                "the discord process to connect to the gateway",
                START_TIMEOUT,
            )
        return proc

    async def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Stop one process (SIGKILL by default), keeping its log.

        The wait yields to the event loop: a process stopping gracefully still talks to the
        stand-ins (the gateway's close), which serve from this loop, so blocking here would
        hold its exit back until its own timeouts fire.
        """
        proc = self.procs.pop(name)
        proc.proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while proc.proc.poll() is None and time.monotonic() < deadline:
            proc.read_to_end(time.monotonic())  # drain stdout without blocking
            await asyncio.sleep(POLL)
        status = proc.proc.poll()
        self.logs.setdefault(name, []).append(proc.stderr())
        proc.close()
        assert status is not None, f"{name} did not exit within {timeout}s of signal {sig}"

    def stderr(self) -> str:
        """Both processes' logs (earlier runs too), for a failure message."""
        out = []
        for name in ("slack", "discord"):
            runs = [*self.logs.get(name, [])]
            if name in self.procs:
                runs.append(self.procs[name].stderr())
            out += [f"--- {name} ---", *(r[-4000:] for r in runs)]
        return "\n".join(out)

    async def _slack_up(self) -> bool:
        try:
            async with self.http.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False

    def _gateway_up(self) -> bool:
        return any(s.conn is not None for s in self.discord.sessions.values())

    async def until(self, check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
        """Poll `check` until truthy or the deadline; a dead process fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            got = check()
            if inspect.isawaitable(got):
                got = await got
            if got:
                return got
            dead = [n for n, p in self.procs.items() if p.proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else "deadline passed"
                raise AssertionError(f"waiting for {what}: {why}\n{self.stderr()}")
            await asyncio.sleep(POLL)

    # -- Slack, as its users -------------------------------------------------------------

    async def slack_post(self, body: bytes) -> int:
        ctype = sp.CONTENT_TYPE_JSON if body.startswith(b"{") else sp.CONTENT_TYPE_FORM
        headers = sp.signed_headers(body, SECRET, content_type=ctype)
        url = f"http://127.0.0.1:{self.port}/slack/events"
        async with self.http.post(url, data=body, headers=headers) as resp:
            return resp.status

    async def slack_command(self, user: str, command: str, text: str) -> int:
        return await self.slack_post(sp.slash_command(command, text, team_id=TEAM, user_id=user))

    async def slack_press(self, user: str, action_id: str, value: str, ref: str) -> int:
        channel, _, ts = ref.partition(":")
        return await self.slack_post(
            sp.block_actions(
                action_id, value, team_id=TEAM, user_id=user, channel_id=channel, message_ts=ts
            )
        )

    def slack_dms(self, user: str) -> list[tuple[str, dict[str, Any]]]:
        """(ref, message) the app holds in its DM with `user`, oldest first."""
        return sorted(
            (f"{ch}:{ts}", m)
            for (ch, ts), m in self.slack.messages.items()
            if self.slack.channels.get(ch) == user
        )

    # -- Discord, as its users -----------------------------------------------------------

    async def discord_command(
        self, user: int, name: str, options: dict[str, Any], sub: str | None = None
    ) -> None:
        payload = self.discord.interaction_command(GUILD, DISCORD_CHANNEL, user, name, options, sub)
        assert await self.discord.dispatch("INTERACTION_CREATE", payload) > 0

    async def discord_press(self, user: int, channel: int, message_id: int, custom_id: str) -> None:
        payload = self.discord.interaction_component(
            None, channel, user, custom_id, message_id=message_id
        )
        assert await self.discord.dispatch("INTERACTION_CREATE", payload) > 0

    def discord_dms(self, user: int) -> list[tuple[int, dict[str, Any]]]:
        """(channel, message) the bot holds in its DM with `user`, oldest first."""
        out = []
        for channel, recipient in self.discord.dm_channels.items():
            if recipient == user:
                for mid in sorted(self.discord.messages.get(channel, {})):
                    out.append((channel, self.discord.messages[channel][mid]))
        return out


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def slack_buttons(message: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in message.get("blocks") or []:
        for el in block.get("elements") or []:
            if el.get("type") == "button":
                out[el["action_id"]] = el.get("value", "")
    return out


@contextlib.asynccontextmanager
async def deployment(
    database_url: str, redis_url: str, cwd: Path, **env: str
) -> AsyncIterator[Deployment]:
    """Both stand-ins and both processes (Procfile: slack, discord), stopped on exit."""
    base = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, **env}
    async with (
        SlackStandin() as slack,
        DiscordStandin() as discord,
        aiohttp.ClientSession() as http,
    ):
        d = Deployment(slack, discord, cwd, base, free_port(), http)
        try:
            yield d
        finally:
            for name in list(d.procs):
                await d.kill(name, signal.SIGTERM)
