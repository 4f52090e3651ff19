"""Many Discord guilds over 2 processes x 2 shards (issue 14): real `groupcast discord` processes
(discord.py's AutoShardedClient, DISCORD_SHARD_COUNT=4, DISCORD_SHARD_IDS 0-1 and 2-3) on one
PostgreSQL + Redis, against the Discord stand-in gateway, which sends each guild's events only
to the shard IDENTIFY named for it.

Each size seeds G guilds x 20 members in one community, starts both processes, waits until
every shard has its guilds (priming them over op 8 goes on beside the run, paced under the
gateway's send limit, as after any restart), then sends presence updates and `/ask-available`
interactions at a set rate. It reports throughput, p99 time to the interaction's
acknowledgement, p99 ask → first DM, the bots' CPU per 1,000 events, SQL statements and Redis
commands per ask (counted at the wire, `bench.wire`) and RSS per guild.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bench.common import Row
from bench.discord_fleet import POLL, SHARDS, Fleet, stopping
from bench.seeding import reset_database, seed_communities
from bench.wire import Tap
from core.store.db import close_db, open_db
from tests.standins.discord_api import DiscordStandin

MEMBERS = 20  # per guild, all in one community
EVENTS_PER_SECOND = 1000.0  # presence updates and asks together, as sent
ASKS_PER_SECOND = 2.0
CHANGES = 0.1  # share of presence updates that change the status; the rest repeat it (activity)
RUN_SECONDS = 10.0
QUIET_ASKS = 12  # asks in a quiet moment, for statements and commands per ask
QUIET_SPACING = 0.3  # seconds between them
DEBUG = bool(os.environ.get("GROUPCAST_BENCH_DEBUG"))  # print one quiet ask's statements
GUILD_BASE = 3_000_000
STATES = ("online",) * 7 + ("idle", "dnd", "offline")  # mostly available, as by day
DM_PATH = re.compile(r"/channels/(\d+)/messages$")


def guild_id(i: int) -> int:
    """Snowflakes whose shard ((id >> 22) % 4) goes round the four shards."""
    return ((GUILD_BASE + i) << 22) | 1


def user_id(guild: int, member: int) -> int:
    return 700_000_000_000_000_000 + guild * 100 + member


def say(line: str) -> None:
    print(f"  scale/discord: {line}", flush=True)


def p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else float("nan")


@dataclass
class Ask:
    tag: str
    guild: int
    interaction: int
    token: str
    sent: float
    acked: float | None = None
    replied: float | None = None
    dm: float | None = None


def ask(discord: DiscordStandin, guild: int, tag: str) -> tuple[Ask, dict[str, Any]]:
    payload = discord.interaction_command(
        guild,
        guild + 1,
        user_id(guild, 0),
        "ask-available",
        {"community": "ops", "message": tag, "mode": "one"},
    )
    made = Ask(tag, guild, int(payload["id"]), str(payload["token"]), time.monotonic())
    return made, payload


def settle_asks(discord: DiscordStandin, asks: list[Ask]) -> None:
    """Acknowledgement and first-DM times from the stand-in's record of REST calls."""
    by_id = {a.interaction: a for a in asks}
    by_token = {a.token: a for a in asks}
    by_tag = {a.tag: a for a in asks}
    for call in discord.calls:
        if call.method != "POST":
            continue
        if call.path.endswith("/callback") and call.path.startswith("/interactions/"):
            got = by_id.get(int(call.path.split("/")[2]))
            if got is not None and got.acked is None:
                got.acked = call.at
        elif call.path.startswith("/webhooks/"):  # a followup: the answer to the asker
            got = by_token.get(call.path.split("/")[3])
            if got is not None and got.replied is None:
                got.replied = call.at
        elif (m := DM_PATH.search(call.path)) and int(m.group(1)) in discord.dm_channels:
            content = str((call.json or {}).get("content", ""))
            for tag in re.findall(r"bench-ask-\d+", content):
                got = by_tag.get(tag)
                if got is not None and got.dm is None:
                    got.dm = call.at


async def one_size(guilds: int, database: str, redis_url: str, baseline_rss: int) -> list[Row]:
    t0 = time.monotonic()
    ids = [guild_id(i) for i in range(guilds)]
    people = {str(g): [str(user_id(g, m)) for m in range(MEMBERS)] for g in ids}
    await seed_communities("discord", people)
    say(f"{guilds} guilds seeded in {time.monotonic() - t0:.1f} s")
    rng = random.Random(14)
    async with DiscordStandin(rate_limit=1_000_000) as discord:
        for g in ids:
            members = [(user_id(g, m), f"m{m}", []) for m in range(MEMBERS)]
            discord.add_guild(g, f"G{g}", channels=[(g + 1, "general")], members=members)
            for m in range(MEMBERS):  # what op 8 answers until the run says otherwise
                discord.set_presence(g, user_id(g, m), "online")
        fleet = Fleet(
            discord, await Tap.postgres(database).start(), await Tap.redis(redis_url).start()
        )
        started = time.monotonic()
        async with stopping(fleet):
            fleet.start(fleet.pg.proxied, fleet.redis.proxied)
            await fleet.until(fleet.connected, "4 shards to identify", 60)
            # A shard has its guilds once it starts priming them; the rest of the priming
            # (op 8, paced) goes on beside the run, as after any restart.
            await fleet.until(fleet.available, "guilds available on every shard", 60)
            ready = time.monotonic() - started
            await fleet.until(lambda: False, "a quiet moment", 1.0)
            say(f"{guilds} guilds: up in {ready:.1f} s; {fleet.primed()}/{guilds} primed so far")
            return await drive(fleet, ids, rng, guilds, ready, baseline_rss)


async def drive(
    fleet: Fleet,
    ids: list[int],
    rng: random.Random,
    guilds: int,
    ready: float,
    baseline_rss: int,
) -> list[Row]:
    discord = fleet.discord
    total = int(EVENTS_PER_SECOND * RUN_SECONDS)
    ask_every = max(1, int(EVENTS_PER_SECOND / ASKS_PER_SECOND))
    asks: list[Ask] = []
    status: dict[int, str] = {}
    changes = 0
    primed_at_start = fleet.primed()
    cpu0, sql0 = fleet.cpu(), fleet.pg.count
    start = time.monotonic()
    for i in range(total):
        due = start + i / EVENTS_PER_SECOND
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        g = ids[rng.randrange(len(ids))]
        if i % ask_every == 0:
            a, payload = ask(discord, g, f"bench-ask-{len(asks)}")
            asks.append(a)
            await discord.dispatch("INTERACTION_CREATE", payload)
            continue
        uid = user_id(g, rng.randrange(MEMBERS))
        now = status.get(uid, "online")
        if rng.random() < CHANGES:
            now = status[uid] = rng.choice([s for s in STATES if s != now])
            changes += 1
        await discord.dispatch("PRESENCE_UPDATE", discord.presence_update(g, uid, now))
    sent = time.monotonic() - start
    markers = []  # one ask on each shard: acked once that shard has handled all before it
    for shard in range(SHARDS):
        g = next(g for g in ids if (g >> 22) % SHARDS == shard)
        a, payload = ask(discord, g, f"bench-ask-{len(asks) + len(markers)}")
        markers.append(a)
        await discord.dispatch("INTERACTION_CREATE", payload)
    everything = asks + markers

    def answered() -> bool:
        settle_asks(discord, everything)
        return all(a.acked is not None and a.replied is not None for a in everything)

    await fleet.until(answered, "every ask acknowledged and answered", 60)
    say(f"{guilds} guilds: run done, all answered {time.monotonic() - start:.1f} s after it began")
    handled = max((a.acked or 0.0) for a in markers) - start
    cpu = fleet.cpu() - cpu0
    memory = fleet.rss()
    statements = fleet.pg.count - sql0
    # In guilds asked already (their members' presence learnt, their ids cached): the steady
    # cost of an ask, not the first one's look-ups.
    sql, resets, cmds = await quiet_asks(fleet, [a.guild for a in asks], len(everything))
    settle_asks(discord, everything)  # DMs sent after the answer
    acks = [a.acked - a.sent for a in everything if a.acked is not None]
    dms = [a.dm - a.sent for a in everything if a.dm is not None]
    label = f"{guilds} guilds × {MEMBERS}, 2 processes × 2 shards"
    note = (
        f"{total} events sent in {sent:.1f} s (target {EVENTS_PER_SECOND:.0f}/s, "
        f"{CHANGES:.0%} of presence updates a change of status, {ASKS_PER_SECOND:.0f} asks/s); "
        f"processes up with their guilds in {ready:.1f} s, {primed_at_start}/{guilds} guilds "
        f"primed (op 8) when the run started; {statements} SQL statements until the last ask "
        f"was answered ({statements / max(1, changes):.2f} per change of status)"
    )
    return [
        Row(f"Scale: throughput ({label})", f"{total / handled:.0f} events/s", note=note),
        Row(f"Scale: p99 ack ({label})", f"{p99(acks) * 1000:.1f} ms"),
        Row(
            f"Scale: p99 ask → first DM ({label})",
            f"{p99(dms) * 1000:.0f} ms",
            note=f"{len(dms)}/{len(everything)} asks reached a DM",
        ),
        Row(f"Scale: CPU per 1,000 events ({label})", f"{cpu / total * 1000:.2f} s"),
        Row(
            f"Scale: SQL statements per ask ({label})",
            f"{sql:.0f} (+{resets:.0f} pool resets)",
        ),
        Row(f"Scale: Redis commands per ask ({label})", f"{cmds:.1f}"),
        Row(
            f"Scale: RSS per guild ({label})", f"{(memory - baseline_rss) / guilds / 1024:.1f} KiB"
        ),
    ]


async def quiet_asks(fleet: Fleet, guilds: list[int], n: int) -> tuple[float, float, float]:
    """Statements (and pool resets) and Redis commands one ask costs, with the background (the
    ticks, the priming still going on) taken out: QUIET_ASKS asks spread over a few seconds,
    less a window as long right after them with nothing sent, divided by the asks."""
    pg, redis = fleet.pg, fleet.redis

    def counts() -> tuple[int, int, int]:
        return pg.count, pg.resets, redis.count

    if DEBUG:
        pg.log = []
    asks = []
    t0, c0 = time.monotonic(), counts()
    for i in range(QUIET_ASKS):
        a, payload = ask(fleet.discord, guilds[i % len(guilds)], f"bench-ask-{n + i}")
        asks.append(a)
        await fleet.discord.dispatch("INTERACTION_CREATE", payload)
        await asyncio.sleep(QUIET_SPACING)

    def done() -> bool:
        settle_asks(fleet.discord, asks)
        return all(a.replied is not None and a.dm is not None for a in asks)

    await fleet.until(done, "the quiet asks answered and delivered", 20)
    await quiet(fleet)
    took, c1 = time.monotonic() - t0, counts()
    await asyncio.sleep(took)
    c2 = counts()
    sql, resets, cmds = (((c1[k] - c0[k]) - (c2[k] - c1[k])) / QUIET_ASKS for k in range(3))
    if pg.log is not None:
        from collections import Counter

        say(f"statements in the asks' {took:.1f} s and the quiet {took:.1f} s after:")
        for text, count in Counter(" ".join(x.split())[:120] for x in pg.log).most_common(40):
            say(f"  {count:5d} {text}")
        pg.log = None
    return sql - resets, resets, cmds


async def quiet(fleet: Fleet, still: float = 0.2) -> None:
    """Until no statement has gone by for `still` seconds (the DM's record written)."""
    last, since = fleet.pg.count, time.monotonic()
    while time.monotonic() - since < still:
        await asyncio.sleep(POLL)
        if fleet.pg.count != last:
            last, since = fleet.pg.count, time.monotonic()


async def baseline(database: str, redis_url: str) -> int:
    """The two processes' RSS with no guilds: what a guild's share is measured from."""
    async with DiscordStandin() as discord:
        fleet = Fleet(
            discord, await Tap.postgres(database).start(), await Tap.redis(redis_url).start()
        )
        async with stopping(fleet):
            fleet.start(fleet.pg.proxied, fleet.redis.proxied)
            await fleet.until(fleet.connected, "4 shards to identify", 60)
            await fleet.until(lambda: False, "start-up to finish", 3.0)
            return fleet.rss()


async def run_sizes(sizes: tuple[int, ...], database: str, redis_url: str) -> list[Row]:
    """Each size on a fresh database and Redis database."""
    rows: list[Row] = []
    base = 0
    for guilds in (0, *sizes):
        t0 = time.monotonic()
        await reset_database(database)
        await open_db(database)
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
        try:
            if guilds == 0:
                base = await baseline(database, redis_url)
            else:
                rows += await one_size(guilds, database, redis_url, base)
        finally:
            await close_db()
        say(f"size {guilds} took {time.monotonic() - t0:.1f} s")
    return rows
