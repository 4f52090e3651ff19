"""Time as a dependency: the engine never calls time.time() itself, so tests drive it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Where "now" comes from (epoch seconds)."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock, for the real bots."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to: tests and the shell's `:advance`."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds


def to_datetime(ts: float) -> datetime:
    """Epoch seconds as an aware UTC datetime, for the database."""
    return datetime.fromtimestamp(ts, UTC)


def to_epoch(dt: datetime) -> float:
    """An aware datetime (from the database) as epoch seconds."""
    return dt.timestamp()
