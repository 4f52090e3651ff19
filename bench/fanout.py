"""Fan-out: one `--everyone` to 1,000 members through the real Slack adapter, paced at R/s.

The stand-in refuses `chat.postMessage` faster than R a second (a token bucket, with no burst
and with a burst) and describes its bucket in X-RateLimit headers; the adapter's pacer starts
from its default guess (SLACK_POST_RATE unset) and paces to the shape the headers describe.
We time the slash command to the last DM the stand-in recorded and count DMs per target.
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

from bench.common import Row, print_rows
from bench.world import HANDLE, OWNER, member_id, slack_world
from tests.standins import slack_payloads as sp

MEMBERS = 1_000
TARGET_RATIO = 1.05
LIMITS = ((25.0, 1.0), (50.0, 5.0))
"""(R, burst) of the stand-in's chat.postMessage limiter: no burst at 25 a second (1,000 DMs
take 40 s at best), and a burst of 5 at 50 a second (20 s), which keeps the run short."""


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
    load: float  # the machine's 1-minute load average when the fan-out started


async def fanout(rate: float, members: int, limit_s: float, burst: float = 1.0) -> FanoutResult:
    """Time one `--everyone` from the command to the last DM the stand-in recorded."""
    with tempfile.TemporaryDirectory(prefix="groupcast-fanout-") as tmp:
        async with slack_world(Path(tmp), members=members) as world:
            slack = world.slack
            await slack.do("limit", "chat.postMessage", rate, burst)
            targets = {member_id(i) for i in range(1, members + 1)}
            body = sp.slash_command(
                "/ask-available", f"{HANDLE} --everyone release at 5", user_id=OWNER
            )
            load = os.getloadavg()[0]
            started = time.time()
            assert await world.dispatch(body) == 200
            deadline = time.monotonic() + limit_s
            timed_out = True
            while time.monotonic() < deadline:  # bounded: the limit, whatever happens
                if await slack.do("messages") >= members:
                    timed_out = False
                    break
                await asyncio.sleep(0.5)  # the stand-in times the last DM; this only stops us
            posts = await slack.do("posts")
            last = max((at for at, status, _, _ in posts if status == 200), default=started)
            per_target = await slack.do("delivered")
            refused, streak = await slack.do("refusals", "chat.postMessage")
            if timed_out:
                world.engine.deliveries.stopping = True  # stop claiming; let the in-flight send end
            return FanoutResult(
                wall=last - started,
                delivered=sum(per_target.get(t, 0) for t in targets),
                lost=sum(1 for t in targets if per_target.get(t, 0) == 0),
                duplicated=sum(max(0, per_target.get(t, 0) - 1) for t in targets),
                rate_limited=refused,
                worst_streak=streak,
                timed_out=timed_out,
                load=load,
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
            f"file, the stand-in in its own process; pacer unconfigured (default guess 5/s, "
            f"burst 10), shape learned from the stand-in's X-RateLimit headers; "
            f"{res.delivered} DMs recorded; stand-in refused (429) {res.rate_limited} times, "
            f"longest run of refusals in a row {res.worst_streak}; 1-minute load average "
            f"{res.load:.1f} at the start"
            + (" ; TIMED OUT before the last DM" if res.timed_out else ""),
        )
    ]


def run(members: int = MEMBERS, limits: tuple[tuple[float, float], ...] = LIMITS) -> list[Row]:
    """Entry point for `make bench`: a paced fan-out against a limiter with no burst and one
    with a burst, each bounded at 3 times the ideal time."""
    rows: list[Row] = []
    for rate, burst in limits:
        res = asyncio.run(fanout(rate, members, 3 * members / rate + 10, burst))
        rows += rows_for(res, rate, members, burst)
    return rows


def main() -> int:
    """`python -m bench.fanout [--members N] [--rate R --burst B]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--rate", type=float, help="one run at this R (default: both limits)")
    parser.add_argument("--burst", type=float, default=1.0)
    args = parser.parse_args()
    limits = LIMITS if args.rate is None else ((args.rate, args.burst),)
    print_rows("Fan-out", run(args.members, limits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
