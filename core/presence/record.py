"""What the monitor knows about one contact, and the precedence that turns it into a verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgpack

from core.presence.availability import Availability, Verdict
from core.presence.signals import (
    DND,
    IDLE,
    NATIVE_STATES,
    OFFLINE,
    ONLINE,
    Override,
    Status,
    WorkingHours,
)
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


PUSHED_AVAILABILITY: dict[str | None, Availability] = {
    ONLINE: A.AVAILABLE,
    IDLE: A.IDLE,
    DND: A.BUSY,
    OFFLINE: A.OFFLINE,
}
"""What native presence alone means (one availability per state, none shared): `decide`'s
answer for a record that holds nothing else."""

CANONICAL: dict[str, str] = {state: state for state in NATIVE_STATES}
"""One shared string per native state: a freshly decoded "online" would otherwise stay alive
in every record (~55 B each at a million contacts), and comparing against a shared string
keeps the same-state check in cache."""

WIRE_VERSION = 2
"""msgpack array [version, native, native_at, until, active_at, since, extra?]: `until` None
is pushed presence, `active_at` 0 is never active, `since` None is `native_at`, and `extra`
is left off when there is none, so the usual record is about 20 bytes. Fields are only ever
appended: a reader takes the ones it knows and ignores the rest, so a record a newer
process wrote still loads here. Version 1 is the unversioned JSON list of six."""

_packb = msgpack.Packer(use_bin_type=True, autoreset=True).pack


class PushedRecord:
    """A contact whose only signal is pushed native presence: the common case, at millions.

    Two slots (the state and when it was seen); everything a fuller record stores is
    implied: availability follows the state, it has held since the state was seen, and it
    holds until the next event. Any other signal turns it into a `PresenceRecord`.
    """

    __slots__ = ("native", "native_at")

    # What the two slots imply (a PresenceRecord stores these in slots of its own).
    extras: Extras | None = None
    active_at = 0.0
    valid_until = INF
    native_until = INF

    def __init__(self, native: str | None = None, native_at: float = 0.0) -> None:
        self.native = native
        self.native_at = native_at

    @property
    def avail(self) -> Availability:
        return PUSHED_AVAILABILITY.get(self.native, A.UNKNOWN)

    @property
    def since(self) -> float:
        return self.native_at

    def to_wire(self) -> bytes:
        """One compact msgpack record for a shared store; the cached verdict is derived."""
        e = self.extras
        until = self.native_until
        since = self.since
        fields: list[object] = [
            WIRE_VERSION,
            self.native,
            self.native_at,
            None if until == INF else until,
            self.active_at or 0,  # an int 0 is one byte, a float 0.0 nine
            None if since == self.native_at else since,
        ]
        if e is not None and not e.empty():
            st, ov, h = e.status, e.override, e.hours
            fields.append(
                [
                    e.dnd_start,
                    e.dnd_end,
                    e.huddle,
                    [st.text, st.emoji, st.until] if st else None,
                    [ov.availability and ov.availability.value, ov.until, ov.note, e.override_at]
                    if ov
                    else None,
                    [h.start_minute, h.end_minute, sorted(h.days), h.tz] if h else None,
                    e.seen_at,
                ]
            )
        return _packb(fields)

    @staticmethod
    def from_wire(raw: bytes | str) -> PushedRecord:
        """Any version this code or an older one wrote, and newer ones' known fields."""
        if isinstance(raw, str):
            raw = raw.encode()
        # Version 1 was JSON, [native, native_at, until, active_at, since, extra]: tag it.
        fields = [1, *json.loads(raw)] if raw[:1] == b"[" else msgpack.unpackb(raw)
        if not isinstance(fields, list) or len(fields) < 6:
            raise ValueError(f"not a presence record: {raw[:40]!r}")
        native, native_at, until, active_at, since = fields[1:6]
        extra = fields[6] if len(fields) > 6 else None
        active_at = float(active_at)
        if since is None:
            since = native_at
        if native is not None:
            native = CANONICAL.get(native, native)
        if until is None and not active_at and extra is None and since == native_at:
            return PushedRecord(native, native_at)
        rec = PresenceRecord()
        rec.native, rec.native_at, rec.active_at, rec.since = native, native_at, active_at, since
        rec.native_until = INF if until is None else until
        if extra is not None:
            e = rec.ensure_extras()
            e.dnd_start, e.dnd_end, e.huddle, st, ov, h, e.seen_at = extra[:7]
            e.status = Status(st[0], st[1], st[2]) if st else None
            if ov:
                e.override = Override(A(ov[0]) if ov[0] else None, ov[1], ov[2])
                e.override_at = ov[3]
            e.hours = WorkingHours(h[0], h[1], frozenset(h[2]), h[3]) if h else None
        return rec


class PresenceRecord(PushedRecord):
    """A contact with more than pushed presence: activity, polled presence that expires,
    the rarer signals (in `extras`), or a verdict that moved on its own; slotted because
    there may be many."""

    __slots__ = ("active_at", "avail", "extras", "since", "valid_until")
    active_at: float
    avail: Availability
    extras: Extras | None
    since: float
    valid_until: float

    def __init__(self) -> None:
        super().__init__()
        self.active_at = 0.0
        self.extras = None
        self.avail = A.UNKNOWN
        self.since = 0.0
        self.valid_until = 0.0  # 0: the cached verdict must be computed

    @classmethod
    def of(cls, rec: PushedRecord | None) -> PresenceRecord:
        """A full record holding what `rec` implies (a new one for None)."""
        if isinstance(rec, PresenceRecord):
            return rec
        full = cls()
        if rec is not None:
            full.native, full.native_at = rec.native, rec.native_at
            full.since, full.avail, full.valid_until = rec.native_at, rec.avail, INF
        return full

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


def decide(rec: PushedRecord, now: float, policy: Policy) -> tuple[Verdict, float]:
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
