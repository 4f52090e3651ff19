"""What people can ask groupcast to do: one frozen type per action, valid once built.

Every way in hands the engine one of these: text (Slack's slash commands, the shell) read by
`core.commands.grammar`, Discord's options mapped field by field, the API's body. A value
that exists is valid: a bad handle, an empty or overlong message or a number out of range
raises `CommandError` while it is built, so no path reaches the core unchecked. The
`/community` actions are in `core.commands.community_actions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.commands.community_actions import CommunityCommand
from core.commands.rules import (
    MAX_COUNT,
    MAX_NOTE,
    CommandError,
    handle_of,
    set_field,
    storable,
    too_long,
)
from core.domain import Mode
from core.presence.availability import Availability
from core.texts.help import USAGE
from core.timewords import MAX_DURATION

COMMANDS = ("ask-available", "community", "available", "away", "busy", "hours", "asks", "help")
"""Every slash command, on every platform (Slack's manifest and Discord's tree hold the same)."""


@dataclass(frozen=True, slots=True)
class Ask:
    """`/ask-available <handle> [mode] <message>`; `count` is N of `--count N`, else 1."""

    handle: str
    mode: Mode
    count: int
    text: str

    def __post_init__(self) -> None:
        usage = USAGE["ask-available"]
        set_field(self, "handle", handle_of(self.handle, usage))
        if self.mode is Mode.SOME and not 1 <= self.count <= MAX_COUNT:
            raise CommandError(f"--count takes a number from 1 to {MAX_COUNT}", usage)
        if self.mode is not Mode.SOME and self.count != 1:
            raise CommandError("a number of people goes with --count only", usage)
        text = self.text.strip()
        if not text:
            raise CommandError("the message is empty: say what you need", usage)
        storable(text, "message", usage)
        if refused := too_long(text):
            raise CommandError(refused, usage)
        set_field(self, "text", text)


@dataclass(frozen=True, slots=True)
class Why:
    """`/ask-available why [N]`: the stored audit of an ask (None: the caller's latest)."""

    request_id: int | None

    def __post_init__(self) -> None:
        if self.request_id is not None and not 0 < self.request_id < 10**9:
            raise CommandError("that is not an ask number", USAGE["ask-available why"])


@dataclass(frozen=True, slots=True)
class Cancel:
    """`/ask-available cancel [N]`: the caller calls off ask N (None: their latest open one)."""

    request_id: int | None

    def __post_init__(self) -> None:
        if self.request_id is not None and not 0 < self.request_id < 10**9:
            raise CommandError(
                "that is not an ask number (/asks shows your open asks' numbers)",
                USAGE["ask-available cancel"],
            )


@dataclass(frozen=True, slots=True)
class MyAsks:
    """`/asks`: the caller's open asks and where each stands."""


@dataclass(frozen=True, slots=True)
class Help:
    """`/help` or `/community help`: what can be typed, in full."""

    topic: str = ""


@dataclass(frozen=True, slots=True)
class SetAvailability:
    """`/available`, `/away`, `/busy`; availability None means back to automatic."""

    availability: Availability | None
    duration: float | None
    note: str

    @property
    def command(self) -> str:
        return {Availability.OFFLINE: "away", Availability.BUSY: "busy"}.get(
            self.availability or Availability.AVAILABLE, "available"
        )

    def __post_init__(self) -> None:
        usage = USAGE[self.command]
        if self.duration is not None and not 60 <= self.duration <= MAX_DURATION:
            raise CommandError("a duration is between 1m and 90d", usage)
        set_field(self, "note", self.note.strip())
        if self.command == "available" and self.note:
            raise CommandError("/available takes only an optional duration such as 2h", usage)
        storable(self.note, "note", usage)
        if len(self.note) > MAX_NOTE:
            raise CommandError(f"the note is too long (at most {MAX_NOTE} characters)", usage)


@dataclass(frozen=True, slots=True)
class SetHours:
    """`/hours`; start None means `/hours off`. Minutes of the day, the end taken mod 24h."""

    start_minute: int | None
    end_minute: int = 0
    days: frozenset[int] = frozenset()
    tz: str | None = None
    label: str = field(default="Mon-Fri", compare=False)  # the days as the user wrote them

    def __post_init__(self) -> None:
        if self.start_minute is None:
            return
        inside = 0 <= self.start_minute < 1440 and 0 <= self.end_minute < 1440
        if not inside or not self.days or not self.days <= frozenset(range(7)):
            raise CommandError("hours run from 00:00 to 24:00 on some days", USAGE["hours"])


Command = Ask | Why | Cancel | MyAsks | Help | SetAvailability | SetHours | CommunityCommand
