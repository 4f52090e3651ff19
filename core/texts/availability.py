"""Availability as people read it: verdicts with their reasons, and the answers to
`/available`, `/away`, `/busy` and `/hours`."""

from __future__ import annotations

from core.presence.availability import Availability, Verdict
from core.texts.time import clock_time, hours_span, span

ICON = {
    Availability.AVAILABLE: "🟢",
    Availability.IDLE: "🌙",
    Availability.BUSY: "⛔",
    Availability.OFFLINE: "⚫",
    Availability.UNKNOWN: "❔",
}

CHOSEN = {  # what a person called their own choice: /away says "away", never "offline"
    Availability.AVAILABLE: "available",
    Availability.BUSY: "busy",
    Availability.OFFLINE: "away",
    Availability.IDLE: "idle",
    Availability.UNKNOWN: "unknown",
}


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


def line(name: str, v: Verdict, tz: str, now: float) -> str:
    """`🟢 bob: available: online`: one member of a standing view (no age: it would go stale)."""
    return f"{ICON[v.availability]} {name}: {describe(v, tz, now)}"


# -- /available, /away, /busy, /hours ----------------------------------------------------


def back_to_automatic(v: Verdict, tz: str, now: float) -> str:
    return f"Back to automatic: you're {describe(v, tz, now)}."


def chosen(availability: Availability, until: float | None, note: str, tz: str, now: float) -> str:
    """`You're away until 15:00 CET (lunch).`"""
    when = f" until {clock_time(until, tz, now)}" if until else " until you say /available"
    return f"You're {CHOSEN[availability]}{when}{f' ({note})' if note else ''}."


HOURS_CLEARED = "Working hours cleared."


def hours_set(start_minute: int, end_minute: int, days: str, tz: str) -> str:
    return f"Working hours set: {hours_span(start_minute, end_minute)} {days} ({tz})."
