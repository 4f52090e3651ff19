"""Why someone is or is not available, or was not asked: the reasons a requester reads.

A leaf: the presence rules (`core.presence.record`) and the resolver (`core.grouping`) take
their words from here, and audits store them as written.
"""

from __future__ import annotations

from core.texts.time import hours_span

# -- availability (core.presence.record.decide) -------------------------------------------
DND = "do-not-disturb"
HUDDLE = "in a huddle"
ONLINE = "online"
ACTIVE = "active just now"
IDLE = "away"
OFFLINE = "not connected"
STALE = "presence is stale"
NO_PRESENCE = "no presence seen yet"


def set_by_hand(note: str) -> str:
    """`/away 1h lunch` reads `set by hand: lunch`."""
    return f"set by hand: {note}" if note else "set by hand"


def status(shown: str) -> str:
    return f"status “{shown}”"


def outside_hours(start_minute: int, end_minute: int, tz: str) -> str:
    return f"outside working hours ({hours_span(start_minute, end_minute)} {tz})"


# -- not asked (core.grouping.resolve) ----------------------------------------------------
ITS_YOU = "that's you"  # never shown: the requester knows they did not ask themselves
ALREADY_ASKED = "already asked for this request"
NOT_NEEDED = "available, not needed"


def at_capacity(open_asks: int, capacity: int) -> str:
    return f"already holds {open_asks} open asks (capacity {capacity})"
