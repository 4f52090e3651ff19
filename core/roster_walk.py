"""The roster read in pages, in strategy order, only as far as a resolution walks.

A `one` in a community of 10,000 reads tens of rows: each page is a keyset query
(`WHERE (sort columns) after the last row read ... ORDER BY ... LIMIT n`) served by an
index in that order (migration 0006), so no page sorts or scans the community.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, overload

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from core import keys
from core.directory import ROW, member_of, order_by, ring_phases
from core.domain import Mode
from core.grouping import Member, Resolution
from core.store.models import OPEN_DELIVERY, Community
from core.strategies import Column, strategy_for
from core.strategies.base import draw

FIRST_PAGE = 16
"""Rows the first page reads: enough for a `one` when a fair share of members is free."""
GROWTH = 4
"""Each further page reads this many times the last: a long walk costs few round trips."""

PAGE_SQL = """
SELECT m.contact_id, c.user_id, c.display_name, m.role, m.joined_at, m.last_asked_at,
       m.last_accepted_at,
       (SELECT COUNT(*) FROM delivery d WHERE d.target_id = m.contact_id AND d.state IN ({open})){total}
FROM membership m
JOIN contact c ON c.id = m.contact_id AND c.tenant_id = {tenant}
WHERE m.community_id = {community}{where}
ORDER BY {order}{limit}
"""
TOTAL_SQL = ",\n       (SELECT COUNT(*) FROM membership t WHERE t.community_id = {p})"


class _Params:
    """Placeholders in the order they appear ($n for PostgreSQL, ? for SQLite)."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"


def _after(columns: Sequence[Column], row: Sequence[Any], p: _Params) -> str:
    """Rows strictly after `row` in the columns' order, NULLs first (a keyset condition)."""
    first, rest = columns[0], columns[1:]
    col, key = first.sql, row[ROW.index(first.field)]
    if not rest:
        return f"{col} > {p(key)}"
    if first.nullable and key is None:
        return f"(({col} IS NULL AND {_after(rest, row, p)}) OR {col} IS NOT NULL)"
    return f"({col} > {p(key)} OR ({col} = {p(key)} AND {_after(rest, row, p)}))"


class RosterWalk(Sequence[Member]):
    """The members read so far, in strategy order; `more()` reads the next page.

    `len()` is the whole community (counted with the first page) so `Resolution.rest`
    keeps its size; iteration yields only what has been read.
    """

    def __init__(
        self,
        community: Community,
        prefix: str,
        *,
        rng: random.Random | None = None,
        whole: bool = False,
    ) -> None:
        self._community = community
        self._rules = strategy_for(community.strategy)
        self._conn: BaseDBAsyncClient = connections.get(community._meta.default_connection or "")
        self._postgres = self._conn.capabilities.dialect == "postgres"
        self._prefix = prefix
        self._rng = rng or random.Random()
        self._whole = whole
        self._rows: list[Sequence[Any]] = []
        self._built: dict[int, Member] = {}
        self._total = 0
        self._counted = False
        self._done = False
        self._page = FIRST_PAGE
        # A ring is two keyset walks: after the cursor, then from the start up to it.
        self._phases = ring_phases(self._rules, community.rr_cursor)
        self._in_phase = False  # the last row read belongs to the current phase
        self._ids: list[int] | None = None  # a drawn order: every id, shuffled lazily as read
        self.queries = 0

    @property
    def complete(self) -> bool:
        return self._done

    @property
    def started(self) -> bool:
        return self.queries > 0

    def __len__(self) -> int:
        return max(self._total, len(self._rows))

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Member]: ...

    def __getitem__(self, index: int | slice) -> Member | Sequence[Member]:
        if isinstance(index, slice):
            return _Rest(self, range(*index.indices(len(self))))
        if not 0 <= index < len(self._rows):
            raise IndexError(index)
        got = self._built.get(index)
        if got is None:
            got = self._built[index] = member_of(self._rows[index], self._prefix)
        return got

    def __iter__(self) -> Iterator[Member]:
        for i in range(len(self._rows)):
            yield self[i]

    def keys(self) -> Iterator[str]:
        """Presence keys of the members read so far, without building members."""
        return (self._prefix + r[1] for r in self._rows)

    async def more(self) -> list[str]:
        """Read the next page; the presence keys it brought."""
        if self._done:
            return []
        start = len(self._rows)
        if self._rules.drawn:
            await self._random_page()
        else:
            await self._sorted_page()
        self._page *= GROWTH
        return [self._prefix + r[1] for r in self._rows[start:]]

    async def read_all(self) -> list[str]:
        """Everything not read yet (a small rest the requester is told about one by one)."""
        keys: list[str] = []
        while not self._done:
            self._page = max(self._page, len(self) - len(self._rows) + 1)
            keys += await self.more()
        return keys

    async def _sorted_page(self) -> None:
        wanted = None if self._whole else self._page
        columns = self._rules.columns
        while self._phases and (wanted is None or wanted > 0):
            p = _Params(self._postgres)  # placeholders are taken in textual order
            counting = not self._counted
            total = TOTAL_SQL.format(p=p(self._community.id)) if counting else ""
            tenant, community = p(self._community.tenant_id), p(self._community.id)
            parts = [self._phases[0]] if self._phases[0] else []
            if self._rows and self._in_phase:
                parts.append(_after(columns, self._rows[-1], p))
            sql = PAGE_SQL.format(
                open=", ".join(f"'{s.value}'" for s in OPEN_DELIVERY),
                total=total,
                tenant=tenant,
                community=community,
                where="".join(f" AND {c}" for c in parts),
                order=order_by(columns, postgres=self._postgres),
                limit="" if wanted is None else f" LIMIT {int(wanted)}",
            )
            _, rows = await self._conn.execute_query(sql, p.values)
            self.queries += 1
            got = self._take(rows, counting)
            if wanted is not None:
                wanted -= got
            # a short page ends its phase; the next starts from that phase's beginning
            self._in_phase = wanted is not None and wanted <= 0
            if not self._in_phase:
                self._phases.pop(0)
        if not self._phases:
            self._done = True
            self._total = len(self._rows)

    def _take(self, rows: Sequence[Any], counted: bool) -> int:
        for row in rows:
            if counted:
                self._total = max(self._total, int(row[8]))
                row = tuple(row)[:8]
            self._rows.append(row)
        self._counted = self._counted or bool(rows) or counted
        return len(rows)

    async def _random_page(self) -> None:
        if self._ids is None:
            _, got = await self._conn.execute_query(
                "SELECT m.contact_id FROM membership m WHERE m.community_id = "
                + ("$1" if self._postgres else "?")
                + " ORDER BY "
                + order_by(self._rules.columns, postgres=self._postgres),
                [self._community.id],
            )
            self.queries += 1
            self._ids = [int(r[0]) for r in got]
            self._total = len(self._ids)
        ids, start = self._ids, len(self._rows)
        stop = len(ids) if self._whole else min(len(ids), start + self._page)
        draw(ids, self._rng, start, stop)  # only as far as this page
        drawn = ids[start:stop]
        if drawn:
            p = _Params(self._postgres)
            tenant, community = p(self._community.tenant_id), p(self._community.id)
            listed = ", ".join(p(i) for i in drawn)
            sql = PAGE_SQL.format(
                open=", ".join(f"'{s.value}'" for s in OPEN_DELIVERY),
                total="",
                tenant=tenant,
                community=community,
                where=f" AND m.contact_id IN ({listed})",
                order="m.contact_id",
                limit="",
            )
            _, rows = await self._conn.execute_query(sql, p.values)
            self.queries += 1
            by_id: dict[int, Any] = {int(r[0]): r for r in rows}
            self._rows += [by_id[i] for i in drawn if i in by_id]
        if stop >= len(ids):
            self._done = True
            self._total = len(self._rows)


class _Rest(Sequence[Member]):
    """The members after the last target: counted always, read only if small."""

    __slots__ = ("_positions", "_walk")

    def __init__(self, walk: RosterWalk, positions: range) -> None:
        self._walk, self._positions = walk, positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Member]: ...

    def __getitem__(self, index: int | slice) -> Member | Sequence[Member]:
        if isinstance(index, slice):
            return [self._walk[p] for p in self._positions[index]]
        return self._walk[self._positions[index]]


async def walk_resolve(
    walk: RosterWalk,
    run: Callable[[Sequence[Member]], Resolution],
    load: Callable[[Iterable[str]], Awaitable[None]],
    wanted: int,
    explained_rest: int,
) -> Resolution:
    """Resolve over the pages read so far; read another page only while short of `wanted`.

    A rest small enough to be explained member by member is read too (at most that many rows).
    """
    if not walk.started:
        await load(await walk.more())
    while True:
        res = run(walk)
        if len(res.targets) >= wanted or walk.complete:
            if not walk.complete and len(res.rest) <= explained_rest:
                await load(await walk.read_all())
                res = run(walk)
            return res
        await load(await walk.more())


def roster_walk(
    community: Community, platform: str, tenant: str, mode: Mode, rng: random.Random
) -> RosterWalk:
    """The walk a request makes: paged for `one`/`some`, the whole roster for the rest."""
    return RosterWalk(
        community,
        keys.tenant_prefix(platform, tenant),
        rng=rng,
        whole=mode not in (Mode.ONE, Mode.SOME),
    )
