"""Scale (issue 14): many Slack workspaces in one process, many Discord guilds over 2 processes
x 2 shards, on PostgreSQL + Redis through the real adapters and the stand-ins.

Slack: W workspaces x 20 members installed by OAuth (rows sealed as the flow seals them), one
community each, served by the real bolt app behind its HTTP server (slash commands through the
command intake, each in its workspace's scope) with SlackPlatform's per-team routes and the
Slack stand-in behind one URL (a token finds its team). Presence events and asks are sent at a
set rate, each on its own, and the run reports throughput, p99 ack, p99 ask → first DM, CPU s
per 1,000 events, SQL statements and Redis commands per ask (counted at the wire,
`bench.wire`) and RSS per workspace. Discord: `bench.scale_discord`.

`python -m bench.scale` (about 2 minutes); not part of `make test`. Needs
GROUPCAST_BENCH_POSTGRES / GROUPCAST_BENCH_REDIS (defaults: local gc_bench, db 14; the database
is dropped and made again for each size). GROUPCAST_BENCH_DEBUG=1 prints the statements of the
Discord asks; GROUPCAST_BENCH_PROFILE=<dir> runs the Discord processes under cProfile.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.fernet import Fernet
from redis.asyncio import Redis

from bench.common import Row, print_rows
from bench.scale_discord import p99
from bench.scale_discord import run_sizes as discord_sizes
from bench.seeding import reset_database, seed_communities
from bench.wire import Tap
from bots.slack.app import build_app
from bots.slack.bot import SlackBot
from bots.slack.installs import Sealer
from bots.slack.intake import CommandIntake
from bots.slack.main import make_client, web_app, wire
from bots.slack.oauth import distribution
from bots.slack.pacing import DEFAULT_RATES, Pacer
from bots.slack.platform import SlackPlatform
from core.bootstrap import build_engine
from core.clock import SystemClock
from core.config import Settings, load_settings
from core.presence.signals import ONLINE, Native
from core.store.db import close_db, open_db
from core.store.models import Installation
from tests.standins import slack_payloads as sp
from tests.standins.slack_api import CLIENT_ID, CLIENT_SECRET, SlackStandin
from tests.standins.slack_teams import SlackTeams

POSTGRES = os.environ.get("GROUPCAST_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/gc_bench")
REDIS = os.environ.get("GROUPCAST_BENCH_REDIS", "redis://127.0.0.1:6379/14")
SIZES = (100, 1000)  # workspaces
DISCORD_SIZES = (200, 2000)  # guilds
MEMBERS = 20
SECRET = "bench-signing-secret"
EVENTS_PER_SECOND = 100.0  # presence events and asks, as sent
ASKS = 40  # per size, spread over the run
RUN_SECONDS = 8.0
QUIET_ASKS = 5  # asks alone, one at a time, for statements and commands per ask
FAST = (10_000.0, 10_000.0)


def say(line: str) -> None:
    print(f"  scale/slack: {line}", flush=True)


@dataclass
class Served:
    """The bot in OAuth mode behind its HTTP server, and a client posting to it as Slack does."""

    bot: SlackBot
    intake: CommandIntake
    http: aiohttp.ClientSession
    url: str

    async def post(self, body: bytes) -> float:
        """Seconds until the HTTP answer (the ack)."""
        kind = sp.CONTENT_TYPE_JSON if body.startswith(b"{") else sp.CONTENT_TYPE_FORM
        headers = sp.signed_headers(body, SECRET, content_type=kind)
        t0 = time.perf_counter()
        async with self.http.post(self.url, data=body, headers=headers) as resp:
            await resp.read()
            assert resp.status == 200, resp.status
        return time.perf_counter() - t0

    async def settle(self) -> None:
        await self.intake.join()
        await self.bot.settle()


def members(team: str) -> list[str]:
    return [f"U{team[1:]}{m:02d}" for m in range(MEMBERS)]


async def one_size(workspaces: int) -> list[Row]:
    t0 = time.monotonic()
    await reset_database(POSTGRES)
    redis = Redis.from_url(REDIS)
    await redis.flushdb()
    await redis.aclose()
    pg, tap = await Tap.postgres(POSTGRES).start(), await Tap.redis(REDIS).start()
    key = Fernet.generate_key().decode()
    teams = [SlackStandin(team_id=f"T{i:08d}", team_name=f"W{i}") for i in range(workspaces)]
    for t in teams:
        for uid in members(t.team_id):
            t.add_user(uid, uid.lower(), tz="UTC")
        t.add_channel("C0000GENRL", "general")
    try:
        async with SlackTeams(*teams) as slack:
            settings = load_settings(
                database_url=pg.proxied,
                redis_url=tap.proxied,
                slack_api_url=slack.url,
                slack_client_id=CLIENT_ID,
                slack_client_secret=CLIENT_SECRET,
                slack_token_key=key,
                slack_post_rate=50.0,
            )
            await open_db(settings.database_url)
            try:
                await install(teams, key)
                await seed_communities("slack", {t.team_id: members(t.team_id) for t in teams})
                say(
                    f"{workspaces} workspaces installed and seeded in {time.monotonic() - t0:.1f} s"
                )
                return await drive(settings, teams, pg, tap)
            finally:
                await close_db()
    finally:
        await pg.close()
        await tap.close()


async def install(teams: list[SlackStandin], key: str) -> None:
    """What bolt's OAuth flow stores, without a browser round trip per workspace."""
    sealer = Sealer(key)
    rows = []
    for t in teams:
        token = f"xoxb-{t.team_id}-bench"
        t.issued.add(token)
        t.oauth_only = True
        rows.append(
            Installation(
                platform="slack",
                tenant=t.team_id,
                bot_token_sealed=sealer.seal(token),
                bot_user_id=t.bot_user_id,
                installed_at=time.time(),
            )
        )
    await Installation.bulk_create(rows, batch_size=1000)


async def drive(settings: Settings, teams: list[SlackStandin], pg: Tap, tap: Tap) -> list[Row]:
    def route(token: str) -> tuple[Any, Pacer]:
        # The stand-in does not rate-limit; Slack's tiers would make set-up take minutes.
        pacer = Pacer(rates=dict.fromkeys(DEFAULT_RATES, FAST), per_channel=FAST)
        return make_client(token, settings, pacer), pacer

    n = len(teams)
    oauth = distribution(settings, route)
    assert oauth is not None
    pacer = Pacer()
    client = make_client(None, settings, pacer)
    platform = SlackPlatform(client, pacer)
    clock = SystemClock()
    engine = build_engine(settings, platform, clock)
    tracemalloc.start()  # what each workspace holds, not the seeding's freed arenas
    await engine.start()
    prober = wire(engine, platform, settings, clock, 50.0)
    bot = SlackBot(engine, platform)
    app = build_app(bot, client, SECRET, **oauth.bolt)
    oauth.attach(app, platform, prober, engine.retention)
    worker = build_app(bot, client, SECRET, process_before_response=True, **oauth.bolt)
    intake = CommandIntake(app, worker, SECRET, installed=oauth.workspaces.serves)
    intake.start()
    runner = web.AppRunner(web_app(app, engine, intake=intake), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = int(runner.addresses[0][1])
    try:
        async with aiohttp.ClientSession() as http:
            served = Served(bot, intake, http, f"http://127.0.0.1:{port}/slack/events")
            await warm(served, engine, oauth.workspaces, teams, settings)
            held_per_ws = tracemalloc.get_traced_memory()[0] / n
            tracemalloc.stop()
            say(f"{n} workspaces warm")
            return await measure(served, teams, pg, tap, held_per_ws)
    finally:
        await intake.stop()
        await runner.cleanup()
        await engine.drain()


async def warm(
    served: Served, engine: Any, workspaces: Any, teams: list[SlackStandin], settings: Settings
) -> None:
    """Every workspace as after its first minutes: its route (client, pacer) built, bolt's
    authorization cached, and its members' presence known as the prober leaves it."""
    for t in teams:
        await workspaces.route(t.team_id)
        for uid in members(t.team_id):
            key = engine.notifier.key(t.team_id, uid)
            engine.observe(key, Native(ONLINE, ttl=settings.presence_stale_seconds))
    for i in range(0, len(teams), 50):
        await asyncio.gather(
            *(
                served.post(
                    sp.event_callback(
                        sp.user_status_changed(members(t.team_id)[1], ""), team_id=t.team_id
                    )
                )
                for t in teams[i : i + 50]
            )
        )
    await served.settle()
    engine.take_changes()


async def measure(
    served: Served, teams: list[SlackStandin], pg: Tap, tap: Tap, held_per_ws: float
) -> list[Row]:
    n = len(teams)
    rng = random.Random(7)
    total = int(EVENTS_PER_SECOND * RUN_SECONDS)
    ask_every = max(1, total // ASKS)
    acks: list[float] = []
    asked_at: dict[str, float] = {}
    asked_in: list[SlackStandin] = []
    done_at: list[float] = []
    tasks: list[asyncio.Task[None]] = []

    async def send(body: bytes) -> None:
        acks.append(await served.post(body))
        done_at.append(time.perf_counter())

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    sql0, resets0 = pg.count, pg.resets
    start = time.perf_counter()
    for i in range(total):
        due = start + i / EVENTS_PER_SECOND
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        t = teams[rng.randrange(n)]
        if i % ask_every == 0 and len(asked_at) < ASKS:
            tag = f"bench-ask-{len(asked_at)}"
            asked_at[tag] = time.time()
            asked_in.append(t)
            owner = members(t.team_id)[0]
            body = sp.slash_command(
                "/ask-available", f"ops {tag}", team_id=t.team_id, user_id=owner
            )
        else:
            uid = members(t.team_id)[rng.randrange(MEMBERS)]
            event = sp.user_status_changed(uid, status_text=rng.choice(["", "focus", "lunch"]))
            body = sp.event_callback(event, team_id=t.team_id)
        tasks.append(asyncio.create_task(send(body)))
    await asyncio.gather(*tasks)
    await served.settle()
    say(f"{n} workspaces: run done {time.perf_counter() - start:.1f} s after it began")
    elapsed = max(done_at) - start
    statements, resets = pg.count - sql0, pg.resets - resets0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    first_dm = [dm - at for tag, at in asked_at.items() if (dm := first_post(teams, tag))]
    # In workspaces asked already (ids cached): the steady cost, not a first ask's look-ups.
    sql, per_ask_resets, cmds = await quiet_asks(served, asked_in, pg, tap)
    label = f"{n} workspaces × {MEMBERS}"
    return [
        Row(
            f"Scale: throughput ({label})",
            f"{total / elapsed:.0f} events/s",
            note=(
                f"{total} events sent at a target of {EVENTS_PER_SECOND:.0f}/s, each on its own, "
                f"{ASKS} of them asks; {statements - resets} SQL statements (+{resets} pool "
                f"resets) in the run, {(statements - resets) / total:.1f} an event: bolt's "
                "authorization reads the installation for every request, and every event id is "
                "taken once in the database"
            ),
        ),
        Row(f"Scale: p99 ack ({label})", f"{p99(acks) * 1000:.1f} ms"),
        Row(
            f"Scale: p99 ask → first DM ({label})",
            f"{p99(first_dm) * 1000:.0f} ms",
            note=f"{len(first_dm)}/{len(asked_at)} asks reached a DM",
        ),
        Row(
            f"Scale: CPU per 1,000 events ({label})",
            f"{cpu / total * 1000:.2f} s",
            note="the one process: bot, its HTTP server, the client posting to it and the stand-ins",
        ),
        Row(
            f"Scale: SQL statements per ask ({label})",
            f"{sql:.0f} (+{per_ask_resets:.0f} pool resets)",
        ),
        Row(
            f"Scale: Redis commands per ask ({label})",
            f"{cmds:.0f}",
            note="presence is read from memory; what an ask changes is written on the next tick "
            "(not running here), with everything else that changed",
        ),
        Row(
            f"Scale: memory per workspace ({label})",
            f"{held_per_ws / 1024:.1f} KiB",
            note="traced (tracemalloc) from engine start to warm: tracked members, presence "
            "records, the workspace's client and pacer, bolt's authorization cache, ids cached",
        ),
    ]


def first_post(teams: list[SlackStandin], tag: str) -> float | None:
    posts = [
        c.at
        for team in teams
        for c in team.calls
        if c.method == "chat.postMessage" and tag in str(c.args.get("text", ""))
    ]
    return min(posts) if posts else None


async def quiet_asks(
    served: Served, teams: list[SlackStandin], pg: Tap, tap: Tap
) -> tuple[float, float, float]:
    """Statements (and pool resets) and Redis commands of one ask, alone: nothing else runs
    in this process (no tick), so the counts are the ask's own."""
    totals = [0, 0, 0]
    for i in range(QUIET_ASKS):
        t = teams[i % len(teams)]
        owner = members(t.team_id)[0]
        body = sp.slash_command(
            "/ask-available", f"ops quiet-{i}", team_id=t.team_id, user_id=owner
        )
        c0 = (pg.count, pg.resets, tap.count)
        await served.post(body)
        await served.settle()
        for k, now in enumerate((pg.count, pg.resets, tap.count)):
            totals[k] += now - c0[k]
    sql, resets, cmds = (x / QUIET_ASKS for x in totals)
    return sql - resets, resets, cmds


def run() -> list[Row]:
    rows: list[Row] = []
    for n in SIZES:
        rows += asyncio.run(one_size(n))
    rows += asyncio.run(discord_sizes(DISCORD_SIZES, POSTGRES, REDIS))
    return rows


if __name__ == "__main__":
    print_rows("Scale", run())
