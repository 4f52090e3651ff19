"""What the monitor knows about one contact, and the precedence that turns it into a verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.presence.availability import Availability, Verdict
from core.presence.signals import DND, IDLE, OFFLINE, ONLINE, Override, Status, WorkingHours
from core.texts import reasons
from core.timewords import zone

INF = float("inf")
A = Availability


@dataclass(frozen=True, slots=True)
class Policy:
    """Tunables of the precedence: which status words mean away or busy, how long activity counts."""

    away_words: tuple[str, ...] = ("vacation", "holiday", "ooo", "out of office", "sick", "away")
    busy_words: tuple[str, ...] = ("meeting", "in a call", "focus")
    activity_window: float = 600.0
    native_ttl: float = 900.0


class Extras:
    """The rarely-set signals, kept apart so a typical record stays small."""

    __slots__ = (
        "dnd_end",
        "dnd_start",
        "hours",
        "huddle",
        "native_until",
        "override",
        "override_at",
        "seen_at",
        "status",
    )

    def __init__(self) -> None:
        self.dnd_start: float | None = None
        self.dnd_end: float | None = None
        self.huddle = False
        self.status: Status | None = None
        self.override: Override | None = None
        self.override_at = 0.0
        self.hours: WorkingHours | None = None
        self.seen_at = 0.0  # when the latest of these signals arrived: the age of their verdicts
        self.native_until = INF  # polled presence (Slack) expires; pushed presence never does

    def unused(self) -> bool:
        """Nothing here any more: the record can drop this object."""
        return self.empty() and self.native_until == INF

    def empty(self) -> bool:
        """No signal beyond native presence (what the wire's extra part carries)."""
        return (
            self.dnd_end is None
            and not self.huddle
            and self.status is None
            and self.override is None
            and self.hours is None
        )


class PresenceRecord:
    """One contact's signals plus the cached verdict; slotted because there may be millions."""

    # Seven slots: every one more costs 8 B a contact, a million times over; expiring
    # (polled) presence keeps its deadline in `extras`, which pushed presence never needs.
    __slots__ = ("active_at", "avail", "extras", "native", "native_at", "since", "valid_until")

    def __init__(self) -> None:
        self.native: str | None = None
        self.native_at = 0.0
        self.active_at = 0.0
        self.extras: Extras | None = None
        self.avail = A.UNKNOWN
        self.since = 0.0
        self.valid_until = 0.0  # 0: the cached verdict must be computed

    @property
    def native_until(self) -> float:
        """When the native presence goes stale (INF: pushed, valid until replaced)."""
        e = self.extras
        return INF if e is None else e.native_until

    @native_until.setter
    def native_until(self, value: float) -> None:
        if value != INF:
            self.ensure_extras().native_until = value
        elif self.extras is not None:
            self.extras.native_until = INF
            if self.extras.unused():
                self.extras = None

    def ensure_extras(self) -> Extras:
        if self.extras is None:
            self.extras = Extras()
        return self.extras

    def to_wire(self) -> str:
        """Compact JSON for a shared store; the cached verdict is derived, so not sent."""
        e = self.extras
        extra = None
        if e is not None and not e.empty():
            st, ov, h = e.status, e.override, e.hours
            extra = [
                e.dnd_start,
                e.dnd_end,
                e.huddle,
                [st.text, st.emoji, st.until] if st else None,
                [ov.availability, ov.until, ov.note, e.override_at] if ov else None,
                [h.start_minute, h.end_minute, sorted(h.days), h.tz] if h else None,
                e.seen_at,
            ]
        until = None if self.native_until == INF else self.native_until
        return json.dumps(
            [self.native, self.native_at, until, self.active_at, self.since, extra],
            separators=(",", ":"),
        )

    @classmethod
    def from_wire(cls, raw: str | bytes) -> PresenceRecord:
        native, native_at, until, active_at, since, extra = json.loads(raw)
        rec = cls()
        rec.native, rec.native_at, rec.active_at, rec.since = native, native_at, active_at, since
        rec.native_until = INF if until is None else until
        if extra is not None:
            e = rec.ensure_extras()
            e.dnd_start, e.dnd_end, e.huddle, st, ov, h, e.seen_at = extra
            e.status = Status(st[0], st[1], st[2]) if st else None
            if ov:
                e.override = Override(A(ov[0]) if ov[0] else None, ov[1], ov[2])
                e.override_at = ov[3]
            e.hours = WorkingHours(h[0], h[1], frozenset(h[2]), h[3]) if h else None
        return rec


def hours_window(h: WorkingHours, now: float) -> tuple[bool, float]:
    """Whether `now` is inside working hours, and when that next changes."""
    local = datetime.fromtimestamp(now, zone(h.tz))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    length = timedelta(minutes=(h.end_minute - h.start_minute) % 1440 or 1440)
    inside, nxt = False, INF
    for offset in range(-1, 8):  # yesterday's shift may still run; a week ahead finds the next
        day = midnight + timedelta(days=offset)
        if day.weekday() not in h.days:
            continue
        start = day + timedelta(minutes=h.start_minute)
        if start <= local < start + length:
            inside, nxt = True, min(nxt, (start + length).timestamp())
        elif start > local:
            nxt = min(nxt, start.timestamp())
    return inside, nxt


def _matches(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(w in low for w in words)


def decide(rec: PresenceRecord, now: float, policy: Policy) -> tuple[Verdict, float]:
    """Apply the design's precedence; return the verdict and until when it holds for sure.

    manual override > do-not-disturb or huddle > away status > outside working hours >
    native presence and recent activity > unknown. Stale native presence counts for nothing.
    """
    horizon = INF
    e = rec.extras
    if e is not None:
        ov = e.override
        if ov is not None and ov.availability is not None and (ov.until is None or now < ov.until):
            reason = reasons.set_by_hand(ov.note)
            return (
                Verdict(ov.availability, reason, "manual", rec.since, e.override_at, ov.until),
                ov.until if ov.until is not None else INF,
            )
        if e.dnd_end is not None and now < e.dnd_end:
            if e.dnd_start is None or e.dnd_start <= now:
                return Verdict(
                    A.BUSY, reasons.DND, "dnd", rec.since, e.seen_at, e.dnd_end
                ), e.dnd_end
            horizon = min(horizon, e.dnd_start)
        if e.huddle:
            return Verdict(A.BUSY, reasons.HUDDLE, "huddle", rec.since, e.seen_at), horizon
        st = e.status
        if st is not None and (st.until is None or now < st.until):
            if st.until is not None:
                horizon = min(horizon, st.until)
            shown = f"{st.emoji} {st.text}".strip()
            if _matches(st.text, policy.away_words) or _matches(st.emoji, policy.away_words):
                return Verdict(
                    A.OFFLINE, reasons.status(shown), "status", rec.since, e.seen_at, st.until
                ), horizon
            if _matches(st.text, policy.busy_words) or _matches(st.emoji, policy.busy_words):
                return Verdict(
                    A.BUSY, reasons.status(shown), "status", rec.since, e.seen_at, st.until
                ), horizon
        if e.hours is not None:
            inside, change = hours_window(e.hours, now)
            if not inside:
                h = e.hours
                return (
                    Verdict(
                        A.OFFLINE,
                        reasons.outside_hours(h.start_minute, h.end_minute, h.tz),
                        "hours",
                        rec.since,
                        e.seen_at,
                        change,
                    ),
                    min(horizon, change),
                )
            horizon = min(horizon, change)
    native_until = INF if e is None else e.native_until
    # Activity counts while it is recent and newer than what the platform last said:
    # someone who went idle or offline after their last message is idle or offline.
    recent = (
        rec.active_at > rec.native_at
        and rec.active_at > 0
        and now < rec.active_at + policy.activity_window
    )
    native = rec.native if now < native_until else None
    if native == DND:
        return Verdict(A.BUSY, reasons.DND, "platform", rec.since, rec.native_at), min(
            horizon, native_until
        )
    if native == ONLINE:
        return Verdict(A.AVAILABLE, reasons.ONLINE, "platform", rec.since, rec.native_at), min(
            horizon, native_until
        )
    if recent:
        until = rec.active_at + policy.activity_window
        if now < native_until:  # fresh native presence may take over before activity wears off
            until = min(until, native_until)
        return Verdict(A.AVAILABLE, reasons.ACTIVE, "activity", rec.since, rec.active_at), min(
            horizon, until
        )
    if native == IDLE:
        return Verdict(A.IDLE, reasons.IDLE, "platform", rec.since, rec.native_at), min(
            horizon, native_until
        )
    if native == OFFLINE:
        return Verdict(A.OFFLINE, reasons.OFFLINE, "platform", rec.since, rec.native_at), min(
            horizon, native_until
        )
    if rec.native is not None:
        return Verdict(A.UNKNOWN, reasons.STALE, "platform", rec.since, rec.native_at), horizon
    return Verdict(A.UNKNOWN, reasons.NO_PRESENCE, "none", rec.since, 0.0), horizon
