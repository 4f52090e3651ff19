"""Resolve `one`: the in-memory step and the cold path from a database.

In memory: the engine's step, a `Roster` over rows the database already sorted in strategy
order, walked only until someone is free; compared with sorting the members in Python per
request (the strategy's in-memory `order`, what the engine did before the database sorted).
From a cold database: `Directory.roster` + that step, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise import connections

from bench.baselines import percentile
from bench.common import Row, print_rows, us
from core.clock import ManualClock
from core.directory import Directory, Roster
from core.grouping import Member, Resolution, resolve
from core.presence.monitor import PresenceMonitor
from core.presence.store import MemoryPresenceStore
from core.roster_walk import FIRST_PAGE, GROWTH, RosterWalk, roster_walk, walk_resolve
from core.store.models import Community, Contact, Membership, Mode, Role, Strategy, Tenant
from core.strategies import strategy_for
from core.texts import availability as texts
from core.texts.replies import EXPLAINED_REST

SIZES = (10, 1_000, 10_000, 100_000)
TARGET_NS = 100_000
"""10k members: p99 of the in-memory step at most 100 µs."""
COLD_TARGET_NS = 20_000_000
"""10k members from a cold database: p99 at most 20 ms."""
POSTGRES = "postgres://postgres@127.0.0.1:5432/groupcast_bench"
NOW = 1_718_000_000.0
PREFIX = "discord:bench:"


def members(n: int, seed: int) -> list[Member]:
    """A community of n with realistic counters: most never asked, some asked or accepted."""
    rng = random.Random(f"roster:{n}:{seed}")
    out: list[Member] = []
    for cid in range(1, n + 1):
        asked = NOW - rng.randrange(86_400 * 30) if rng.random() < 0.3 else 0.0
        accepted = asked if asked and rng.random() < 0.5 else 0.0
        out.append(
            Member(cid, f"U{cid}", f"user{cid}", f"{PREFIX}U{cid}", Role.MEMBER, NOW - cid * 60.0)
        )
        out[-1].last_asked, out[-1].last_accepted = asked, accepted
    return out


def half_available(roster: Sequence[Member], seed: int) -> PresenceMonitor:
    """A memory-store monitor where a random half is online and the rest offline or idle."""
    monitor = PresenceMonitor(MemoryPresenceStore(), ManualClock(NOW))
    rng = random.Random(f"avail:{seed}")
    for m in roster:
        monitor.native(m.key, "online" if rng.random() < 0.5 else rng.choice(("offline", "idle")))
    return monitor


def explainer(monitor: PresenceMonitor) -> Callable[[Member], str]:
    """What `Engine.explain` does for each skipped member."""

    def explain(m: Member) -> str:
        """The skip reason a requester sees, as the engine words it."""
        return texts.describe(monitor.verdict(m.key), "UTC", monitor.clock.now())

    return explain


Step = Callable[[int], object]


def timed(step: Step, iterations: int) -> tuple[float, float]:
    """p50 and p99 ns of `step(i)` over `iterations` calls (after a short warm-up)."""
    for i in range(min(50, iterations)):
        step(i)
    gc.collect()
    clock = time.perf_counter_ns
    samples: list[float] = []
    for i in range(iterations):
        start = clock()
        step(i)
        samples.append(clock() - start)
    return percentile(samples, 50), percentile(samples, 99)


def in_memory(n: int, strategy: Strategy, iterations: int, seed: int) -> dict[str, float]:
    """Roster walk (the engine) vs order()+resolve per request, same members and presence."""
    roster = members(n, seed)
    rules = strategy_for(strategy)
    monitor = half_available(roster, seed)
    explain = explainer(monitor)
    rng = random.Random(seed)
    requesters = [rng.randrange(1, n + 1) for _ in range(iterations + 50)]
    available = monitor.availability

    def resolve_one(ordered: Sequence[Member], requester: int) -> None:
        """The engine's resolve call for `--one`."""
        res = resolve(
            ordered,
            Mode.ONE,
            wanted=1,
            requester_id=requester,
            availability=available,
            explain=explain,
            capacity=3,
        )
        if not res.targets:
            raise RuntimeError("half the community is available: someone must be found")

    def sort_step(i: int) -> None:
        """Sorting the members in Python per request, then resolving."""
        resolve_one(rules.order(roster, cursor=0, rng=rng), requesters[i])

    # The rows as the roster query returns them: already in the strategy's order.
    def stamp(t: float) -> datetime | None:
        """A timestamp as PostgreSQL's driver returns it (never asked: NULL)."""
        return datetime.fromtimestamp(t, UTC) if t else None

    rows = [
        (
            m.contact_id,
            m.user_id,
            m.name,
            m.role.value,
            stamp(m.joined),
            stamp(m.last_asked),
            stamp(m.last_accepted),
            0,
        )
        for m in rules.order(roster, cursor=0, rng=random.Random(seed))
    ]
    shuffler = rng if rules.drawn else None

    def index_step(i: int) -> None:
        """The engine's step: a lazy Roster over the sorted rows, walked until someone is free."""
        resolve_one(Roster(rows, PREFIX, shuffler), requesters[i])

    slow_iterations = max(20, min(iterations, 2_000_000 // max(n, 1)))  # keep big sorts bounded
    e50, e99 = timed(sort_step, slow_iterations)
    i50, i99 = timed(index_step, iterations)
    return {"engine_p50": e50, "engine_p99": e99, "index_p50": i50, "index_p99": i99}


async def _seed_db(url: str, n: int, seed: int) -> Community:
    """A tenant with one community of n members, inserted in bulk."""
    from core.store.db import open_db

    await open_db(url)
    tenant = await Tenant.create(platform="discord", external_id=f"bench{seed}")
    community = await Community.create(
        tenant=tenant, handle="bench", strategy=Strategy.LEAST_RECENT
    )
    base = datetime(2024, 1, 1, tzinfo=UTC)
    contacts = [
        Contact(tenant=tenant, user_id=f"U{i}", display_name=f"user{i}") for i in range(1, n + 1)
    ]
    await Contact.bulk_create(contacts, batch_size=2_000)
    ids = await Contact.filter(tenant=tenant).order_by("id").values_list("id", flat=True)
    rng = random.Random(seed)
    rows = []
    for cid in ids:
        asked = base + timedelta(seconds=rng.randrange(10**6)) if rng.random() < 0.3 else None
        rows.append(
            Membership(
                community=community,
                contact_id=cid,
                role=Role.MEMBER,
                joined_at=base + timedelta(seconds=int(cid)),
                last_asked_at=asked,
            )
        )
    await Membership.bulk_create(rows, batch_size=2_000)
    # A live database has planner statistics (autovacuum, or SQLite's ANALYZE); a table
    # filled a moment ago has none, and PostgreSQL then plans the roster join for 4 rows.
    await connections.get(community._meta.default_connection or "").execute_script("ANALYZE")
    return community


async def _ensure_postgres_db() -> str | None:
    """Create groupcast_bench if missing; a reason string when PostgreSQL is unreachable."""
    import asyncpg

    try:
        conn = await asyncio.wait_for(
            asyncpg.connect("postgres://postgres@127.0.0.1:5432/postgres"), 5
        )
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL unreachable: {type(exc).__name__}"
    try:
        await conn.execute("DROP DATABASE IF EXISTS groupcast_bench")
        await conn.execute("CREATE DATABASE groupcast_bench")
    finally:
        await conn.close()
    return None


async def cold(url: str, n: int, iterations: int, seed: int) -> dict[str, Any]:
    """The engine's path from a cold database: a paged RosterWalk + resolve per request."""
    from core.store.db import close_db

    community = await _seed_db(url, n, seed)
    directory = Directory()
    try:
        roster = await directory.roster(community, "discord", f"bench{seed}")
        monitor = half_available(roster, seed)
        explain = explainer(monitor)
        rng = random.Random(seed)
        samples: list[float] = []
        rows_read: list[int] = []
        clock = time.perf_counter_ns
        requester = roster[0].contact_id

        def run(members: Sequence[Member]) -> Resolution:
            return resolve(
                members,
                Mode.ONE,
                requester_id=requester,
                availability=monitor.availability,
                explain=explain,
                capacity=community.capacity,
            )

        for i in range(iterations + 2):
            start = clock()
            walk = roster_walk(community, "discord", f"bench{seed}", Mode.ONE, rng)
            res = await walk_resolve(walk, run, monitor.load, 1, EXPLAINED_REST)
            elapsed = clock() - start
            if not res.targets:
                raise RuntimeError("nobody resolved from the database roster")
            if i >= 2:  # the first two warm the connection and tortoise's query cache
                samples.append(elapsed)
                rows_read.append(len(list(walk)))
        t0 = clock()
        await directory.roster(community, "discord", f"bench{seed}")
        query_ns = clock() - t0
        plan = await _explain_first_page(community)
    finally:
        await close_db()
    return {
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "query": query_ns,
        "rows": max(rows_read),
        "plan": plan,
    }


async def _explain_first_page(community: Community) -> str:
    """The database's plan for the walk's first page (EXPLAIN; ANALYZE where it exists)."""
    conn = connections.get(community._meta.default_connection or "")
    postgres = conn.capabilities.dialect == "postgres"
    walk = RosterWalk(community, PREFIX)
    captured: list[tuple[str, list[Any]]] = []
    real = conn.execute_query

    async def spy(sql: str, values: list[Any] | None = None) -> Any:
        captured.append((sql, list(values or [])))
        return await real(sql, values)

    conn.execute_query = spy  # type: ignore[method-assign]
    try:
        await walk.more()
    finally:
        del conn.execute_query
    sql, values = captured[0]
    prefix = "EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " if postgres else "EXPLAIN QUERY PLAN "
    _, rows = await conn.execute_query(prefix + sql, values)
    if postgres:
        return " / ".join(" ".join(str(r[0]).split()) for r in rows)
    return " / ".join(str(tuple(r)[-1]) for r in rows)


def cold_rows(n: int, iterations: int, seed: int) -> list[Row]:
    """SQLite and PostgreSQL cold-path rows."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite://{Path(tmp) / 'bench.sqlite3'}")]
        why = asyncio.run(_ensure_postgres_db())
        if why is None:
            targets.append(("PostgreSQL", POSTGRES))
        for name, url in targets:
            got = asyncio.run(cold(url, n, iterations, seed))
            rows.append(
                Row(
                    f"resolve `one` from a cold {name} database, {n:,} members, p50 / p99",
                    f"{us(got['p50'])} / {us(got['p99'])}",
                    target=f"p99 ≤ {COLD_TARGET_NS / 1e6:g} ms",
                    met=got["p99"] <= COLD_TARGET_NS,
                    note=f"paged walk (keyset, LIMIT {FIRST_PAGE}, ×{GROWTH}) read at most"
                    f" {got['rows']} rows a request; the whole roster in one query ≈"
                    f" {us(got['query'])}; {iterations} requests; first page's plan:"
                    f" `{got['plan']}`",
                )
            )
        if why is not None:
            rows.append(Row(f"resolve from PostgreSQL, {n:,} members", "—", note=f"skipped: {why}"))
    return rows


def run(iterations: int = 2_000, cold_iterations: int = 30, seed: int = 7) -> list[Row]:
    """Every size in memory (least-recent, plus each strategy at 10k), then the cold path."""
    rows: list[Row] = []
    cases = [(n, Strategy.LEAST_RECENT) for n in SIZES]
    cases += [(10_000, s) for s in (Strategy.ROUND_ROBIN, Strategy.LONGEST_IDLE, Strategy.RANDOM)]
    for n, strategy in cases:
        got = in_memory(n, strategy, iterations, seed)
        judged = n == 10_000
        rows.append(
            Row(
                f"resolve `one`, {n:,} members, half available, {strategy.value}, p50 / p99",
                f"{us(got['index_p50'])} / {us(got['index_p99'])} (Roster)",
                f"{us(got['engine_p50'])} / {us(got['engine_p99'])} (order() per request)",
                f"{got['index_p99'] / got['engine_p99']:.4f}× (p99)",
                "p99 ≤ 100 µs" if judged else "≈ flat in n",
                got["index_p99"] <= TARGET_NS if judged else None,
            )
        )
    rows += cold_rows(10_000, cold_iterations, seed)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the resolution figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.resolve", description=__doc__)
    parser.add_argument("--iterations", type=int, default=2_000)
    parser.add_argument("--cold-iterations", type=int, default=30)
    args = parser.parse_args(argv)
    print_rows("Resolve `one`", run(args.iterations, args.cold_iterations))
    return 0


if __name__ == "__main__":
    sys.exit(main())
