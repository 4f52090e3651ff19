"""Acknowledgement and time to the first DM, as the person asking feels them: a single
`--one` ask from the slash command to its DM (the presence probe of the pick included), then
200 asks at once, whose acknowledgements and last first DM are timed (the latter against the
posting pace's floor).

Everything is real but Slack: the signed POSTs come from a client in its own process to
`web_app` with the command intake, bolt and the engine over a SQLite file; the stand-in, in
its own process, refuses chat.postMessage faster than R a second (no burst) and the pacer
learns that shape from its headers. The stand-in's clock is the wall clock, the client's too,
so a DM's time is read where Slack would store it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.baselines import percentile
from bench.common import Row, print_rows
from bench.outside import Client, http_request
from bench.world import (
    HANDLE,
    OWNER,
    SECRET,
    SlackWorld,
    abandon,
    member_id,
    served,
    slack_world,
)
from core import keys
from core.presence.signals import ONLINE, Native
from core.store.models import Request
from tests.standins import slack_payloads as sp

SINGLES = 30
BURST = 200
MEMBERS = 400
RATE = 25.0
"""chat.postMessage calls a second the stand-in allows (no burst)."""
TARGET_SINGLE_P99_S = 0.300
TARGET_ACK_P99_S = 0.100
TARGET_LAST_RATIO = 1.05
SLACK_ACK_S = 3.0
LIMIT_S = 120.0


def ask(port: int, tag: str, i: int) -> bytes:
    """One signed `--one` ask as raw HTTP; its text carries the marker `<tag><i>`."""
    text = f"{HANDLE} --one can someone look at {tag}{i:04d} please?"
    body = sp.slash_command("/ask-available", text, user_id=OWNER)
    return http_request(port, "/slack/events", body, sp.signed_headers(body, SECRET))


def fresh_presence(world: SlackWorld, members: int) -> None:
    """Every member seen online, as the background prober keeps a community fresh."""
    team = sp.DEFAULT_TEAM_ID
    for i in range(1, members + 1):
        key = keys.encode("slack", team, member_id(i))
        world.engine.observe(key, Native(ONLINE, ttl=3_600.0, source="users.getPresence"))


async def first_dms(
    world: SlackWorld, tag: str, n: int, limit_s: float, *, every: float = 0.1
) -> dict[str, float]:
    """Wall time of each ask's first DM, waiting (bounded) until all n have one; the stand-in
    stores the time, so how often we look only decides how soon we stop waiting."""
    deadline = time.monotonic() + limit_s
    got: dict[str, float] = {}
    while time.monotonic() < deadline:
        got = await world.slack.do("first_posts", rf"{tag}\d{{4}}")
        if len(got) >= n:
            break
        await asyncio.sleep(every)
    return got


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    singles: list[float]  # slash command sent → its DM stored, seconds
    single_missing: int
    acks: list[float]  # the burst's times to HTTP 200
    ok: int
    last_dm: float  # the burst's first request sent → its last first DM stored
    dms: int
    recorded: int
    refused: int
    load: float  # the machine's 1-minute load average when the burst was sent


async def measure(singles: int, n: int, rate: float) -> Figures:
    with Client() as client, tempfile.TemporaryDirectory(prefix="groupcast-dm-") as tmp:
        async with slack_world(Path(tmp), members=max(MEMBERS, 2 * n), settle=False) as world:
            await world.slack.do("limit", "chat.postMessage", rate, 1.0)
            fresh_presence(world, max(MEMBERS, 2 * n))
            async with served(world) as (port, intake):
                await client.burst(port, [ask(port, "warm", 0)])  # the pacer learns the limit
                await first_dms(world, "warm", 1, 10.0)
                await world.bot.settle()
                lone: list[float] = []
                for i in range(singles):
                    ((_, _, sent),) = await client.burst(port, [ask(port, "one", i)])
                    got = await first_dms(world, "one", i + 1, 10.0, every=0.02)
                    if (at := got.get(f"one{i:04d}")) is not None:
                        lone.append(at - sent)
                await intake.join()
                await world.bot.settle()
                before = await Request.all().count()
                load = os.getloadavg()[0]
                results = await client.burst(port, [ask(port, "many", i) for i in range(n)])
                started = min(sent for _, _, sent in results)
                got = await first_dms(world, "many", n, LIMIT_S, every=0.5)
                recorded = await Request.all().count() - before
                refused, _ = await world.slack.do("refusals", "chat.postMessage")
                await abandon(world)
    return Figures(
        singles=sorted(lone),
        single_missing=singles - len(lone),
        acks=sorted(t for _, t, _ in results),
        ok=sum(1 for s, _, _ in results if s == 200),
        last_dm=max(got.values(), default=started + LIMIT_S) - started,
        dms=len(got),
        recorded=recorded,
        refused=refused,
        load=load,
    )


def rows_for(f: Figures, singles: int, n: int, rate: float) -> list[Row]:
    """Three rows: the burst's acks, the single ask's first DM, the burst's last first DM."""
    p99 = percentile(f.singles, 99) if f.singles else float("inf")
    p50 = percentile(f.singles, 50) if f.singles else float("inf")
    ack50, ack99 = percentile(f.acks, 50), percentile(f.acks, 99)
    floor = n / rate
    where = (
        "real aiohttp app (`web_app` + CommandIntake), bolt, engine, SQLite file; client and "
        "stand-in each in their own process"
    )
    return [
        Row(
            f"acknowledgement: {n} concurrent `/ask-available` over HTTP, p50 / p99",
            f"{ack50 * 1000:.1f} ms / {ack99 * 1000:.1f} ms",
            "3 s (Slack's ack deadline)",
            f"{ack99 / SLACK_ACK_S:.3f}× (p99)",
            "p99 ≤ 100 ms",
            ack99 <= TARGET_ACK_P99_S and f.ok == n and f.recorded == n,
            note=f"{where}, the client's {n} connections open before the burst; {f.ok}/{n} got "
            f"HTTP 200 (max {f.acks[-1] * 1000:.1f} ms); {f.recorded}/{n} requests recorded",
        ),
        Row(
            "slash command → first DM of a single `--one` ask (presence probe included), p50 / p99",
            f"{p50 * 1000:.1f} ms / {p99 * 1000:.1f} ms",
            "3 s (Slack's ack deadline)",
            f"{p99 / SLACK_ACK_S:.3f}× (p99)",
            "p99 ≤ 300 ms",
            p99 <= TARGET_SINGLE_P99_S and f.single_missing == 0,
            note=f"{where}; {singles} asks one after another, each pick confirmed with "
            f"users.getPresence before it is asked; members fresh as the prober keeps them; "
            f"{f.single_missing} without a DM",
        ),
        Row(
            f"{n} concurrent asks: last first DM ÷ the posting pace's floor ({n} ÷ R)",
            f"{f.last_dm:.2f} s; {f.dms}/{n} DMs",
            f"{floor:.2f} s ({n} ÷ {rate:g}/s)",
            f"{f.last_dm / floor:.3f}×",
            "≤ 1.05×",
            f.last_dm / floor <= TARGET_LAST_RATIO and f.dms == n,
            note=f"{where}; from the first POST sent to the last ask's first DM stored; the "
            f"stand-in allows R={rate:g} chat.postMessage a second, no burst (the pacer learns "
            f"that from its headers), and refused {f.refused} (429) over the run; 1-minute "
            f"load average {f.load:.1f} at the burst",
        ),
    ]


def run(singles: int = SINGLES, n: int = BURST, rate: float = RATE) -> list[Row]:
    """Entry point for `make bench`."""
    return rows_for(asyncio.run(measure(singles, n, rate)), singles, n, rate)


def main() -> int:
    """`python -m bench.ack [--singles K] [--burst N] [--rate R]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--singles", type=int, default=SINGLES)
    parser.add_argument("--burst", type=int, default=BURST)
    parser.add_argument("--rate", type=float, default=RATE)
    args = parser.parse_args()
    print_rows("Acknowledgement and time to the first DM", run(args.singles, args.burst, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
