"""What people chose about their own presence, kept in the database.

`/away`, `/busy`, `/available` and `/hours` live in the presence monitor, which without a
shared store is process memory: this writes them to the contact's row as they are typed and
puts them back into the monitor when a process starts or meets a contact it holds no record for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tortoise.expressions import Q

from core import keys
from core.clock import Clock, to_datetime, to_epoch
from core.presence.availability import Availability
from core.presence.signals import ClearHours, Override, WorkingHours
from core.store.models import Contact

Choice = Override | WorkingHours
"""One remembered choice, as the signal that set it."""

_COLUMNS = (
    "tenant__external_id",
    "user_id",
    "override",
    "override_until",
    "override_note",
    "override_at",
    "hours_start",
    "hours_end",
    "hours_days",
    "hours_tz",
)
_CHOSEN = Q(override__not_isnull=True) | Q(hours_start__not_isnull=True)


class Choices:
    """Saves each choice with the command that makes it; reads them back per key."""

    def __init__(self, platform: str, clock: Clock) -> None:
        self.platform = platform
        self.clock = clock
        self._asked: set[str] = set()
        """Keys already read back (found or not): a contact is read from the database once."""

    async def save(self, contact_id: int, signal: Override | WorkingHours | ClearHours) -> None:
        """Write what the contact just typed; the other kind of choice is left as it was."""
        values: dict[str, Any]
        if isinstance(signal, Override):
            chosen = signal.availability is not None
            values = {
                "override": signal.availability.value if signal.availability else None,
                "override_until": to_datetime(signal.until) if signal.until else None,
                "override_note": signal.note if chosen else "",
                "override_at": to_datetime(self.clock.now()) if chosen else None,
            }
        elif isinstance(signal, WorkingHours):
            values = {
                "hours_start": signal.start_minute,
                "hours_end": signal.end_minute,
                "hours_days": "".join(str(d) for d in sorted(signal.days)),
                "hours_tz": signal.tz,
            }
        else:
            values = {"hours_start": None}
        await Contact.filter(id=contact_id).update(**values)

    async def keys(self) -> list[str]:
        """Every contact of this platform with something chosen (at start-up: a few rows)."""
        rows = await Contact.filter(_CHOSEN, tenant__platform=self.platform).values_list(
            "tenant__external_id", "user_id"
        )
        return [keys.encode(self.platform, str(t), str(u)) for t, u in rows]

    async def load(self, wanted: Sequence[str]) -> dict[str, tuple[float, list[Choice]]]:
        """The choices still in force for these keys, each with when it was made.

        Each key is read once per process: after that the monitor holds its record (or
        there was nothing to hold). An override that ran out before now is not returned.
        """
        fresh = [k for k in wanted if k not in self._asked]
        if not fresh:
            return {}
        self._asked.update(fresh)
        by_tenant: dict[str, set[str]] = {}
        for key in fresh:
            parts = keys.ContactKey.decode(key)
            if parts.platform == self.platform:
                by_tenant.setdefault(parts.tenant, set()).add(parts.user)
        if not by_tenant:
            return {}
        users = set().union(*by_tenant.values())
        rows = await Contact.filter(
            _CHOSEN,
            tenant__platform=self.platform,
            tenant__external_id__in=list(by_tenant),
            user_id__in=list(users),
        ).values_list(*_COLUMNS)
        now = self.clock.now()
        out: dict[str, tuple[float, list[Choice]]] = {}
        for row in rows:
            tenant, user = str(row[0]), str(row[1])
            if user in by_tenant.get(tenant, ()):
                made, choices = _choices(row, now)
                if choices:
                    out[keys.encode(self.platform, tenant, user)] = (made, choices)
        return out

    def forget(self, wanted: Iterable[str]) -> None:
        """Read these keys again next time (their records were dropped)."""
        self._asked.difference_update(wanted)


def _choices(row: tuple[Any, ...], now: float) -> tuple[float, list[Choice]]:
    """One row's choices in force at `now`, and when the override among them was made."""
    _, _, avail, until, note, made_at, start, end, days, tz = row
    out: list[Choice] = []
    made = to_epoch(made_at) if made_at else now
    if avail is not None:
        ends = to_epoch(until) if until else None
        if ends is None or ends > now:
            out.append(Override(Availability(avail), ends, note))
    if start is not None:
        out.append(WorkingHours(start, end, frozenset(int(d) for d in days), tz))
    return made, out
