"""How the product words things: verdicts, durations, local times."""

from __future__ import annotations

from datetime import datetime

from core.presence.availability import Availability, Verdict
from core.presence.record import zone

ICON = {
    Availability.AVAILABLE: "🟢",
    Availability.IDLE: "🌙",
    Availability.BUSY: "⛔",
    Availability.OFFLINE: "⚫",
    Availability.UNKNOWN: "❔",
}


def clock_time(ts: float, tz: str, now: float) -> str:
    """15:00 today, or Tue 15:00 further out, in the reader's zone."""
    local = datetime.fromtimestamp(ts, zone(tz))
    if abs(ts - now) < 20 * 3600:
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def span(seconds: float) -> str:
    """A short human duration: 45s, 12m, 3h, 2d."""
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}m" if m else f"{h}h"
    return f"{s // 86400}d"


def describe(v: Verdict, tz: str, now: float) -> str:
    """`busy: do-not-disturb until 15:00`: the reason a requester sees for a skip."""
    text = f"{v.availability.value}: {v.reason}"
    if v.until is not None and v.availability is not Availability.AVAILABLE:
        text += f" until {clock_time(v.until, tz, now)}"
    return text


def detail(v: Verdict, tz: str, now: float) -> str:
    """The verdict with its source and age, for `/community show` and the home tab."""
    text = f"{ICON[v.availability]} {describe(v, tz, now)}"
    if v.observed_at:
        text += f" ({v.source}, {span(now - v.observed_at)} ago)"
    return text
