"""The presence monitor: signals in, availability out, each change emitted as (old, new)."""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.clock import Clock
from core.presence.availability import UNKNOWN_VERDICT, Availability, Verdict
from core.presence.record import INF, Policy, PresenceRecord, decide
from core.presence.signals import (
    NATIVE_STATES,
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

_CANONICAL = {state: state for state in NATIVE_STATES}
"""One shared string per native state: a gateway's freshly decoded "online" would otherwise
stay alive in every record (~55 B each at a million contacts), and comparing against a
shared string keeps the same-state check in cache."""


@dataclass(frozen=True, slots=True)
class Change:
    """A contact's availability moved: what it was, and the verdict it is now."""

    key: str
    old: Availability
    new: Verdict


Listener = Callable[[Change], None]


class PresenceMonitor:
    """Keeps the working set in process (fast reads), writes behind to a shared store."""

    def __init__(self, store: PresenceStore, clock: Clock, policy: Policy | None = None) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or Policy()
        self._records: dict[str, PresenceRecord] = {}
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

        Most events repeat the state with a new activity; when the cached verdict holds
        forever (``valid_until`` is INF, the usual case for pushed presence) they return
        before even reading the clock, which is the dearest call left on this path.
        """
        rec = self._records.get(key)
        if (
            rec is not None
            and rec.native == state
            and ttl is None
            and (rec.extras is None or rec.extras.native_until == INF)
            and (rec.valid_until == INF or self.clock.now() < rec.valid_until)
        ):
            return None  # same state pushed again (another guild, an activity change)
        now = self.clock.now()
        if rec is None:
            rec = self._records[key] = PresenceRecord()
        rec.native = _CANONICAL.get(state, state)
        rec.native_at = now
        rec.native_until = INF if ttl is None else now + ttl
        return self._settle(key, rec, now)

    def observe(self, key: str, signal: Signal) -> Change | None:
        """Apply any signal; returns the change it caused, if any."""
        if isinstance(signal, Native):
            return self.native(key, signal.state, signal.ttl)
        now = self.clock.now()
        rec = self._records.get(key)
        if rec is None:
            rec = self._records[key] = PresenceRecord()
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
        if emit:
            for listener in self._listeners:
                listener(change)
        return change

    # -- availability out -------------------------------------------------------------

    def availability(self, key: str) -> Availability:
        """Fast read for the grouping service: the cached verdict while it holds."""
        rec = self._records.get(key)
        if rec is None:
            return Availability.UNKNOWN
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
        if now >= rec.valid_until:
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
            if rec is None or rec.valid_until != due:
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

    def adopt(self, key: str, wire: str) -> None:
        """Take another process's record; no listeners fire (that process already told them)."""
        self._adopt(key, wire)

    def _adopt(self, key: str, wire: str) -> None:
        rec = PresenceRecord.from_wire(wire)
        old = self._records.get(key)
        if old is not None:
            rec.avail = old.avail
        self._records[key] = rec
        self._settle(key, rec, self.clock.now(), emit=False)
        self._dirty.discard(key)

    async def flush(self) -> int:
        """Write the records changed since the last flush; kept for later if the store is down."""
        if not self._dirty:
            return 0
        batch = {k: self._records[k].to_wire() for k in self._dirty if k in self._records}
        try:
            await self.store.save(batch)
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
