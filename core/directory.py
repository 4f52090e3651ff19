"""Tenant-scoped access to contacts, communities and rosters: every query names its tenant."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from tortoise import connections

from core import keys
from core.commands.rules import did_you_mean
from core.grouping import Member
from core.ports import Actor
from core.store.models import OPEN_DELIVERY, Community, Contact, Membership, Role, Tenant
from core.store.queries import column_strs
from core.strategies import Column, StrategyRules, strategy_for


async def near_miss(tenant_id: int, handle: str) -> str:
    """` Did you mean @frontend?` when a mistyped handle is close to one of the tenant's."""
    known = await column_strs(Community.filter(tenant_id=tenant_id).limit(1000), "handle")
    return did_you_mean(handle.removeprefix("@"), [str(h) for h in known], "@")


@dataclass(frozen=True, slots=True)
class Who:
    """A resolved actor: database ids plus the presence key."""

    tenant_id: int
    contact_id: int
    key: str
    actor: Actor


class Directory:
    """Upserts the people we hear from and loads rosters in one query each."""

    def __init__(self) -> None:
        self._tenants: dict[tuple[str, str], int] = {}
        self._contacts: dict[tuple[int, str], int] = {}

    def forget(self) -> None:
        """Drop cached ids after their rows were deleted (the shell's `:reset`)."""
        self._tenants.clear()
        self._contacts.clear()

    def cached_tenants(self, platform: str) -> set[int]:
        """The ids of this platform's tenants this process holds in its cache."""
        return {tid for (p, _), tid in self._tenants.items() if p == platform}

    def drop(self, tenant_ids: set[int]) -> None:
        """Forget these tenants' cached ids (their rows were purged, here or elsewhere)."""
        self._tenants = {k: v for k, v in self._tenants.items() if v not in tenant_ids}
        self._contacts = {k: v for k, v in self._contacts.items() if k[0] not in tenant_ids}

    async def tenant_id(self, platform: str, external_id: str) -> int:
        cached = self._tenants.get((platform, external_id))
        if cached is not None:
            return cached
        tenant, _ = await Tenant.get_or_create(platform=platform, external_id=external_id)
        self._tenants[(platform, external_id)] = tenant.id
        return tenant.id

    async def who(self, actor: Actor) -> Who:
        """The contact behind an inbound event, created on first sight."""
        tid = await self.tenant_id(actor.platform, actor.tenant)
        cid = self._contacts.get((tid, actor.user_id))
        if cid is None:
            defaults = {"display_name": actor.name or actor.user_id, "tz": actor.tz or "UTC"}
            contact, created = await Contact.get_or_create(
                tenant_id=tid, user_id=actor.user_id, defaults=defaults
            )
            if not created and (
                (actor.name and contact.display_name != actor.name)
                or (actor.tz and contact.tz != actor.tz)
            ):
                contact.display_name = actor.name or contact.display_name
                contact.tz = actor.tz or contact.tz
                await contact.save(update_fields=["display_name", "tz"])
            cid = contact.id
            self._contacts[(tid, actor.user_id)] = cid
        return Who(tid, cid, keys.encode(actor.platform, actor.tenant, actor.user_id), actor)

    async def contact(self, tenant_id: int, user_id: str) -> Contact | None:
        return await Contact.get_or_none(tenant_id=tenant_id, user_id=user_id)

    async def contacts_named(self, tenant_id: int, name: str, *, limit: int = 10) -> list[Contact]:
        """`@alice` typed as text: everyone with that display name (case-insensitively), so a
        name two people share is asked about rather than guessed."""
        return (
            await Contact.filter(tenant_id=tenant_id, display_name__iexact=name)
            .order_by("id")
            .limit(limit)
        )

    async def held(self, platform: str, tenant: str, user_ids: list[str]) -> set[str]:
        """Which of these people are contacts here (others cost nothing to look up)."""
        tid = await self.tenant_id(platform, tenant)
        return {
            str(u)
            for u in await column_strs(
                Contact.filter(tenant_id=tid, user_id__in=user_ids), "user_id"
            )
        }

    async def update_profiles(
        self, platform: str, tenant: str, profiles: dict[str, tuple[str, str | None]]
    ) -> int:
        """Names and time zones from the platform for contacts we hold; never creates one."""
        if not profiles:
            return 0
        tid = await self.tenant_id(platform, tenant)
        changed = 0
        for contact in await Contact.filter(tenant_id=tid, user_id__in=list(profiles)):
            name, tz = profiles[contact.user_id]
            name, tz = name or contact.display_name, tz or contact.tz
            if (name, tz) != (contact.display_name, contact.tz):
                contact.display_name, contact.tz = name, tz
                await contact.save(update_fields=["display_name", "tz"])
                changed += 1
        return changed

    async def community(self, tenant_id: int, handle: str) -> Community | None:
        return await Community.get_or_none(tenant_id=tenant_id, handle=handle)

    async def role(self, community_id: int, contact_id: int) -> Role | None:
        got = await column_strs(
            Membership.filter(community_id=community_id, contact_id=contact_id), "role"
        )
        return Role(got[0]) if got else None

    async def roster(
        self,
        community: Community,
        platform: str,
        tenant: str,
        *,
        rng: random.Random | None = None,
    ) -> Roster:
        """Every member with fairness counters and open asks, in the community's strategy order.

        One plain SQL query whatever the size, sorted by the database, and members (and
        their timestamps) are built only as they are read: a `one` resolution in a
        community of 10,000 reads a handful. The order is the strategy's (core.strategies),
        the same one its `order` gives in memory (tests/test_strategies.py holds them equal).
        """
        conn = connections.get(community._meta.default_connection or "")
        postgres = conn.capabilities.dialect == "postgres"
        rules = strategy_for(community.strategy)
        ring = ring_phases(rules, community.rr_cursor)
        turn = f"CASE WHEN {ring[0]} THEN 0 ELSE 1 END, " if rules.ring else ""
        sql = ROSTER_SQL.format(
            tenant="$1" if postgres else "?",  # placeholders in the order they appear
            community="$2" if postgres else "?",
            open=", ".join(f"'{s.value}'" for s in OPEN_DELIVERY),
            sort=turn + order_by(rules.columns, postgres=postgres),
        )
        _, rows = await conn.execute_query(sql, [community.tenant_id, community.id])
        shuffle = (rng or random.Random()) if rules.drawn else None
        return Roster(rows, keys.tenant_prefix(platform, tenant), shuffle)


class Roster(Sequence[Member]):
    """Members from the database in strategy order, each built the first time it is read.

    Random order is drawn lazily (a sparse Fisher-Yates, as far as it is read), so no
    strategy costs more than the walk a resolution makes.
    """

    __slots__ = ("_built", "_drawn", "_prefix", "_rng", "_rows", "_swaps")

    def __init__(self, rows: Sequence[Any], prefix: str, rng: random.Random | None = None) -> None:
        self._rows = rows
        self._prefix = prefix
        self._rng = rng
        self._swaps: dict[int, int] = {}
        self._drawn = 0  # positions fixed so far by the lazy shuffle
        self._built: dict[int, Member] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Member]: ...

    def __getitem__(self, index: int | slice) -> Member | Sequence[Member]:
        n = len(self._rows)
        if isinstance(index, slice):
            return _Window(self, *index.indices(n))
        if not -n <= index < n:
            raise IndexError(index)
        position = index % n
        return self._member(position if self._rng is None else self._shuffled(position))

    def __iter__(self) -> Iterator[Member]:
        for i in range(len(self._rows)):
            yield self[i]

    def keys(self) -> Iterator[str]:
        """Every member's presence key without building members (for read-through loads)."""
        prefix = self._prefix
        return (prefix + r[1] for r in self._rows)

    def _shuffled(self, position: int) -> int:
        rng, swaps, n = self._rng, self._swaps, len(self._rows)
        assert rng is not None
        while self._drawn <= position:
            i = self._drawn
            j = rng.randrange(i, n)
            swaps[i], swaps[j] = swaps.get(j, j), swaps.get(i, i)
            self._drawn += 1
        return swaps.get(position, position)

    def _member(self, row: int) -> Member:
        got = self._built.get(row)
        if got is None:
            got = self._built[row] = member_of(self._rows[row], self._prefix)
        return got


ROW = (
    "contact_id",
    "user_id",
    "name",
    "role",
    "joined",
    "last_asked",
    "last_accepted",
    "open_asks",
)
"""A roster row's fields in the order the roster queries select them: `Member`'s names."""


def member_of(row: Sequence[Any], prefix: str) -> Member:
    """A member from one roster row (contact, user, name, role, three timestamps, open asks)."""
    cid, uid, name, role, joined, asked, accepted, n = row
    return Member(
        cid,
        uid,
        name,
        prefix + uid,
        _ROLES[role],
        _epoch(joined),
        _epoch(asked),
        _epoch(accepted),
        n,
    )


class _Window(Sequence[Member]):
    """A slice of a roster (`resolve` hands back `rest` this way), read lazily too."""

    __slots__ = ("_roster", "_start", "_step", "_stop")

    def __init__(self, roster: Roster, start: int, stop: int, step: int) -> None:
        self._roster, self._start, self._stop, self._step = roster, start, stop, step

    def __len__(self) -> int:
        return len(range(self._start, self._stop, self._step))

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Member]: ...

    def __getitem__(self, index: int | slice) -> Member | Sequence[Member]:
        positions = range(self._start, self._stop, self._step)
        if isinstance(index, slice):
            return [self._roster[p] for p in positions[index]]
        return self._roster[positions[index]]


_ROLES = {r.value: r for r in Role}

ROSTER_SQL = """
SELECT m.contact_id, c.user_id, c.display_name, m.role, m.joined_at, m.last_asked_at,
       m.last_accepted_at, COALESCE(o.n, 0)
FROM membership m
JOIN contact c ON c.id = m.contact_id AND c.tenant_id = {tenant}
LEFT JOIN (
    SELECT d.target_id, COUNT(*) AS n FROM delivery d
    WHERE d.state IN ({open})
    GROUP BY d.target_id
) o ON o.target_id = m.contact_id
WHERE m.community_id = {community}
ORDER BY {sort}
"""


def order_by(columns: Sequence[Column], *, postgres: bool) -> str:
    """A strategy's ORDER BY on the raw columns (timestamps compare natively in PostgreSQL;
    tortoise's UTC ISO text compares chronologically in SQLite); never asked sorts first, as
    SQLite does by default and PostgreSQL must be told (the roster indexes say the same)."""
    nulls = " NULLS FIRST" if postgres else ""
    return ", ".join(c.sql + (nulls if c.nullable else "") for c in columns)


def ring_phases(rules: StrategyRules, cursor: int) -> list[str]:
    """The conditions an order is read in, one after the other: a ring reads after the cursor,
    then from the beginning up to it (the cursor is our own integer column); others read once."""
    if not rules.ring:
        return [""]
    column, at = rules.columns[0].sql, int(cursor)
    return [f"{column} > {at}", f"{column} <= {at}"]


def _epoch(value: datetime | str | None) -> float:
    """A timestamp as the driver returns it (aware datetime, or SQLite's ISO text) in epoch seconds."""
    if value is None:
        return 0.0
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.timestamp()
