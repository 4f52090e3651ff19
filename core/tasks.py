"""Background work of one process: started without waiting, waited for when output must be in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Tasks:
    """A set of running tasks; a failure is logged, never lost silently, never raised here."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._running.add(task)
        task.add_done_callback(self._done)

    def __bool__(self) -> bool:
        return bool(self._running)

    async def wait(self) -> None:
        """Until every task, and every task those started, has finished."""
        while self._running:
            await asyncio.gather(*list(self._running))

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())
