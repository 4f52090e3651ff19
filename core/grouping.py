"""The grouping service: resolve a request to targets from membership plus availability.

Pure functions over a roster (one query's worth of members), so resolving a community of
10,000 costs one database round trip and walks only as far as it needs.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, overload

from core.presence.availability import Availability
from core.store.models import Mode, Role, Strategy


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
    """Targets in order, who was skipped and why, and who was not needed to decide."""

    targets: list[Member] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    rest: Sequence[Member] = ()


_RING_KEY = attrgetter("joined", "contact_id")
_IDLE_KEY = attrgetter("last_accepted", "last_asked", "joined", "contact_id")
_RECENT_KEY = attrgetter("last_asked", "joined", "contact_id")
"""Sort keys as C-level getters: the same tuples a lambda builds, at about half the cost."""


def _sort_key(strategy: Strategy) -> Callable[[Member], Any]:
    """The key a strategy keeps its members sorted by (RANDOM keeps join order)."""
    if strategy is Strategy.LONGEST_IDLE:
        return _IDLE_KEY
    if strategy is Strategy.LEAST_RECENT:
        return _RECENT_KEY
    return _RING_KEY


def order(
    members: Sequence[Member],
    strategy: Strategy,
    *,
    cursor: int = 0,
    rng: random.Random | None = None,
) -> list[Member]:
    """Members in the order `--one` should consider them under the community's strategy."""
    if strategy is Strategy.ROUND_ROBIN:
        ring = sorted(members, key=_RING_KEY)
        after = next((i for i, m in enumerate(ring) if m.contact_id == cursor), -1) + 1
        return ring[after:] + ring[:after]
    if strategy is Strategy.RANDOM:
        shuffled = list(members)
        (rng or random.Random()).shuffle(shuffled)
        return shuffled
    return sorted(members, key=_sort_key(strategy))


class _Rotated(Sequence[Member]):
    """An immutable window onto a sorted list, read from `start` and wrapping around.

    Slicing returns another window, so `resolve` can hand back `rest` without copying
    the members it never looked at.
    """

    __slots__ = ("_items", "_len", "_start")

    def __init__(self, items: list[Member], start: int, length: int) -> None:
        self._items = items
        self._start = start
        self._len = length

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Member]: ...

    def __getitem__(self, index: int | slice) -> Member | Sequence[Member]:
        if isinstance(index, slice):
            lo, hi, step = index.indices(self._len)
            if step != 1:
                return [self[i] for i in range(lo, hi, step)]
            return _Rotated(self._items, self._start + lo, max(0, hi - lo))
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("roster view index out of range")
        items = self._items
        return items[(self._start + index) % len(items)]

    def __iter__(self) -> Iterator[Member]:
        # Indexing one by one: a slice (or islice's skip) would cost O(n) before the first
        # member, and `one` usually stops after a couple.
        items, n = self._items, len(self._items)
        start = self._start % n if n else 0
        for index in range(start, start + self._len):
            yield items[index if index < n else index - n]


class _Permutation:
    """A uniformly random permutation drawn lazily: position i is fixed when first read.

    A sparse Fisher-Yates (swaps kept in a dict) makes reading k positions cost O(k),
    so `one` over 100,000 members draws a handful of numbers instead of shuffling all.
    """

    __slots__ = ("drawn", "items", "rng", "swaps")

    def __init__(self, items: list[Member], rng: random.Random) -> None:
        self.items = items
        self.rng = rng
        self.swaps: dict[int, int] = {}
        self.drawn = 0  # positions [0, drawn) are final

    def at(self, position: int) -> Member:
        """Fix positions up to `position` (Fisher-Yates from the front) and read it."""
        n, swaps, rng = len(self.items), self.swaps, self.rng
        while self.drawn <= position:
            i = self.drawn
            j = i + rng.randrange(n - i)
            swaps[i], swaps[j] = swaps.get(j, j), swaps.get(i, i)
            self.drawn += 1
        return self.items[swaps.get(position, position)]


class _Shuffled(Sequence[Member]):
    """A window onto a lazy permutation; slices share it, so they agree on every position."""

    __slots__ = ("_base", "_len", "_perm")

    def __init__(self, perm: _Permutation, base: int, length: int) -> None:
        self._perm = perm
        self._base = base
        self._len = length

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Member]: ...

    def __getitem__(self, index: int | slice) -> Member | Sequence[Member]:
        if isinstance(index, slice):
            lo, hi, step = index.indices(self._len)
            if step != 1:
                return [self[i] for i in range(lo, hi, step)]
            return _Shuffled(self._perm, self._base + lo, max(0, hi - lo))
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("roster view index out of range")
        return self._perm.at(self._base + index)

    def __iter__(self) -> Iterator[Member]:
        at, base = self._perm.at, self._base
        for index in range(self._len):
            yield at(base + index)


class Roster:
    """One community's members kept in strategy order between requests (an in-process index).

    Sorting 10,000 members on every request costs milliseconds; the index sorts once and
    then moves only the member whose counters change, so `ordered()` is O(1) and `resolve`
    walks only as far as it needs. `ordered()` yields exactly what `order()` would, except
    for RANDOM, which draws a fresh uniform order lazily (not the same sequence for a seed).
    Views returned earlier stay valid: updates copy the sorted list instead of editing it.
    """

    def __init__(
        self,
        members: Iterable[Member],
        strategy: Strategy,
        *,
        cursor: int = 0,
        rng: random.Random | None = None,
    ) -> None:
        self.strategy = strategy
        self.cursor = cursor
        self.rng = rng or random.Random()
        self._key = _sort_key(strategy)
        self._sorted: list[Member] = sorted(members, key=self._key)
        self._keys: list[Any] = [self._key(m) for m in self._sorted]
        self._by_id = {m.contact_id: m for m in self._sorted}

    def __len__(self) -> int:
        return len(self._sorted)

    def __contains__(self, contact_id: object) -> bool:
        return contact_id in self._by_id

    def get(self, contact_id: int) -> Member | None:
        """The indexed member, whose counters the caller may read (update via the methods)."""
        return self._by_id.get(contact_id)

    def ordered(self) -> Sequence[Member]:
        """Members in the order `--one` considers them, without sorting or copying."""
        items, n = self._sorted, len(self._sorted)
        if self.strategy is Strategy.RANDOM:
            return _Shuffled(_Permutation(items, self.rng), 0, n)
        if self.strategy is Strategy.ROUND_ROBIN:
            start = 0
            m = self._by_id.get(self.cursor)
            if m is not None:
                start = self._index(m) + 1
            return _Rotated(items, start, n)
        return _Rotated(items, 0, n)

    def _index(self, m: Member) -> int:
        """Where `m` sits in the sorted list: a bisect, since keys end in the unique contact id."""
        return bisect_left(self._keys, self._key(m))

    def _replace(self, m: Member, change: Callable[[Member], None]) -> None:
        """Apply `change` to `m` and move it to its new place (copy-on-write, see class doc)."""
        items, keys = self._sorted.copy(), self._keys.copy()
        at = self._index(m)
        del items[at], keys[at]
        change(m)
        key = self._key(m)
        at = bisect_left(keys, key)
        items.insert(at, m)
        keys.insert(at, key)
        self._sorted, self._keys = items, keys

    def asked(self, contact_id: int, at: float) -> None:
        """A member was asked at `at` (what `_record` writes as last_asked_at)."""
        m = self._by_id.get(contact_id)
        if m is not None:
            self._replace(m, lambda m: setattr(m, "last_asked", at))
        if self.strategy is Strategy.ROUND_ROBIN:
            self.cursor = contact_id

    def accepted(self, contact_id: int, at: float) -> None:
        """A member accepted at `at` (what `_accepted` writes as last_accepted_at)."""
        m = self._by_id.get(contact_id)
        if m is not None:
            self._replace(m, lambda m: setattr(m, "last_accepted", at))

    def open_asks(self, contact_id: int, count: int) -> None:
        """A member's open asks changed; not part of any order, so nothing moves."""
        m = self._by_id.get(contact_id)
        if m is not None:
            m.open_asks = count

    def add(self, m: Member) -> None:
        """A member joined the community (or was loaded late)."""
        if m.contact_id in self._by_id:
            self.remove(m.contact_id)
        items, keys = self._sorted.copy(), self._keys.copy()
        key = self._key(m)
        at = bisect_left(keys, key)
        items.insert(at, m)
        keys.insert(at, key)
        self._sorted, self._keys = items, keys
        self._by_id[m.contact_id] = m

    def remove(self, contact_id: int) -> None:
        """A member left the community."""
        m = self._by_id.pop(contact_id, None)
        if m is None:
            return
        items, keys = self._sorted.copy(), self._keys.copy()
        at = bisect_left(keys, self._key(m))
        del items[at], keys[at]
        self._sorted, self._keys = items, keys


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
    res = Resolution()
    picky = mode in (Mode.ONE, Mode.SOME)
    limit = wanted if picky else len(members)
    for i, m in enumerate(members):
        if m.contact_id == requester_id:
            res.skipped.append(Skip(m, "that's you"))
            continue
        if m.contact_id in done:
            res.skipped.append(Skip(m, "already asked for this request"))
            continue
        if mode is Mode.EVERYONE:
            res.targets.append(m)
            continue
        state = availability(m.key)
        if state is not Availability.AVAILABLE:
            res.skipped.append(Skip(m, explain(m)))
            continue
        if picky and m.open_asks >= capacity:
            res.skipped.append(
                Skip(m, f"already holds {m.open_asks} open asks (capacity {capacity})")
            )
            continue
        res.targets.append(m)
        if len(res.targets) >= limit:
            res.rest = members[i + 1 :]
            break
    return res
