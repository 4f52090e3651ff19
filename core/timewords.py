"""Words for time in commands: durations (`90m`, `1.5h`, `2 hours`), days (`Mon-Fri`, `Sun-Thu`)
and time zones by any capitalisation (and looked up once). Pure parsing; the grammar decides
what is an error."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_DURATION = 90 * 86400  # the longest /away, /busy or :advance

DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(w|d|h|m|s)")
UNIT_WORDS = {
    "w": ("w", "wk", "wks", "week", "weeks"),
    "d": ("d", "day", "days"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "second", "seconds"),
}
UNIT_OF = {word: unit for unit, words in UNIT_WORDS.items() for word in words}
NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
NOT_YET = {"until", "till", "til", "tomorrow", "tonight", "today"}
HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(word: str) -> float | None:
    """`90s`, `30m`, `1.5h`, `1h30m`, `3d`, `1w`; None if the word is not a duration."""
    w = word.lower()
    parts = DURATION_RE.findall(w)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != w.replace(" ", ""):
        return None
    if any(len(n) > 9 for n, _ in parts):
        return float("inf")  # a duration, just far too long: refused by range, never overflowed
    unit = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    return float(round(sum(float(n) * unit[u] for n, u in parts)))


def days_label(word: str) -> str:
    """`sun-thu` as `Sun-Thu`: the user's order kept, each day's name capitalised."""
    return re.sub(r"[a-z]+", lambda m: m.group(0)[:3].capitalize(), word.lower())


def parse_days(word: str) -> frozenset[int] | None:
    """`Mon-Fri`, `Sat,Sun`, `Mon`; None if the word is not days."""
    out: set[int] = set()
    for part in word.lower().split(","):
        a, _, b = part.partition("-")
        if a[:3] not in DAYS or (b and b[:3] not in DAYS) or len(a) > 9 or len(b) > 9:
            return None
        i, j = DAYS.index(a[:3]), DAYS.index(b[:3]) if b else DAYS.index(a[:3])
        k = i
        while True:
            out.add(k)
            if k == j:
                break
            k = (k + 1) % 7
    return frozenset(out)


_ZONES: dict[str, str] | None = None


def zones() -> dict[str, str]:
    """Every IANA zone by its lower-case name, so `europe/berlin` is Europe/Berlin."""
    global _ZONES
    if _ZONES is None:
        _ZONES = {z.lower(): z for z in available_timezones()}
    return _ZONES


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """Time zones are looked up once; an unknown name falls back to UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
