"""The grouping service: resolve a request to targets from membership plus availability.

Pure functions over a roster (one query's worth of members), so resolving a community of
10,000 costs one database round trip and walks only as far as it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from core.domain import Mode, Role
from core.presence.availability import Availability
from core.texts import reasons


@dataclass(slots=True)
class Member:
    """One member as resolution sees it: identity, fairness counters, open asks."""

    contact_id: int
    user_id: str
    name: str
    key: str
    role: Role
    joined: float
    last_asked: float = 0.0
    last_accepted: float = 0.0
    open_asks: int = 0


@dataclass(frozen=True, slots=True)
class Skip:
    """A member passed over, with the reason the requester is shown."""

    member: Member
    reason: str


@dataclass(slots=True)
class Resolution:
    """Targets in order, who was skipped and why, and who was not needed to decide;
    `unchecked` counts members left unknown because the platform's presence budget ran out."""

    targets: list[Member] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    rest: Sequence[Member] = ()
    unchecked: int = 0
    passed: frozenset[int] = frozenset()
    """Contact ids never candidates (the requester, those already asked): `rest` may hold
    them, since the walk stopped before reaching them, but nobody should read them as spare."""

    def spare(self) -> list[Member]:
        """The members not needed to decide, without the ones who were never candidates."""
        return [m for m in self.rest if m.contact_id not in self.passed]


def resolve(
    members: Sequence[Member],
    mode: Mode,
    *,
    wanted: int = 1,
    requester_id: int,
    availability: Callable[[str], Availability],
    explain: Callable[[Member], str],
    capacity: int,
    exclude: Iterable[int] = (),
) -> Resolution:
    """Choose targets from `members` (already in strategy order).

    `one` and `some` stop once they have `wanted` targets; the members after that are
    `rest`, not examined. `available` takes every available member; `everyone` takes all.
    The requester is never a target, and nobody already asked for this request is asked again.
    """
    done = set(exclude)
    res = Resolution(passed=frozenset((*done, requester_id)))
    picky = mode in (Mode.ONE, Mode.SOME)
    limit = wanted if picky else len(members)
    for i, m in enumerate(members):
        if m.contact_id == requester_id:
            res.skipped.append(Skip(m, reasons.ITS_YOU))
            continue
        if m.contact_id in done:
            res.skipped.append(Skip(m, reasons.ALREADY_ASKED))
            continue
        if mode is Mode.EVERYONE:
            res.targets.append(m)
            continue
        state = availability(m.key)
        if state is not Availability.AVAILABLE:
            res.skipped.append(Skip(m, explain(m)))
            continue
        if picky and m.open_asks >= capacity:
            res.skipped.append(Skip(m, reasons.at_capacity(m.open_asks, capacity)))
            continue
        res.targets.append(m)
        if len(res.targets) >= limit:
            res.rest = members[i + 1 :]
            break
    return res
