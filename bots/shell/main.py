"""`groupcast shell`: the embedded default, offline, in the terminal."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bots.shell.platform import Outbound, ShellPlatform
from bots.shell.session import ShellSession
from core.bootstrap import running
from core.clock import ManualClock
from core.config import ConfigError, Settings

BANNER = """groupcast shell — a simulated workspace. You are alice; try:
  /ask-available frontend can someone review #12?
then :as bob and :decline, or :advance 10m. Tab completes; :help for more, :quit to leave."""

COLOURS = {"available": "32", "idle": "33", "busy": "31", "offline": "90", "unknown": "90"}
VERDICT_RE = re.compile(r"(🟢|🌙|⛔|⚫|❔) (available|idle|busy|offline|unknown)\b")


def start_time(now: str | None) -> float:
    """`--now` as epoch seconds; a time without a zone is UTC. One clear line when it is not a time."""
    if now is None:
        return datetime.now(UTC).timestamp()
    try:
        when = datetime.fromisoformat(now)
    except ValueError:
        raise ConfigError(
            f"--now: “{now}” is not a date and time; give one like 2026-01-05T09:00:00+00:00"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def open_script(path: str) -> TextIO:
    """The script to run, or one line saying why it cannot be read."""
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--script: cannot read {path}: {exc.strerror or exc}") from None


def coloured(text: str) -> str:
    """Availability words in colour, for a terminal."""
    return VERDICT_RE.sub(lambda m: f"\x1b[{COLOURS[m.group(2)]}m{m.group(0)}\x1b[0m", text)


async def run_shell(
    settings: Settings, *, script: TextIO | None, as_json: bool, start: float
) -> int:
    clock = ManualClock(start)
    tty = script is None and sys.stdout.isatty()
    paint = coloured if tty and "NO_COLOR" not in os.environ else (lambda text: text)

    def emit(out: Outbound) -> None:
        print(out.json() if as_json else paint(out.line()), flush=True)

    def say(text: str) -> None:
        if not as_json:
            print(paint(text), flush=True)

    platform = ShellPlatform(emit, sent_log(settings.database_url))
    async with running(settings, platform, clock, tick_every=None) as engine:
        session = ShellSession(engine, platform, clock, say)
        await session.seed()
        if script is not None:
            return await _script(session, script, as_json)
        say(BANNER)
        from bots.shell.prompt import interact

        await interact(session, history_path())
        return 0


async def _script(session: ShellSession, script: TextIO, as_json: bool) -> int:
    """Run every line; exit 1 (and say which lines) when any line was refused."""
    failed: list[int] = []
    for number, raw in enumerate(script, start=1):
        if not as_json and raw.strip() and not raw.lstrip().startswith("#"):
            print(f"{session.user}> {raw.rstrip()}", flush=True)
        before = session.failures
        going_on = await session.line(raw)
        if session.failures > before:
            failed.append(number)
        if not going_on:
            break
    if failed:
        n = len(failed)
        where = ", ".join(map(str, failed))
        print(
            f"groupcast: {n} line{'s' if n > 1 else ''} of the script failed"
            f" (line{'s' if n > 1 else ''} {where})",
            file=sys.stderr,
        )
        return 1
    return 0


def history_path() -> Path:
    """Where typed lines are kept between sessions (GROUPCAST_HISTORY, else ~/.groupcast_history)."""
    return Path(os.environ.get("GROUPCAST_HISTORY") or Path.home() / ".groupcast_history")


def sent_log(database_url: str) -> Path:
    """Where the simulated platform remembers what it sent: beside a SQLite file, else here."""
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite://") + ".sent")
    return Path("groupcast-shell.sent")
