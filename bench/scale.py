"""Many Slack workspaces in one process: OAuth installs on PostgreSQL + Redis through the real bolt
app, SlackPlatform's per-team routes and the Slack stand-in (one URL, a token finds its team).

Each size installs W workspaces x 20 members (rows sealed as the OAuth flow seals them), makes
one community per workspace, then drives presence events and asks at a set rate and reports:
throughput, p99 ack, p99 ask → first DM, CPU s per 1,000 events, SQL statements and Redis
commands per ask, and RSS per workspace. `python -m bench.scale`; not part of `make test`.
Needs GROUPCAST_BENCH_POSTGRES / GROUPCAST_BENCH_REDIS (defaults: local gc_bench, db 14).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import resource
import time
from typing import Any

from cryptography.fernet import Fernet
from redis.asyncio import Redis
from slack_bolt.request.async_request import AsyncBoltRequest

from bench.common import Row, print_rows, rss_bytes
from bots.slack.app import SlackBot, build_app
from bots.slack.installs import Sealer
from bots.slack.main import make_client, wire
from bots.slack.oauth import distribution
from bots.slack.pacing import DEFAULT_RATES, Pacer
from bots.slack.platform import SlackPlatform
from core.bootstrap import build_engine
from core.clock import SystemClock
from core.config import load_settings
from core.store.db import close_db, open_db
from core.store.models import Installation
from tests.standins import slack_payloads as sp
from tests.standins.slack_api import CLIENT_ID, CLIENT_SECRET, SlackStandin
from tests.standins.slack_teams import SlackTeams

POSTGRES = os.environ.get("GROUPCAST_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/gc_bench")
REDIS = os.environ.get("GROUPCAST_BENCH_REDIS", "redis://127.0.0.1:6379/14")
SIZES = (20, 100)  # workspaces; scaled down from 100/1,000 for the shared 2-core machine
MEMBERS = 20
SECRET = "bench-signing-secret"
EVENTS_PER_SECOND = 100.0  # presence events
ASKS = 40  # per size, spread over the run
RUN_SECONDS = 8.0
FAST = (10_000.0, 10_000.0)


class Count(logging.Handler):
    """Counts SQL statements tortoise's client logs at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.n += 1


async def redis_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return sum(int(v["calls"]) for v in stats.values() if isinstance(v, dict))


def say(line: str) -> None:
    print(f"  scale: {line}", flush=True)


def p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else float("nan")


async def reset_db() -> None:
    import asyncpg

    base, _, name = POSTGRES.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()


async def one_size(workspaces: int) -> list[Row]:
    await reset_db()
    redis = Redis.from_url(REDIS)
    await redis.flushdb()
    key = Fernet.generate_key().decode()
    teams = [SlackStandin(team_id=f"T{i:08d}", team_name=f"W{i}") for i in range(workspaces)]
    for t in teams:
        for m in range(MEMBERS):
            t.add_user(f"U{t.team_id[1:]}{m:02d}", f"m{m}", tz="UTC")
        t.add_channel("C0000GENRL", "general")
    async with SlackTeams(*teams) as slack:
        settings = load_settings(
            database_url=POSTGRES,
            redis_url=REDIS,
            slack_api_url=slack.url,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            slack_token_key=key,
            slack_post_rate=50.0,
        )
        await open_db(settings.database_url)
        try:
            return await drive(settings, slack, teams, key, redis, workspaces)
        finally:
            await close_db()
            await redis.aclose()


async def drive(
    settings: Any, slack: SlackTeams, teams: list[SlackStandin], key: str, redis: Redis, n: int
) -> list[Row]:
    sealer = Sealer(key)
    for t in teams:  # what bolt's OAuth flow stores, without n browser round trips
        token = f"xoxb-{t.team_id}-bench"
        t.issued.add(token)
        t.oauth_only = True
        await Installation.create(
            platform="slack",
            tenant=t.team_id,
            bot_token_sealed=sealer.seal(token),
            bot_user_id=t.bot_user_id,
            installed_at=time.time(),
        )

    def route(token: str) -> tuple[Any, Pacer]:
        # The stand-in does not rate-limit; Slack's tiers would make set-up take minutes.
        pacer = Pacer(rates=dict.fromkeys(DEFAULT_RATES, FAST), per_channel=FAST)
        return make_client(token, settings, pacer), pacer

    oauth = distribution(settings, route)
    assert oauth is not None
    pacer = Pacer()
    client = make_client(None, settings, pacer)
    platform = SlackPlatform(client, pacer)
    clock = SystemClock()
    engine = build_engine(settings, platform, clock)
    await engine.start()
    prober = wire(engine, platform, settings, clock, 50.0)
    bot = SlackBot(engine, platform)
    app = build_app(bot, client, SECRET, **oauth.bolt)
    oauth.attach(app, platform, prober)

    async def send(body: bytes) -> float:
        kind = sp.CONTENT_TYPE_JSON if body.startswith(b"{") else sp.CONTENT_TYPE_FORM
        headers = sp.signed_headers(body, SECRET, content_type=kind)
        t0 = time.perf_counter()
        await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        return time.perf_counter() - t0

    say(f"{n} workspaces installed")
    rss0 = rss_bytes()
    for t in teams:
        owner = f"U{t.team_id[1:]}00"
        members = " ".join(f"<@U{t.team_id[1:]}{m:02d}>" for m in range(1, MEMBERS))
        await send(
            sp.slash_command("/community", "create ops Ops", team_id=t.team_id, user_id=owner)
        )
        await bot.settle()
        await send(
            sp.slash_command("/community", f"add ops {members}", team_id=t.team_id, user_id=owner)
        )
        await bot.settle()
    rss_per_ws = (rss_bytes() - rss0) / n
    say(f"{n} communities made")

    sql = Count()
    logging.getLogger("tortoise.db_client").addHandler(sql)
    logging.getLogger("tortoise.db_client").setLevel(logging.DEBUG)
    rng = random.Random(7)
    acks: list[float] = []
    asked_at: dict[str, float] = {}
    total = int(EVENTS_PER_SECOND * RUN_SECONDS)
    ask_every = max(1, total // ASKS)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    ask_sql = ask_redis = 0
    start = time.perf_counter()
    for i in range(total):
        due = start + i / EVENTS_PER_SECOND
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        t = teams[rng.randrange(n)]
        if i % ask_every == 0 and len(asked_at) < ASKS:
            await bot.settle()
            s0, r0 = sql.n, await redis_calls(redis)
            tag = f"bench-ask-{len(asked_at)}"
            asked_at[tag] = time.time()
            body = sp.slash_command(
                "/ask-available", f"ops {tag}", team_id=t.team_id, user_id=f"U{t.team_id[1:]}00"
            )
            acks.append(await send(body))
            await bot.settle()
            ask_sql += sql.n - s0
            ask_redis += await redis_calls(redis) - r0 - 1  # minus our INFO
        else:
            uid = f"U{t.team_id[1:]}{rng.randrange(MEMBERS):02d}"
            event = sp.user_status_changed(uid, status_text=rng.choice(["", "focus", "lunch"]))
            acks.append(await send(sp.event_callback(event, team_id=t.team_id)))
    await bot.settle()
    elapsed = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    logging.getLogger("tortoise.db_client").removeHandler(sql)
    first_dm: list[float] = []
    for tag, at in asked_at.items():
        posts = [
            c.at
            for team in teams
            for c in team.calls
            if c.method == "chat.postMessage" and tag in str(c.args.get("text", ""))
        ]
        if posts:
            first_dm.append(min(posts) - at)
    await engine.drain()
    label = f"{n} workspaces × {MEMBERS}"
    return [
        Row(f"Scale: throughput ({label})", f"{total / elapsed:.0f} events/s"),
        Row(f"Scale: p99 ack ({label})", f"{p99(acks) * 1000:.1f} ms"),
        Row(
            f"Scale: p99 ask → first DM ({label})",
            f"{p99(first_dm) * 1000:.0f} ms",
            note=f"{len(first_dm)}/{len(asked_at)} asks reached a DM" if n == SIZES[0] else "",
        ),
        Row(f"Scale: CPU per 1,000 events ({label})", f"{cpu / total * 1000:.2f} s"),
        Row(f"Scale: SQL statements per ask ({label})", f"{ask_sql / max(1, len(asked_at)):.0f}"),
        Row(f"Scale: Redis commands per ask ({label})", f"{ask_redis / max(1, len(asked_at)):.0f}"),
        Row(f"Scale: RSS per workspace ({label})", f"{rss_per_ws / 1024:.0f} KiB"),
    ]


def run() -> list[Row]:
    rows: list[Row] = []
    for n in SIZES:
        rows += asyncio.run(one_size(n))
    return rows


if __name__ == "__main__":
    print_rows("Scale", run())
