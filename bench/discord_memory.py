"""Memory of the Discord bot in a 100,000-member guild of whom 500 are in communities.

The stand-in runs in a child process, so the figures are the bot's own: tracemalloc (Python
allocations since the bot was created) and RSS growth. `--naive` runs discord.py's defaults
(full member cache, chunking at start-up) for comparison.

    .venv/bin/python -m bench.discord_memory [--members 100000] [--tracked 500] [--naive]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import tempfile
import time
import tracemalloc
import warnings
from multiprocessing.connection import Connection
from typing import Any

GUILD = 800000000000000001
CHANNEL = 810000000000000001
BASE_USER = 830000000000000000


def rss_mb() -> float:
    """Resident set size of this process (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def standin_process(conn: Connection, members: int, online_share: float) -> None:
    """The fake Discord, driven by the parent over a pipe."""
    from tests.standins.discord_api import DiscordStandin

    async def main() -> None:
        async with DiscordStandin() as fake:
            people = [(BASE_USER + i, f"user{i}", ()) for i in range(members)]
            fake.add_guild(GUILD, "Huge", channels=[(CHANNEL, "general")], members=people)
            for i in range(int(members * online_share)):
                fake.set_presence(GUILD, BASE_USER + i, "online")
            conn.send((fake.token, fake.api_url, fake.gateway_url))
            loop = asyncio.get_running_loop()
            while True:
                cmd = await loop.run_in_executor(None, conn.recv)
                if cmd == "stop":
                    break
                rounds = int(cmd)
                statuses = ("idle", "online", "dnd", "offline")
                for r in range(rounds):
                    for i in range(members):
                        data = fake.presence_update(GUILD, BASE_USER + i, statuses[(i + r) % 4])
                        await fake.dispatch("PRESENCE_UPDATE", data)
                # sentinel: the last event the parent waits for
                await fake.dispatch(
                    "PRESENCE_UPDATE", fake.presence_update(GUILD, BASE_USER, "online")
                )
                conn.send(rounds * members)

    asyncio.run(main())


async def run(members: int, tracked: int, rounds: int, naive: bool) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
        import discord

    from bots.discord.bot import GroupcastBot
    from bots.discord.main import point_at
    from core.bootstrap import running
    from core.config import Settings
    from core.ports import Actor

    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=standin_process, args=(child, members, 0.1), daemon=True
    )
    proc.start()
    token, api, gateway = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
    tmp = tempfile.mkdtemp(prefix="gc-bench-")
    settings = Settings(
        discord_token=token,
        discord_api_url=api,
        discord_gateway_url=gateway,
        database_url=f"sqlite://{tmp}/bench.sqlite3",
    )
    point_at(settings)
    gc.collect()
    rss0 = rss_mb()
    tracemalloc.start()
    bot = GroupcastBot(settings, guild_ready_timeout=0.5)
    if naive:  # discord.py's defaults, for contrast
        bot._connection.member_cache_flags = discord.MemberCacheFlags.from_intents(bot.intents)
        bot._connection._chunk_guilds = True
    seen = 0
    sentinel = asyncio.Event()
    handler = bot.on_raw_presence_update

    async def counting(payload: discord.RawPresenceUpdateEvent) -> None:
        nonlocal seen
        seen += 1
        await handler(payload)
        if seen >= expected:
            sentinel.set()

    bot.on_raw_presence_update = counting  # type: ignore[method-assign]
    expected = 0
    result: dict[str, Any] = {}
    async with running(settings, bot.platform, tick_every=None) as engine:
        bot.attach(engine)
        owner = Actor("discord", str(GUILD), str(BASE_USER), "user0")
        await engine.command(owner, "community", "create big")
        ids = [BASE_USER + members - 1 - i for i in range(tracked - 1)]  # mostly offline people
        for i in range(0, len(ids), 50):
            mentions = " ".join(f"<@{u}>" for u in ids[i : i + 50])
            await engine.command(owner, "community", f"add big {mentions}")
        async with bot:
            runner = asyncio.create_task(bot.start(token))
            await asyncio.wait_for(bot.wait_until_ready(), 300)
            t0 = time.perf_counter()
            await bot.prime(GUILD)
            prime_s = time.perf_counter() - t0
            expected = rounds * members + 1
            t0 = time.perf_counter()
            parent.send(str(rounds))
            await asyncio.wait_for(sentinel.wait(), 900)
            flood_s = time.perf_counter() - t0
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            guild = bot.get_guild(GUILD)
            result = {
                "guild members": members,
                "community members (tracked)": len(engine.tracked),
                "mode": "naive (member cache + chunking)" if naive else "groupcast",
                "members cached by discord.py": len(guild.members) if guild else -1,
                "users cached by discord.py": len(bot.users),
                "presence records in the monitor": len(engine.monitor),
                "PRESENCE_UPDATEs handled": seen,
                "flood seconds": round(flood_s, 1),
                "prime seconds (op 8 for tracked)": round(prime_s, 2),
                "tracemalloc current MB": round(current / 2**20, 1),
                "tracemalloc peak MB": round(peak / 2**20, 1),
                "RSS growth MB": round(rss_mb() - rss0, 1),
            }
            await bot.close()
            await runner
    parent.send("stop")
    proc.join(30)
    tracemalloc.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--tracked", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1, help="presence updates per member")
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.members, args.tracked, args.rounds, args.naive))
    width = max(len(k) for k in result)
    for k, v in result.items():
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
