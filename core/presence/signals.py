"""Presence signals: one observation about a contact, as adapters report it."""

from __future__ import annotations

from dataclasses import dataclass

from core.presence.availability import Availability

# Native states after normalisation: Slack active/away and Discord online/idle/dnd/offline.
ONLINE = "online"
IDLE = "idle"
DND = "dnd"
OFFLINE = "offline"
NATIVE_STATES = frozenset({ONLINE, IDLE, DND, OFFLINE})


@dataclass(frozen=True, slots=True)
class Native:
    """The platform's own presence; `ttl` None means pushed and valid until replaced."""

    state: str
    ttl: float | None = None
    source: str = "platform"


@dataclass(frozen=True, slots=True)
class Activity:
    """The person did something (message, reaction, opened the home tab)."""

    kind: str = "activity"


@dataclass(frozen=True, slots=True)
class DoNotDisturb:
    """Do-not-disturb window; end None clears it."""

    start: float | None
    end: float | None


@dataclass(frozen=True, slots=True)
class Huddle:
    """In a call (Slack huddle)."""

    active: bool


@dataclass(frozen=True, slots=True)
class Status:
    """Status text and emoji, with the platform's expiry (None: until cleared)."""

    text: str
    emoji: str = ""
    until: float | None = None


@dataclass(frozen=True, slots=True)
class Override:
    """`/available`, `/away`, `/busy`: wins over everything else until it expires."""

    availability: Availability | None  # None clears the override
    until: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Working hours in a time zone; days are 0=Monday … 6=Sunday."""

    start_minute: int
    end_minute: int
    days: frozenset[int]
    tz: str


@dataclass(frozen=True, slots=True)
class ClearHours:
    """`/hours off`."""


Signal = Native | Activity | DoNotDisturb | Huddle | Status | Override | WorkingHours | ClearHours
