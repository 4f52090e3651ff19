"""The one place that wires the core: settings in, a running engine out. Nothing at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.admin import CommunityAdmin
from core.admin.members import Members
from core.admin.settings import CommunitySettings
from core.choices import Choices
from core.clock import Clock, SystemClock
from core.config import Settings
from core.deliveries import DeliverySender
from core.directory import Directory
from core.engine import Engine, EngineSettings
from core.live_views import LiveViews
from core.notices import NoticeSender
from core.ports import Platform
from core.presence.monitor import PresenceMonitor
from core.presence.record import Policy
from core.presence.store import MemoryPresenceStore, PresenceStore
from core.resolver import Resolver
from core.retention import Retention
from core.store.db import close_db, open_db
from core.subscriptions import Notifier
from core.tasks import Tasks
from core.tenancy import Ownership
from core.tracking import Tracking
from core.transitions import Transitions
from core.views import Reads
from core.widen import Escalations

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
    """Every collaborator built once, each handed only what it needs."""
    clock = clock or SystemClock()
    choices = Choices(platform.name, clock)
    monitor = PresenceMonitor(
        store or presence_store(settings), clock, policy(settings), chosen=choices.load
    )
    worker = uuid.uuid4().hex[:12]
    directory = Directory()
    resolver = Resolver(directory, monitor, platform, clock, random.Random(settings.random_seed))
    transitions = Transitions(
        clock,
        resolver,
        platform.name,
        ask_timeout=settings.ask_timeout_seconds,
        max_attempts=settings.max_attempts,
    )
    tasks = Tasks()
    reads = Reads(directory, monitor, clock)
    tracking = Tracking(platform.name)
    live_views = LiveViews(platform, reads, tasks)
    members = Members(platform, directory, monitor, tracking, tasks)
    ownership = Ownership()
    return Engine(
        platform,
        monitor,
        clock,
        EngineSettings(
            ask_timeout=settings.ask_timeout_seconds,
            max_attempts=settings.max_attempts,
            seed=settings.random_seed,
        ),
        directory=directory,
        resolver=resolver,
        transitions=transitions,
        deliveries=DeliverySender(platform, clock, transitions, worker),
        notices=NoticeSender(platform, clock, worker),
        escalations=Escalations(transitions, clock, platform.name),
        tracking=tracking,
        tasks=tasks,
        reads=reads,
        notifier=Notifier(platform, monitor, clock, live_views, ownership),
        admin=CommunityAdmin(reads, members, CommunitySettings(members, live_views)),
        ownership=ownership,
        retention=Retention(
            platform.name,
            clock,
            settings.data_retention_days,
            directory=directory,
            tracking=tracking,
            monitor=monitor,
            ownership=ownership,
        ),
        choices=choices,
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
    term = _on_sigterm(engine, tasks)
    try:
        await engine.start()
        tasks.append(asyncio.create_task(engine.monitor.follow()))
        if tick_every:
            tasks.append(asyncio.create_task(_ticking(engine, tick_every)))
        try:
            yield engine
        except asyncio.CancelledError:
            if not term.is_set():
                raise
            log.warning("SIGTERM: in-flight deliveries finished, the rest handed back; exiting")
        finally:
            term.set()  # from here on SIGTERM no longer cancels the caller
        await engine.drain()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
        with contextlib.suppress(Exception):
            await engine.hand_back()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.monitor.flush()
        await engine.monitor.store.close()
        await close_db()


def _on_sigterm(engine: Engine, tasks: list[asyncio.Task[None]]) -> asyncio.Event:
    """SIGTERM drains: claim nothing new, let in-flight sends finish, then stop the caller.

    The caller (an adapter's serve loop, the shell's script) is cancelled only after the
    drain, so `running` can swallow that cancellation and the process exits 0.
    """
    term = asyncio.Event()
    main = asyncio.current_task()

    async def drain_then_stop() -> None:
        await engine.drain()
        if main is not None and not term.is_set():
            term.set()
            main.cancel()

    def handler() -> None:
        if engine.stopping:
            return
        engine.stop_sending()
        tasks.append(asyncio.create_task(drain_then_stop()))

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows or off-thread
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, handler)
    return term


async def _ticking(engine: Engine, every: float) -> None:
    """The sweeper: timeouts, retries and time-driven presence changes, every second."""
    while True:
        await asyncio.sleep(every)
        try:
            await engine.tick()
        except Exception:
            log.exception("tick failed; will try again")
