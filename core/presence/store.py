"""Where presence is shared: a protocol, and the in-process implementation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Protocol


class PresenceStore(Protocol):
    """Shared presence records (as wire strings) plus a feed of other processes' writes.

    The monitor keeps its working set in process; the store is how several processes
    agree on it, and `claim` is how exactly one of them acts on a time-driven change.
    """

    origin: str

    async def save(self, records: Mapping[str, str]) -> None: ...

    async def load(self, keys: Iterable[str]) -> dict[str, str]: ...

    def feed(self) -> AsyncIterator[tuple[str, str]]: ...

    async def claim(self, token: str, ttl: float) -> bool: ...

    async def forget(self, keys: Iterable[str]) -> None: ...

    async def close(self) -> None: ...


class MemoryHub:
    """The shared side of in-process stores: several stores on one hub act like processes."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.claims: dict[str, float] = {}
        self.queues: dict[str, asyncio.Queue[tuple[str, str]]] = {}


class MemoryPresenceStore:
    """Presence kept in this process; the default when REDIS_URL is unset."""

    def __init__(self, hub: MemoryHub | None = None) -> None:
        self.hub = hub or MemoryHub()
        self.origin = uuid.uuid4().hex
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.hub.queues[self.origin] = self._queue

    async def save(self, records: Mapping[str, str]) -> None:
        self.hub.records.update(records)
        for origin, queue in self.hub.queues.items():
            if origin != self.origin:
                for item in records.items():
                    queue.put_nowait(item)

    async def load(self, keys: Iterable[str]) -> dict[str, str]:
        got = self.hub.records
        return {k: got[k] for k in keys if k in got}

    async def feed(self) -> AsyncIterator[tuple[str, str]]:
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
