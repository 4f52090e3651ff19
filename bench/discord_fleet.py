"""The Discord side of the scale bench: `groupcast discord` processes, each running its shard
range against the stand-in gateway, with their PostgreSQL and Redis traffic through taps
(`bench.wire`) and their CPU and memory read from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import IO, Any

from bench.wire import Tap, cpu_seconds, rss
from tests.faults.processes import ROOT, environment
from tests.standins.discord_api import OP_REQUEST_GUILD_MEMBERS, DiscordStandin

SHARDS = 4
PROCESSES = ("0-1", "2-3")  # DISCORD_SHARD_IDS of each process
POLL = 0.05
STOP_DEADLINE = 10.0


@dataclass
class Bot:
    """One `groupcast discord` process and its log."""

    proc: subprocess.Popen[bytes]
    log: IO[bytes]

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@dataclass
class Fleet:
    """The stand-in, the taps in front of PostgreSQL and Redis, and the bot processes."""

    discord: DiscordStandin
    pg: Tap
    redis: Tap
    bots: list[Bot] = field(default_factory=list)

    def start(self, database: str, redis: str) -> None:
        for ids in PROCESSES:
            env = environment(
                DATABASE_URL=database,
                REDIS_URL=redis,
                DISCORD_TOKEN=self.discord.token,
                DISCORD_API_URL=self.discord.api_url,
                DISCORD_GATEWAY_URL=self.discord.gateway_url,
                DISCORD_SHARD_COUNT=str(SHARDS),
                DISCORD_SHARD_IDS=ids,
                ASK_TIMEOUT_SECONDS="3600",  # no re-asks inside the run
                LOG_LEVEL="WARNING",
            )
            log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Bot.kill
            profile = os.environ.get("GROUPCAST_BENCH_PROFILE")  # a directory: cProfile each
            run = ["-m", "cProfile", "-o", f"{profile}/discord-{ids}.prof"] if profile else []
            proc = subprocess.Popen(
                [sys.executable, *run, "-m", "bots.cli", "discord"],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            self.bots.append(Bot(proc, log))

    def cpu(self) -> float:
        return sum(cpu_seconds(b.proc.pid) for b in self.bots)

    def rss(self) -> int:
        return sum(rss(b.proc.pid) for b in self.bots)

    async def stop(self) -> None:
        """SIGTERM, as a deploy would; the processes drain through our loop (the stand-in, the
        taps), so it keeps running while they do."""
        for bot in self.bots:
            if bot.proc.poll() is None:
                bot.proc.terminate()
        for _ in range(int(STOP_DEADLINE / POLL)):
            if all(b.proc.poll() is not None for b in self.bots):
                break
            await asyncio.sleep(POLL)
        for bot in self.bots:
            bot.kill()

    async def until(self, check: Callable[[], bool], what: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not check():
            dead = [b for b in self.bots if b.proc.poll() is not None]
            if dead:
                raise RuntimeError(
                    f"a discord process exited while waiting for {what}:\n{dead[0].tail()}"
                )
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(POLL)
        return True

    def connected(self) -> bool:
        sessions = self.discord.sessions.values()
        return (
            len(self.discord.identifies) >= SHARDS
            and sum(s.conn is not None for s in sessions) >= SHARDS
        )

    def primed(self) -> int:
        """Guilds asked about over op 8 so far."""
        return len(self.op8())

    def available(self) -> bool:
        """Every shard has started priming: its guilds are available."""
        return len({(int(p["d"]["guild_id"]) >> 22) % SHARDS for p in self.op8()}) == SHARDS

    def op8(self) -> list[dict[str, Any]]:
        received = self.discord.gateway_received
        return [p for p in received if p.get("op") == OP_REQUEST_GUILD_MEMBERS]


@contextlib.asynccontextmanager
async def stopping(fleet: Fleet) -> AsyncIterator[Fleet]:
    """The processes stopped and the taps closed, however the size ends."""
    try:
        yield fleet
    finally:
        await fleet.stop()
        await fleet.pg.close()
        await fleet.redis.close()
