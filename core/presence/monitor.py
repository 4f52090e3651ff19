"""The presence monitor: signals in, availability out, each change emitted as (old, new)."""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple

from core.clock import Clock
from core.presence.availability import UNKNOWN_VERDICT, Availability, Verdict
from core.presence.record import (
    CANONICAL,
    INF,
    PUSHED_AVAILABILITY,
    Policy,
    PresenceRecord,
    PushedRecord,
    decide,
)
from core.presence.signals import (
    Activity,
    ClearHours,
    DoNotDisturb,
    Huddle,
    Native,
    Override,
    Signal,
    Status,
    WorkingHours,
)
from core.presence.store import PresenceStore

log = logging.getLogger(__name__)

FOLLOW_RETRY_SECONDS = 0.5  # how soon a lost feed is retried: rejoining is cheap, one SUBSCRIBE


_PUSHED_AVAIL, _UNKNOWN = PUSHED_AVAILABILITY.get, Availability.UNKNOWN
_PUSHED_VERDICTS = {
    state: decide(PushedRecord(state, 0.0), 0.0, Policy())[0] for state in PUSHED_AVAILABILITY
}
"""`decide`'s verdict for each native state alone (times filled in per change): the slow
path of a pushed-only record builds one Verdict instead of walking the precedence."""


class Change(NamedTuple):
    """A contact's availability moved: what it was, and the verdict it is now.

    A NamedTuple, not a frozen dataclass: one is built per real change on the gateway's hot
    path, and this builds in a quarter of the time.
    """

    key: str
    old: Availability
    new: Verdict


Listener = Callable[[Change], None]
Chosen = Callable[[list[str]], Awaitable[dict[str, tuple[float, list[Override | WorkingHours]]]]]
"""Reads back what people chose (`core.choices`): key -> (when, the choices still in force)."""


class PresenceMonitor:
    """Keeps the working set in process (fast reads), writes behind to a shared store."""

    def __init__(
        self,
        store: PresenceStore,
        clock: Clock,
        policy: Policy | None = None,
        chosen: Chosen | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or Policy()
        self.chosen = chosen
        self._records: dict[str, PushedRecord] = {}
        self._dirty: set[str] = set()
        self._deadlines: list[tuple[float, str]] = []
        self._listeners: list[Listener] = []
        self._store_down = False

    def on_change(self, listener: Listener) -> None:
        """Subscriptions, home tabs and pinned views hang off this."""
        self._listeners.append(listener)

    def __len__(self) -> int:
        return len(self._records)

    # -- signals in -------------------------------------------------------------------

    def native(self, key: str, state: str, ttl: float | None = None) -> Change | None:
        """The hot path: a platform presence event, as cheap as we can make it.

        Most events repeat the state with a new activity. For a contact with nothing but
        pushed presence (a `PushedRecord`, the usual case) they return after one dict
        lookup and two compares, before even reading the clock; a fuller record also checks
        its cached verdict still holds. Nothing is allocated on this path.
        """
        rec = self._records.get(key)
        if rec is not None and rec.native == state and ttl is None:
            if rec.__class__ is PushedRecord:
                return None  # same state pushed again (another guild, an activity change)
            if rec.native_until == INF and (
                rec.valid_until == INF or self.clock.now() < rec.valid_until
            ):
                return None
        return self._native(key, rec, state, ttl)

    def pushed(self, tracked: Callable[[str], str | None]) -> Callable[[str, str], Change | None]:
        """A gateway's presence events as one function: the hot path, cheapest first.

        An event repeating what a pushed-only record already says is a no-op whoever it is
        about, so that is checked before anything else: one dict lookup, no allocation.
        Only the rest ask `tracked` (`Tracking.canonical`: the shared key string, or None
        for someone in no community) and go through `native` with the shared key.
        """
        get, pushed_only, native, changed = (
            self._records.get,
            PushedRecord,
            self.native,
            self._native,
        )

        def on_pushed(key: str, state: str) -> Change | None:
            rec = get(key)
            if rec is not None and rec.__class__ is pushed_only:
                if rec.native == state:
                    return None
                shared = tracked(key)
                return None if shared is None else changed(shared, rec, state, None)
            shared = tracked(key)
            return None if shared is None else native(shared, state)

        return on_pushed

    def _native(
        self, key: str, rec: PushedRecord | None, state: str, ttl: float | None
    ) -> Change | None:
        now = self.clock.now()
        state = CANONICAL.get(state, state)
        if ttl is None and state in PUSHED_AVAILABILITY and rec.__class__ is not PresenceRecord:
            # Still nothing but pushed presence: each state has its own availability, so
            # the state changing is the availability changing, since now.
            old = Availability.UNKNOWN if rec is None else _PUSHED_AVAIL(rec.native, _UNKNOWN)
            if rec is None:
                rec = self._records[key] = PushedRecord(state, now)
            else:
                rec.native, rec.native_at = state, now
            self._dirty.add(key)
            v = _PUSHED_VERDICTS[state]  # what `decide` says of a pushed-only record, since now
            return self._emit(
                Change(key, old, Verdict(v.availability, v.reason, v.source, now, now))
            )
        full = self._full(key, rec)
        full.native = state
        full.native_at = now
        full.native_until = INF if ttl is None else now + ttl
        return self._settle(key, full, now)

    def _full(self, key: str, rec: PushedRecord | None) -> PresenceRecord:
        """The record as one that stores every field (replacing a pushed-only one)."""
        if isinstance(rec, PresenceRecord):
            return rec
        full = self._records[key] = PresenceRecord.of(rec)
        return full

    def observe(self, key: str, signal: Signal) -> Change | None:
        """Apply any signal; returns the change it caused, if any."""
        if isinstance(signal, Native):
            return self.native(key, signal.state, signal.ttl)
        now = self.clock.now()
        rec = self._full(key, self._records.get(key))
        if isinstance(signal, Activity):
            rec.active_at = now
        else:
            e = rec.ensure_extras()
            e.seen_at = now
            if isinstance(signal, DoNotDisturb):
                e.dnd_start, e.dnd_end = signal.start, signal.end
            elif isinstance(signal, Huddle):
                e.huddle = signal.active
            elif isinstance(signal, Status):
                e.status = signal if (signal.text or signal.emoji) else None
            elif isinstance(signal, Override):
                e.override = signal if signal.availability is not None else None
                e.override_at = now
            elif isinstance(signal, WorkingHours):
                e.hours = signal
            elif isinstance(signal, ClearHours):
                e.hours = None
            if e.unused():
                rec.extras = None
        return self._settle(key, rec, now)

    def _settle(
        self, key: str, rec: PresenceRecord, now: float, *, emit: bool = True
    ) -> Change | None:
        verdict, valid_until = decide(rec, now, self.policy)
        self._dirty.add(key)
        if valid_until != rec.valid_until and valid_until < INF:
            heapq.heappush(self._deadlines, (valid_until, key))
        rec.valid_until = valid_until
        old = rec.avail
        if verdict.availability == old:
            return None
        rec.avail = verdict.availability
        rec.since = now
        # Built directly rather than with dataclasses.replace, which costs ~5x more per change.
        v = verdict
        change = Change(
            key, old, Verdict(v.availability, v.reason, v.source, now, v.observed_at, v.until)
        )
        return self._emit(change) if emit else change

    def _emit(self, change: Change) -> Change:
        for listener in self._listeners:
            listener(change)
        return change

    # -- availability out -------------------------------------------------------------

    def availability(self, key: str) -> Availability:
        """Fast read for the grouping service: the cached verdict while it holds."""
        rec = self._records.get(key)
        if rec is None:
            return Availability.UNKNOWN
        if isinstance(rec, PresenceRecord):
            now = self.clock.now()
            if now >= rec.valid_until:
                self._settle(key, rec, now)
        return rec.avail

    def verdict(self, key: str) -> Verdict:
        """The full verdict, reason and source included, for explanations."""
        rec = self._records.get(key)
        if rec is None:
            return UNKNOWN_VERDICT
        now = self.clock.now()
        if isinstance(rec, PresenceRecord) and now >= rec.valid_until:
            self._settle(key, rec, now)
        verdict, _ = decide(rec, now, self.policy)
        return verdict

    def expire(self) -> list[Change]:
        """Re-decide every record whose verdict may have run out (overrides, DND, staleness)."""
        now = self.clock.now()
        changes: list[Change] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            due, key = heapq.heappop(self._deadlines)
            rec = self._records.get(key)
            if not isinstance(rec, PresenceRecord) or rec.valid_until != due:
                continue  # superseded by a later signal
            change = self._settle(key, rec, now)
            if change is not None:
                changes.append(change)
        return changes

    # -- sharing ----------------------------------------------------------------------

    async def load(self, keys: Iterable[str]) -> None:
        """Read through to the shared store for contacts this process has not seen."""
        missing = [k for k in keys if k not in self._records]
        if not missing:
            return
        try:
            found = await self.store.load(missing)
        except Exception as exc:  # the store is optional to a resolution: degrade, don't fail
            self._warn_down(exc)
            return
        for key, wire in found.items():
            self._adopt(key, wire)
        rest = [k for k in missing if k not in found]
        if rest and self.chosen is not None:
            try:
                restored = await self.chosen(rest)
            except Exception as exc:  # as with the store: a resolution goes on without them
                log.warning("could not read back chosen presence: %s", exc)
                return
            for key, (made, choices) in restored.items():
                self.restore(key, made, choices)

    def restore(self, key: str, made: float, choices: Iterable[Override | WorkingHours]) -> None:
        """Put back what a person chose (read from the database) where the record lacks it.

        What the record already holds wins: it came from a command or the shared store,
        both at least as new as the database. No listeners fire: the choice is not news.
        """
        rec = self._full(key, self._records.get(key))
        e = rec.ensure_extras()
        for choice in choices:
            if isinstance(choice, Override):
                if e.override is None:
                    e.override, e.override_at = choice, made
            elif e.hours is None:
                e.hours = choice
        if e.unused():
            rec.extras = None
        self._settle(key, rec, self.clock.now(), emit=False)

    def adopt(self, key: str, wire: bytes) -> None:
        """Take another process's record; no listeners fire (that process already told them)."""
        self._adopt(key, wire)

    def _adopt(self, key: str, wire: bytes) -> None:
        rec = PushedRecord.from_wire(wire)
        old = self._records.get(key)
        self._records[key] = rec
        if isinstance(rec, PresenceRecord):
            if old is not None:
                rec.avail = old.avail
            self._settle(key, rec, self.clock.now(), emit=False)
        self._dirty.discard(key)

    async def flush(self) -> int:
        """Write the records changed since the last flush; kept for later if the store is down."""
        if not self._dirty:
            return 0
        records = self._records
        batch = {k: records[k].to_wire() for k in self._dirty if k in records}
        try:
            await self.store.save(batch)
            if self._store_down:  # only a write the store confirmed says it is back
                await self.store.settle()
        except Exception as exc:
            self._warn_down(exc)
            return 0
        self._dirty.clear()
        if self._store_down:
            self._store_down = False
            log.warning("presence store is reachable again; shared presence resumed")
        return len(batch)

    async def forget(self, keys: Iterable[str], prefixes: tuple[str, ...] = ()) -> None:
        """People whose data was purged: no record of them here, nor (`keys`) in the store.

        `prefixes` drops local records only (another process purged, and cleared the store).
        """
        wanted = list(keys)
        gone = [k for k in self._records if k.startswith(prefixes)] if prefixes else []
        for key in (*wanted, *gone):
            self._records.pop(key, None)
            self._dirty.discard(key)
        if not wanted:
            return
        try:
            await self.store.forget(wanted)
        except Exception as exc:  # the records age out as unknown anyway; say so once
            self._warn_down(exc)

    async def follow(self) -> None:
        """Apply other processes' writes as they arrive (run as a task); rejoin after an outage."""
        while True:
            try:
                async for key, wire in self.store.feed():
                    self._adopt(key, wire)
            except Exception as exc:  # the store went away: warn once, resubscribe when back
                self._warn_down(exc)
            await asyncio.sleep(FOLLOW_RETRY_SECONDS)

    def _warn_down(self, exc: Exception) -> None:
        if not self._store_down:
            self._store_down = True
            log.warning(
                "presence store unreachable (%s); using what this process knows", type(exc).__name__
            )
