"""The command grammar, for platforms that give text (Slack's slash commands, the shell):
`/command text` in, one typed command (`core.commands.actions`) or a specific error out.

The builders here (`set_availability`, `working_hours`) also serve adapters whose platform
hands over the parts separately (Discord's options), so both paths share every rule.
"""

from __future__ import annotations

import re

from core.commands.actions import (
    COMMANDS,
    Ask,
    Cancel,
    Command,
    Help,
    MyAsks,
    SetAvailability,
    SetHours,
    Why,
)
from core.commands.community import community, rest_of
from core.commands.rules import MAX_COUNT, CommandError, clip, did_you_mean, handle_of
from core.domain import Mode
from core.presence.availability import Availability
from core.texts.help import USAGE, commands_line
from core.timewords import (
    HOURS_RE,
    NOT_YET,
    NUMBER_RE,
    UNIT_OF,
    days_label,
    parse_days,
    parse_duration,
    zones,
)

FLAGS = ("--one", "--all", "--count", "--everyone")
SMALL_NUMBER_RE = re.compile(r"[0-9]{1,3}")
UNTIL = ("until", "till", "til")
SIGNED_RE = re.compile(r"[-+−]\.?[0-9]")  # `-1h`, `+2h`: a duration with a sign, never a note
CHOSEN = {"away": Availability.OFFLINE, "busy": Availability.BUSY}


def parse(command: str, text: str) -> Command:
    """Parse `/command text`. Raises CommandError, never anything else."""
    name = command.strip().lstrip("/").lower()
    words = text.split()
    if name == "ask-available":
        if words and words[0].lower() == "why" and len(words) <= 2:
            return _why(words[1:])
        if words and words[0].lower() == "cancel" and len(words) <= 2:
            return _cancel(words[1:])
        return _ask(words, text)
    if name == "community":
        return community(words, text)
    if name in ("available", "away", "busy"):
        duration, rest = leading_duration(words, USAGE[name])
        return _chosen(name, duration, " ".join(rest))
    if name == "hours":
        return _hours(words)
    if name == "help":
        return Help()
    if name == "asks":
        if words:
            raise CommandError(
                f"/asks takes nothing after it (got “{clip(words[0])}”); "
                "/ask-available why <number> reads one ask",
                USAGE["asks"],
            )
        return MyAsks()
    raise CommandError(
        f"unknown command /{clip(name)}.{did_you_mean(name, COMMANDS, '/')}",
        commands_line(COMMANDS),
    )


def leading_duration(words: list[str], usage: str) -> tuple[float | None, list[str]]:
    """A duration at the start (`2h`, `1.5h`, `2 hours`, `for 90m`) and the words after it.

    What looks like a time but is not one we understand is refused in words, never
    swallowed into the note.
    """
    rest = words[1:] if words and words[0].lower() == "for" and len(words) > 1 else words
    if not rest:
        return None, words
    first = rest[0].lower()
    if len(rest) > 1 and NUMBER_RE.fullmatch(first) and rest[1].lower() in UNIT_OF:
        return parse_duration(first + UNIT_OF[rest[1].lower()]), rest[2:]
    if (seconds := parse_duration(first)) is not None:
        return seconds, rest[1:]
    if first in NOT_YET:
        raise CommandError(
            f"“{clip(' '.join(rest[: 2 if first in UNTIL else 1]))}” is a time, not a duration: "
            f"{usage.split()[0]} takes a duration such as 2h or 90m",
            usage,
        )
    if first[:1].isdigit() or SIGNED_RE.match(first) or rest is not words:
        raise CommandError(
            f"“{clip(rest[0])}” is not a duration: say 30m, 1.5h, 2 hours or 3d", usage
        )
    return None, words


def set_availability(name: str, duration: str, note: str) -> SetAvailability:
    """`/available`, `/away` or `/busy` from a duration and a note given apart (Discord's
    options): the duration must be one, whole; the note is never read as a duration."""
    usage = USAGE[name]
    words = duration.split()
    seconds, rest = leading_duration(words, usage)
    if words and (seconds is None or rest):
        raise CommandError(
            f"“{clip(duration.strip())}” is not a duration: say 30m, 1.5h, 2 hours or 3d", usage
        )
    return _chosen(name, seconds, note)


def working_hours(span: str, days: str = "", tz: str = "") -> SetHours:
    """`/hours 09:00-17:30 [days] [time zone]` from its parts (Discord's options), or `off`."""
    if span.strip().lower() == "off" and not days.strip() and not tz.strip():
        return SetHours(None)
    return _working_hours(span, days, tz)


def _working_hours(span: str, days: str, tz: str) -> SetHours:
    usage = USAGE["hours"]
    m = HOURS_RE.match(span.strip())
    if not m:
        raise CommandError(f"“{clip(span.strip())}” is not a time range like 09:00-17:30", usage)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise CommandError("hours run from 00:00 to 24:00", usage)
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise CommandError("the start and end of working hours are the same", usage)
    on, label = frozenset(range(5)), "Mon-Fri"
    if days.strip():
        parsed = parse_days(days.strip())
        if parsed is None:
            raise CommandError(f"“{clip(days.strip())}” is not days like Mon-Fri", usage)
        on, label = parsed, days_label(days.strip())
    zone = None
    if tz.strip():
        zone = zones().get(tz.strip().lower())
        if zone is None:
            raise CommandError(f"“{clip(tz.strip())}” is not a time zone like Europe/Berlin", usage)
    return SetHours(start, end % 1440, on, zone, label)


def _chosen(name: str, duration: float | None, note: str) -> SetAvailability:
    """The command's availability: `/available` alone is back to automatic (None)."""
    if name == "available":
        return SetAvailability(Availability.AVAILABLE if duration else None, duration, note)
    return SetAvailability(CHOSEN[name], duration, note)


def _cancel(words: list[str]) -> Cancel:
    """`cancel` alone, or `cancel 12` / `cancel #12` (the numbers `/asks` shows)."""
    if not words:
        return Cancel(None)
    raw = words[0].removeprefix("#")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", raw):
        raise CommandError(
            f"“{clip(words[0])}” is not an ask number (/asks shows your open asks' numbers)",
            USAGE["ask-available cancel"],
        )
    return Cancel(int(raw))


def _why(words: list[str]) -> Why:
    """`why` alone, or `why 12` / `why #12` (a community called `why` is asked with a message)."""
    if not words:
        return Why(None)
    raw = words[0].removeprefix("#")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", raw):
        raise CommandError(f"“{clip(words[0])}” is not an ask number", USAGE["ask-available why"])
    return Why(int(raw))


def _ask(words: list[str], text: str) -> Ask:
    usage = USAGE["ask-available"]
    if not words:
        raise CommandError("say which community to ask, and what", usage)
    handle = handle_of(words[0], usage)
    mode, count = Mode.ONE, 1
    rest = words[1:]
    seen_mode = False
    while rest and rest[0].startswith("--"):
        flag, _, inline = rest.pop(0).partition("=")
        if seen_mode:
            raise CommandError(
                "give one of --one, --all, --count N or --everyone, not several", usage
            )
        seen_mode = True
        if flag == "--one":
            mode = Mode.ONE
        elif flag == "--all":
            mode = Mode.AVAILABLE
        elif flag == "--everyone":
            mode = Mode.EVERYONE
        elif flag == "--count":
            raw = inline or (rest.pop(0) if rest else "")
            if not SMALL_NUMBER_RE.fullmatch(raw) or not 1 <= int(raw) <= MAX_COUNT:
                raise CommandError(f"--count takes a number from 1 to {MAX_COUNT}", usage)
            mode, count = Mode.SOME, int(raw)
        else:
            raise CommandError(f"unknown option {clip(flag)}", usage)
    return Ask(handle, mode, count, rest_of(text, len(words) - len(rest)))


def _hours(words: list[str]) -> SetHours:
    """`/hours 09:00-17:30 [days] [zone]`, the days and the zone in either order."""
    usage = USAGE["hours"]
    if words == ["off"]:
        return SetHours(None)
    if not words or len(words) > 3:
        raise CommandError("give your hours like 09:00-17:30", usage)
    days = tz = ""
    odd = [w for w in words[1:] if parse_days(w) is None and w.lower() not in zones()]
    for word in words[1:]:
        if parse_days(word) is not None:
            days = word
        elif word.lower() in zones():
            tz = word
    hours = _working_hours(words[0], days, tz)  # a bad range is the first thing said
    if odd:
        raise CommandError(
            f"“{clip(odd[0])}” is neither days like Mon-Fri nor a time zone like Europe/Berlin",
            usage,
        )
    return hours
