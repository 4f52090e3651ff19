"""Fan-out: one `--everyone` to 1,000 members through the real Slack adapter, paced at R/s.

The stand-in refuses `chat.postMessage` faster than R a second (a token bucket, with no burst
and with a burst) and describes its bucket in X-RateLimit headers; the adapter's pacer starts
from its default guess (SLACK_POST_RATE unset) and paces to the shape the headers describe.
We time the slash command to the last DM the stand-in recorded and count DMs per target.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bench.common import Row, print_rows
from bots.slack.app import SlackBot, build_app
from bots.slack.main import make_client, make_pacer, wire
from bots.slack.platform import SlackPlatform
from core.bootstrap import running
from core.clock import SystemClock
from core.config import load_settings
from core.engine import Engine
from core.store.models import Community, Contact, Membership, Role, Tenant
from tests.standins import slack_payloads as sp
from tests.standins.slack_api import SlackStandin

SECRET = "groupcast-bench-signing-secret"
TEAM = sp.DEFAULT_TEAM_ID
CHANNEL = "C0000GENRL"
OWNER = "U0000OWNER"
HANDLE = "bench"
MEMBERS = 1_000
RATE = 25.0
"""Sends a second the stand-in allows; 1,000 DMs then take 40 s at best."""
TARGET_RATIO = 1.05
BURSTS = (1.0, 5.0)


@dataclass
class SlackWorld:
    """The deployed shape: stand-in, bolt app, bot, platform and a running engine."""

    slack: SlackStandin
    app: AsyncApp
    bot: SlackBot
    engine: Engine
    platform: SlackPlatform

    async def dispatch(self, body: bytes) -> int:
        """One signed request through bolt, as the HTTP handler would pass it on."""
        headers = sp.signed_headers(body, SECRET)
        resp = await self.app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        return resp.status


def member_id(i: int) -> str:
    """A Slack-shaped user id for the i-th seeded member."""
    return f"U{i:09d}"


@asynccontextmanager
async def standin_thread() -> AsyncIterator[SlackStandin]:
    """The stand-in on its own thread and loop: Slack is remote, so its clock and its request
    handling must not wait on our event loop (in-loop, our own work skews its rate limiter)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="slack-standin", daemon=True)
    thread.start()
    slack = SlackStandin()
    try:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(slack.start(), loop))
        yield slack
    finally:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(slack.close(), loop))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@asynccontextmanager
async def slack_world(
    db_dir: Path,
    *,
    post_rate: float | None = None,
    members: int = MEMBERS,
    settle: bool = True,
) -> AsyncIterator[SlackWorld]:
    """Stand-in + real adapter + engine over a SQLite file, wired like `run_slack` wires it."""
    async with standin_thread() as slack:
        slack.add_user(OWNER, "owner", tz="UTC")
        for i in range(1, members + 1):
            slack.add_user(member_id(i), f"member{i}", tz="UTC")
        slack.add_channel(CHANNEL, "general")
        rates = {} if post_rate is None else {"slack_post_rate": post_rate, "slack_post_burst": 1}
        settings = load_settings(  # the pacer as a deployment sets it; the stand-in allows no burst
            **rates,
            database_url=f"sqlite://{db_dir / 'bench.sqlite3'}",
            slack_api_url=slack.url,
            random_seed=7,
            ask_timeout_seconds=3_600,
        )
        pacer = make_pacer(settings)
        client = make_client("xoxb-bench", settings, pacer)
        platform = SlackPlatform(client, pacer)
        async with running(settings, platform, SystemClock()) as engine:
            wire(engine, platform, settings, engine.clock, settings.slack_presence_calls_per_minute)
            bot = SlackBot(engine, platform)
            world = SlackWorld(slack, build_app(bot, client, SECRET), bot, engine, platform)
            await seed(world, members)
            yield world
            if settle:  # the ack benchmark leaves paced replies unsent on purpose
                await bot.settle()


async def seed(world: SlackWorld, members: int) -> None:
    """The owner creates @bench by slash command; members are inserted in bulk."""
    body = sp.slash_command("/community", f"create {HANDLE} Bench", user_id=OWNER)
    assert await world.dispatch(body) == 200
    await world.bot.settle()
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
    world.slack.calls.clear()
    world.slack.ephemeral.clear()


@dataclass(frozen=True)
class FanoutResult:
    """What one `--everyone` run measured."""

    wall: float
    delivered: int
    lost: int
    duplicated: int
    rate_limited: int
    worst_streak: int
    timed_out: bool


async def fanout(rate: float, members: int, limit_s: float, burst: float = 1.0) -> FanoutResult:
    """Time one `--everyone` from the command to the last DM the stand-in recorded."""
    with tempfile.TemporaryDirectory(prefix="groupcast-fanout-") as tmp:
        async with slack_world(Path(tmp), members=members) as world:
            slack = world.slack
            slack.limit("chat.postMessage", per_second=rate, burst=burst)
            targets = {member_id(i) for i in range(1, members + 1)}
            body = sp.slash_command(
                "/ask-available", f"{HANDLE} --everyone release at 5", user_id=OWNER
            )
            started = time.time()
            assert await world.dispatch(body) == 200
            deadline = time.monotonic() + limit_s
            timed_out = True
            while time.monotonic() < deadline:  # bounded: the limit, whatever happens
                if len(slack.messages) >= members:
                    timed_out = False
                    break
                await asyncio.sleep(0.05)
            posts = [c for c in slack.calls_to("chat.postMessage") if c.status == 200]
            last = max((c.at for c in posts), default=started)
            per_target = Counter(slack.channels.get(ch, "") for (ch, _ts) in list(slack.messages))
            streak = slack.max_rate_limited_streak["chat.postMessage"]
            if timed_out:
                world.engine.outbox.stopping = True  # stop claiming; let the in-flight send end
            return FanoutResult(
                wall=last - started,
                delivered=sum(per_target[t] for t in targets),
                lost=sum(1 for t in targets if per_target[t] == 0),
                duplicated=sum(max(0, per_target[t] - 1) for t in targets),
                rate_limited=slack.rate_limited["chat.postMessage"],
                worst_streak=streak,
                timed_out=timed_out,
            )


def rows_for(res: FanoutResult, rate: float, members: int, burst: float) -> list[Row]:
    """The RESULTS row: wall time against the ideal members/R, with losses and refusals."""
    ideal = members / rate
    ratio = res.wall / ideal
    ok = (
        ratio <= TARGET_RATIO
        and res.lost == 0
        and res.duplicated == 0
        and res.worst_streak < 2
        and not res.timed_out
    )
    return [
        Row(
            f"fan-out: `--everyone` to {members:,} members, stand-in limiter R={rate:g}/s,"
            f" burst {burst:g}",
            f"{res.wall:.2f} s; lost {res.lost}, duplicated {res.duplicated}",
            f"{ideal:.2f} s (1000/R)" if members == 1_000 else f"{ideal:.2f} s (n/R)",
            f"{ratio:.3f}×",
            "wall ≤ 1.05 × 1000/R; 0 lost, 0 duplicated",
            ok,
            note=f"real bolt app + SlackPlatform + engine (`running`, 1 s tick) over a SQLite "
            f"file; pacer unconfigured (default guess 5/s, burst 10), shape learned from the"
            f" stand-in's X-RateLimit headers; "
            f"{res.delivered} DMs recorded; stand-in refused (429) {res.rate_limited} times, "
            f"longest run of refusals in a row {res.worst_streak}"
            + (" ; TIMED OUT before the last DM" if res.timed_out else ""),
        )
    ]


def run(rate: float = RATE, members: int = MEMBERS) -> list[Row]:
    """Entry point for `make bench`: a paced fan-out against a limiter with no burst and one
    with a burst of 5, each bounded at 3 times the ideal time."""
    rows: list[Row] = []
    for burst in BURSTS:
        res = asyncio.run(fanout(rate, members, 3 * members / rate + 10, burst))
        rows += rows_for(res, rate, members, burst)
    return rows


def main() -> int:
    """`python -m bench.fanout [--rate R] [--members N]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--members", type=int, default=MEMBERS)
    args = parser.parse_args()
    print_rows("Fan-out", run(args.rate, args.members))
    return 0


if __name__ == "__main__":
    sys.exit(main())
