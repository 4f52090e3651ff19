"""Times as people read them: short durations, clock times in the reader's zone, hour spans."""

from __future__ import annotations

from datetime import datetime

from core.timewords import zone


def clock_time(ts: float, tz: str, now: float) -> str:
    """15:00 CET today, or Tue 15:00 CET further out: the reader's zone, named."""
    local = datetime.fromtimestamp(ts, zone(tz))
    if abs(ts - now) < 20 * 3600:
        return local.strftime("%H:%M %Z")
    return local.strftime("%a %H:%M %Z")


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


def hours_span(start_minute: int, end_minute: int) -> str:
    """Working hours as `09:00-17:30` (an en dash), the same in a skip reason and in `/hours`' answer.

    An end at midnight is kept as minute 0; it reads as the end of the day, 24:00."""
    s, e = start_minute, end_minute or 1440
    return f"{s // 60:02d}:{s % 60:02d}–{e // 60:02d}:{e % 60:02d}"
