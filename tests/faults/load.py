"""A real groupcast process asking continuously (python -m tests.faults.load): one JSON line a request.

It runs the core as the bots do (`running`, SystemClock, tick loop) behind the shell's
platform, so a test can fail its database or Redis connections and watch it recover.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bots.shell.platform import ShellPlatform
from bots.shell.session import ShellSession
from core.bootstrap import running
from core.clock import ManualClock
from core.config import load_settings

RECOVERED_AFTER = 20  # successful requests after the last failure before it stops
GIVE_UP_SECONDS = 40.0


async def main() -> int:
    """Ask until RECOVERED_AFTER requests in a row succeed after a failure (or give up)."""
    clock = ManualClock(time.time())
    platform = ShellPlatform(lambda out: None)
    failures, streak, i = 0, 0, 0
    start = time.monotonic()
    async with running(load_settings(), platform, clock, tick_every=0.2) as engine:
        session = ShellSession(engine, platform, clock, lambda _: None)
        await session.seed()
        while time.monotonic() - start < GIVE_UP_SECONDS:
            i += 1
            try:
                await session.line(f"/ask-available frontend --all load {i}")
                ok, err = True, ""
            except Exception as exc:
                ok, err = False, type(exc).__name__
            failures += not ok
            streak = streak + 1 if ok else 0
            print(json.dumps({"i": i, "ok": ok, "err": err}), flush=True)
            if failures and streak >= RECOVERED_AFTER:
                return 0
            await asyncio.sleep(0.02)
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
