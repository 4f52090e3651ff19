"""What a `--one` strategy is: one object that orders a roster the same way in SQL and in
memory, and says what an ask moves for it alone.

The SQL order and the in-memory order are both read off the same `columns`, so they cannot
drift apart; `tests/test_strategies.py` holds them equal on every backend anyway.
"""

from __future__ import annotations

import random
from collections.abc import Callable, MutableSequence, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from core.domain import Strategy
from core.grouping import Member


@dataclass(frozen=True, slots=True)
class Column:
    """A roster sort column: its SQL name on the membership row (`m`), the `Member` field that
    holds it in memory, and whether it may be NULL (never asked, never accepted).

    NULL sorts first in SQL; in memory a missing time is 0.0, which sorts first too.
    """

    sql: str
    field: str
    nullable: bool = False


ASKED = Column("m.last_asked_at", "last_asked", nullable=True)
ACCEPTED = Column("m.last_accepted_at", "last_accepted", nullable=True)
JOINED = Column("m.joined_at", "joined")
CONTACT = Column("m.contact_id", "contact_id")
"""Every order ends on the contact id, so it is total and a keyset page never skips or repeats."""


@dataclass(frozen=True, slots=True)
class AfterAsk:
    """What asking some members moves for this strategy alone.

    The counters every strategy keeps (last asked and asks on the members asked, last accepted
    and accepts on one who accepts) are written by the lifecycle whatever the strategy, so a
    community that changes strategy finds them current, and insights can read them.
    """

    cursor: int | None = None
    """The community's new ring position (`rr_cursor`); None leaves it where it is."""


class StrategyRules(Protocol):
    """One strategy: its name, its order (SQL for the paged walk, and in memory), its after-ask.

    (`core.domain.Strategy` is the name, the vocabulary of commands and of the database; this
    is what the name means.)
    """

    @property
    def name(self) -> Strategy:
        """The value `/community set <handle> strategy <name>` takes."""
        ...

    @property
    def columns(self) -> tuple[Column, ...]:
        """The roster order, most significant first, ending on `CONTACT`: the paged walk's
        keyset (served by an index in this order, migration 0006) and the in-memory sort key."""
        ...

    @property
    def ring(self) -> bool:
        """The order turns like a ring: it starts after the community's cursor (a value of the
        first column, which must not be nullable) and wraps round to the beginning."""
        ...

    @property
    def drawn(self) -> bool:
        """Members are drawn at random (`draw` over the `columns` order, only as far as read)
        instead of read in sorted order."""
        ...

    def order(
        self, members: Sequence[Member], *, cursor: int = 0, rng: random.Random | None = None
    ) -> list[Member]:
        """The members in the order the database walk gives them (a new list)."""
        ...

    def after_ask(self, asked: Sequence[Member]) -> AfterAsk:
        """What asking these members (in the order asked, at least one) moves for this strategy."""
        ...


def sort_key(columns: Sequence[Column]) -> Callable[[Member], Any]:
    """The in-memory key for an SQL order: a C-level getter, about half a lambda's cost."""
    return attrgetter(*(c.field for c in columns))


def sorted_by(members: Sequence[Member], columns: Sequence[Column]) -> list[Member]:
    return sorted(members, key=sort_key(columns))


def turned(ordered: list[Member], column: Column, cursor: int) -> list[Member]:
    """A ring continued after `cursor`; if the member there has left, it goes on from where
    they were."""
    get = attrgetter(column.field)
    after = next((i for i, m in enumerate(ordered) if get(m) > cursor), len(ordered))
    return ordered[after:] + ordered[:after]


T = TypeVar("T")


def draw(items: MutableSequence[T], rng: random.Random, start: int, stop: int) -> None:
    """Fisher-Yates in place, positions `start` to `stop` only: the same draws in memory and in
    the paged walk, so a seeded random order is the same wherever it is made."""
    n = len(items)
    for i in range(start, stop):
        j = rng.randrange(i, n)
        items[i], items[j] = items[j], items[i]


def check(rules: StrategyRules) -> None:
    """Refuse a strategy whose order the paged walk could not follow."""
    columns = rules.columns
    if not columns or columns[-1] != CONTACT:
        raise ValueError(f"strategy {rules.name}: its columns must end on CONTACT (a total order)")
    if rules.ring and columns[0].nullable:
        raise ValueError(f"strategy {rules.name}: a ring turns on a column that is never NULL")
    if rules.ring and rules.drawn:
        raise ValueError(f"strategy {rules.name}: a ring is not drawn at random")
