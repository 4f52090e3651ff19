"""The one place that wires the core: settings in, a running engine out. Nothing at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.clock import Clock, SystemClock
from core.config import Settings
from core.engine import Engine, EngineSettings
from core.ports import Platform
from core.presence.monitor import PresenceMonitor
from core.presence.record import Policy
from core.presence.store import MemoryPresenceStore, PresenceStore
from core.store.db import close_db, open_db

log = logging.getLogger(__name__)


def presence_store(settings: Settings) -> PresenceStore:
    """Redis when REDIS_URL is set (several processes), else in process."""
    if settings.redis_url:
        from core.presence.redis_store import RedisPresenceStore

        return RedisPresenceStore(settings.redis_url)
    return MemoryPresenceStore()


def policy(settings: Settings) -> Policy:
    return Policy(
        away_words=settings.words("away"),
        busy_words=settings.words("busy"),
        activity_window=settings.activity_window_seconds,
        native_ttl=settings.presence_stale_seconds,
    )


def build_engine(
    settings: Settings,
    platform: Platform,
    clock: Clock | None = None,
    store: PresenceStore | None = None,
) -> Engine:
    clock = clock or SystemClock()
    monitor = PresenceMonitor(store or presence_store(settings), clock, policy(settings))
    return Engine(
        platform,
        monitor,
        clock,
        EngineSettings(
            ask_timeout=settings.ask_timeout_seconds,
            max_attempts=settings.max_attempts,
            seed=settings.random_seed,
        ),
    )


@asynccontextmanager
async def running(
    settings: Settings,
    platform: Platform,
    clock: Clock | None = None,
    *,
    migrate: bool = True,
    tick_every: float | None = 1.0,
) -> AsyncIterator[Engine]:
    """Open the database, start the engine and its background loops; close all on exit."""
    await open_db(settings.database_url, migrate_first=migrate)
    engine = build_engine(settings, platform, clock)
    tasks: list[asyncio.Task[None]] = []
    try:
        await engine.start()
        tasks.append(asyncio.create_task(engine.monitor.follow()))
        if tick_every:
            tasks.append(asyncio.create_task(_ticking(engine, tick_every)))
        yield engine
        await engine.drain()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.monitor.flush()
        await engine.monitor.store.close()
        await close_db()


async def _ticking(engine: Engine, every: float) -> None:
    """The sweeper: timeouts, retries and time-driven presence changes, every second."""
    while True:
        await asyncio.sleep(every)
        try:
            await engine.tick()
        except Exception:
            log.exception("tick failed; will try again")
