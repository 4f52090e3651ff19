"""`groupcast shell`: the embedded default, offline, in the terminal."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bots.shell.platform import Outbound, ShellPlatform
from bots.shell.session import ShellSession
from core.bootstrap import running
from core.clock import ManualClock
from core.config import Settings

BANNER = """groupcast shell — a simulated workspace. You are alice; try:
  /ask-available frontend can someone review #12?
then :as bob and :decline, or :advance 10m. Type :help for more, :quit to leave."""


async def run_shell(
    settings: Settings, *, script: TextIO | None, as_json: bool, now: str | None
) -> int:
    start = datetime.fromisoformat(now).timestamp() if now else datetime.now().timestamp()
    clock = ManualClock(start)

    def emit(out: Outbound) -> None:
        print(out.json() if as_json else out.line(), flush=True)

    def say(text: str) -> None:
        if not as_json:
            print(text, flush=True)

    platform = ShellPlatform(emit, sent_log(settings.database_url))
    async with running(settings, platform, clock, tick_every=None) as engine:
        session = ShellSession(engine, platform, clock, say)
        await session.seed()
        if script is not None:
            for raw in script:
                if not as_json and raw.strip() and not raw.lstrip().startswith("#"):
                    print(f"{session.user}> {raw.rstrip()}", flush=True)
                if not await session.line(raw):
                    break
            return 0
        say(BANNER)
        while True:
            try:
                raw = await asyncio.to_thread(input, f"{session.user}> ")
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:
                print()
                return 0
            if not await session.line(raw):
                return 0


def sent_log(database_url: str) -> Path:
    """Where the simulated platform remembers what it sent: beside a SQLite file, else here."""
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite://") + ".sent")
    return Path("groupcast-shell.sent")


def open_script(path: str) -> TextIO:
    return sys.stdin if path == "-" else open(path, encoding="utf-8")
