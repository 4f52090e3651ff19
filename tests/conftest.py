"""The one fixture layer: databases (SQLite, PostgreSQL), presence stores (memory, Redis), a workspace.

Services are found from GROUPCAST_TEST_POSTGRES / GROUPCAST_TEST_REDIS (defaults: the local
ones). Where one is down, its tests are skipped and the summary says so, unless
GROUPCAST_REQUIRE_SERVICES=1 (CI), where a missing service fails the run loudly.
Under pytest-xdist each worker gets its own PostgreSQL database and Redis db (see `for_worker`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from tortoise import Tortoise, connections

from bots.shell.testing import Workspace
from core.presence.redis_store import RedisPresenceStore
from core.presence.store import MemoryPresenceStore, PresenceStore
from core.store.db import close_db, migrate, open_db


def for_worker(postgres: str, redis: str, worker: str) -> tuple[str, str]:
    """The services one pytest-xdist worker owns, so workers never drop or flush each other's data.

    Worker `gwN` gets the database `<name>_gwN` (created and dropped by this worker alone) and
    the Redis db N below the given one (15, 14, 13, … by default); run alone, the names as given.
    Deployment tests start processes that use a whole Redis db, so a key prefix would not do.
    """
    if not worker:
        return postgres, redis
    n = int(worker.removeprefix("gw"))
    pg = urlsplit(postgres)
    rd = urlsplit(redis)
    db = int(rd.path.strip("/") or 0) - n
    if db < 0:
        raise pytest.UsageError(
            f"{worker} would need Redis db {db}: give GROUPCAST_TEST_REDIS a higher db or use fewer workers"
        )
    return (
        urlunsplit(pg._replace(path=f"{pg.path}_{worker}")),
        urlunsplit(rd._replace(path=f"/{db}")),
    )


WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … under pytest-xdist
POSTGRES, REDIS = for_worker(
    os.environ.get("GROUPCAST_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/groupcast_test"),
    os.environ.get("GROUPCAST_TEST_REDIS", "redis://127.0.0.1:6379/15"),
    WORKER,
)
REQUIRE = os.environ.get("GROUPCAST_REQUIRE_SERVICES") == "1"
TABLES = (
    "notice",
    "inbound_event",
    "installation",
    "oauth_state",
    "delivery",
    "resolution",
    "request",
    "subscription",
    "live_view",
    "membership",
    "community",
    "contact",
    "tenant",
)


# Fault and deployment scenarios across real processes: the slow end of the suite.
# `-m "not slow"` leaves them out (make test-lowest proves the floors with the rest).
SLOW_MODULES = frozenset(
    {
        "test_crash_points",
        "test_discord_shards",
        "test_faults_crash",
        "test_faults_degraded",
        "test_faults_deployment",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


async def _postgres_ready() -> str | None:
    import asyncpg

    base, _, name = POSTGRES.rpartition("/")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(base + "/postgres"), 3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return None


async def _redis_ready() -> str | None:
    from redis.asyncio import Redis

    client: Redis = Redis.from_url(REDIS)
    try:
        await asyncio.wait_for(client.ping(), 3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    return None


def _required(backend: str, why: str) -> str:
    return f"{backend} is required (GROUPCAST_REQUIRE_SERVICES=1) but unreachable: {why}"


def _unavailable(backend: str, why: str) -> None:
    if REQUIRE and WORKER:
        pytest.fail(_required(backend, why))  # an exit in a worker would end it without a word
    if REQUIRE:
        pytest.exit(_required(backend, why), returncode=3)
    pytest.skip(f"{backend} unavailable: {why}")


async def _postgres_answers() -> str | None:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(POSTGRES.rpartition("/")[0] + "/postgres"), 3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    """With services required, a missing one stops the run at once, before any worker starts."""
    if not REQUIRE or WORKER:
        return
    for backend, check in (("PostgreSQL", _postgres_answers), ("Redis", _redis_ready)):
        if why := asyncio.run(check()):
            pytest.exit(_required(backend, why), returncode=3)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Read from the skip reports: under xdist the skips happen in the workers, not here.
    skipped: dict[str, str] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        backend, sep, why = reason.removeprefix("Skipped: ").partition(" unavailable: ")
        if sep and backend in ("PostgreSQL", "Redis"):
            skipped.setdefault(backend, why)
    for backend, why in skipped.items():
        terminalreporter.write_line(f"groupcast: {backend} tests SKIPPED ({why})", yellow=True)
    if not skipped:
        terminalreporter.write_line(
            "groupcast: ran on every backend that was asked for (SQLite, PostgreSQL, memory, Redis)"
        )


@pytest.fixture(scope="session")
def tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="groupcast-") as d:
        yield Path(d)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_dir: Path) -> AsyncIterator[str]:
    """A migrated database per backend, opened once; tests run grouped by backend."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_dir}/store-{uuid.uuid4().hex[:8]}.sqlite3"
    else:
        why = await _postgres_ready()
        if why:
            _unavailable("PostgreSQL", why)
        url = POSTGRES
    await migrate(url)
    await migrate(url)  # migrating twice is a no-op
    await open_db(url, migrate_first=False)
    yield url
    await close_db()


@pytest.fixture
async def db(database: str) -> str:
    """An empty database of the current backend."""
    conn = connections.get(database.split(":", 1)[0])
    if database.startswith("postgres"):
        await conn.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        await conn.execute_script("".join(f"DELETE FROM {t};" for t in TABLES))
    assert Tortoise._inited
    return database


@pytest.fixture(params=["memory", "redis"])
async def presence_store(request: pytest.FixtureRequest) -> AsyncIterator[PresenceStore]:
    """A presence store per implementation; Redis ones are namespaced per test."""
    store: PresenceStore
    if request.param == "memory":
        store = MemoryPresenceStore()
    else:
        why = await _redis_ready()
        if why:
            _unavailable("Redis", why)
        store = RedisPresenceStore(REDIS, namespace=f"t{uuid.uuid4().hex[:8]}:")
    yield store
    await store.close()


@pytest.fixture
async def second_store(presence_store: PresenceStore) -> AsyncIterator[PresenceStore]:
    """Another process's view of the same shared presence."""
    other: PresenceStore
    if isinstance(presence_store, MemoryPresenceStore):
        other = MemoryPresenceStore(presence_store.hub)
    else:
        assert isinstance(presence_store, RedisPresenceStore)
        other = RedisPresenceStore(REDIS, namespace=presence_store.namespace)
    yield other
    await other.close()


@pytest.fixture
async def workspace(db: str) -> Workspace:
    """The seeded shell workspace on the current database, clock at Monday 09:00 UTC."""
    return await Workspace().start()
