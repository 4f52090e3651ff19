"""The one fixture layer: databases (SQLite, PostgreSQL), presence stores (memory, Redis), a workspace.

Services are found from GROUPCAST_TEST_POSTGRES / GROUPCAST_TEST_REDIS (defaults: the local
ones). Where one is down, its tests are skipped and the summary says so, unless
GROUPCAST_REQUIRE_SERVICES=1 (CI), where a missing service fails the run loudly.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise, connections

from bots.shell.testing import Workspace
from core.presence.redis_store import RedisPresenceStore
from core.presence.store import MemoryPresenceStore, PresenceStore
from core.store.db import close_db, migrate, open_db

POSTGRES = os.environ.get(
    "GROUPCAST_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/groupcast_test"
)
REDIS = os.environ.get("GROUPCAST_TEST_REDIS", "redis://127.0.0.1:6379/15")
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

_skipped: dict[str, str] = {}


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


def _unavailable(backend: str, why: str) -> None:
    if REQUIRE:
        pytest.exit(
            f"{backend} is required (GROUPCAST_REQUIRE_SERVICES=1) but unreachable: {why}",
            returncode=3,
        )
    _skipped[backend] = why
    pytest.skip(f"{backend} unavailable: {why}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for backend, why in _skipped.items():
        terminalreporter.write_line(f"groupcast: {backend} tests SKIPPED ({why})", yellow=True)
    if not _skipped:
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
