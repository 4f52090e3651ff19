"""The monitor's verdict: one availability per contact, with reason, source and age."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.texts import reasons


class Availability(StrEnum):
    """What the grouping service needs to know about a person right now."""

    AVAILABLE = "available"
    IDLE = "idle"
    BUSY = "busy"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Availability plus why: every skip reason shown to a requester comes from here."""

    availability: Availability
    reason: str
    source: str
    since: float
    observed_at: float
    until: float | None = None

    def age(self, now: float) -> float:
        return max(0.0, now - self.observed_at)


UNKNOWN_VERDICT = Verdict(Availability.UNKNOWN, reasons.NO_PRESENCE, "none", 0.0, 0.0)
