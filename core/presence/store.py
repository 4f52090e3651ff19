"""Where presence is shared: a protocol, and the in-process implementation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Protocol


class PresenceStore(Protocol):
    """Shared presence records (as wire bytes) plus a feed of other processes' writes.

    The monitor keeps its working set in process; the store is how several processes
    agree on it, and `claim` is how exactly one of them acts on a time-driven change.
    """

    origin: str

    async def save(self, records: Mapping[str, bytes]) -> None:
        """Hand a batch over; the store may confirm it later (see `settle`), and sends it
        again itself if that fails. Raises when the store is unreachable now."""
        ...

    async def settle(self) -> None:
        """Return once every batch saved so far is applied."""
        ...

    async def load(self, keys: Iterable[str]) -> dict[str, bytes]: ...

    def feed(self) -> AsyncIterator[tuple[str, bytes]]: ...

    async def claim(self, token: str, ttl: float) -> bool: ...

    async def forget(self, keys: Iterable[str]) -> None: ...

    async def close(self) -> None: ...


class MemoryHub:
    """The shared side of in-process stores: several stores on one hub act like processes."""

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}
        self.claims: dict[str, float] = {}
        self.queues: dict[str, asyncio.Queue[tuple[str, bytes]]] = {}


class MemoryPresenceStore:
    """Presence kept in this process; the default when REDIS_URL is unset."""

    def __init__(self, hub: MemoryHub | None = None) -> None:
        self.hub = hub or MemoryHub()
        self.origin = uuid.uuid4().hex
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self.hub.queues[self.origin] = self._queue

    async def save(self, records: Mapping[str, bytes]) -> None:
        self.hub.records.update(records)
        for origin, queue in self.hub.queues.items():
            if origin != self.origin:
                for item in records.items():
                    queue.put_nowait(item)

    async def settle(self) -> None:
        """Saves apply at once in process."""

    async def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        got = self.hub.records
        return {k: got[k] for k in keys if k in got}

    async def feed(self) -> AsyncIterator[tuple[str, bytes]]:
        while True:
            yield await self._queue.get()

    async def claim(self, token: str, ttl: float) -> bool:
        loop_now = asyncio.get_running_loop().time()
        expires = self.hub.claims.get(token)
        if expires is not None and expires > loop_now:
            return False
        self.hub.claims[token] = loop_now + ttl
        return True

    async def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.hub.records.pop(key, None)

    async def close(self) -> None:
        self.hub.queues.pop(self.origin, None)
