"""Inbound platform events taken on once, across processes and restarts.

Slack retries an event (same `event_id`) when it got no 200 within 3 s, to whichever process
answers. The first taker *claims* the id; a claim is finished once the work it started is
persisted, or released if that failed, so the platform's retry does it. A claim whose taker
died mid-way goes stale after `lease` seconds and the next retry takes it over.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from tortoise.exceptions import IntegrityError

from core.clock import Clock
from core.config import Settings
from core.store.models import InboundEvent

WINDOW = 3600.0  # Slack retries three times within about five minutes; remember for an hour
LEASE = 30.0  # a claim this old, not finished, belonged to a process that died
PRUNE_EVERY = 300.0  # seconds between deletes of rows past the window, per process


class Claim(StrEnum):
    """What a delivery of an event id means for this process."""

    NEW = "new"  # ours: do the work, then finish() or release()
    SEEN = "seen"  # done before: acknowledge and drop
    BUSY = "busy"  # another process is on it right now: answer so the platform retries later


class InboundEvents(Protocol):
    """Where event ids are remembered: the database, or Redis when REDIS_URL is set."""

    async def claim(
        self, platform: str, tenant: str, event_id: str, *, done: bool = False
    ) -> Claim:
        """Take the event on; with `done`, there is nothing to persist (finished at once)."""
        ...

    async def finish(self, platform: str, tenant: str, event_id: str) -> None:
        """The work is persisted: a retry from now on is dropped."""
        ...

    async def release(self, platform: str, tenant: str, event_id: str) -> None:
        """The work failed before it was persisted: the platform's retry must do it."""
        ...

    async def close(self) -> None: ...


class DbInboundEvents:
    """Event ids as rows of `inbound_event`, unique per (platform, tenant, event id)."""

    def __init__(self, clock: Clock, *, window: float = WINDOW, lease: float = LEASE) -> None:
        self.clock = clock
        self.window = window
        self.lease = lease
        self._pruned_at = float("-inf")

    async def claim(
        self, platform: str, tenant: str, event_id: str, *, done: bool = False
    ) -> Claim:
        now = self.clock.now()
        await self._prune(now)
        try:
            await InboundEvent.create(
                platform=platform, tenant=tenant, event_id=event_id, seen_at=now, done=done
            )
            return Claim.NEW
        except IntegrityError:
            pass
        row = await InboundEvent.get_or_none(platform=platform, tenant=tenant, event_id=event_id)
        if row is None:  # pruned between the two statements: it is long past its window
            return Claim.SEEN
        if row.done:
            return Claim.SEEN
        if now - row.seen_at < self.lease:
            return Claim.BUSY
        taken = await InboundEvent.filter(id=row.id, done=False, seen_at=row.seen_at).update(
            seen_at=now, done=done
        )
        return Claim.NEW if taken else Claim.BUSY

    async def finish(self, platform: str, tenant: str, event_id: str) -> None:
        await InboundEvent.filter(platform=platform, tenant=tenant, event_id=event_id).update(
            done=True
        )

    async def release(self, platform: str, tenant: str, event_id: str) -> None:
        await InboundEvent.filter(
            platform=platform, tenant=tenant, event_id=event_id, done=False
        ).delete()

    async def close(self) -> None:
        return None

    async def _prune(self, now: float) -> None:
        """Forget ids past the retry window, now and then, so the table stays small."""
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        await InboundEvent.filter(seen_at__lt=now - self.window).delete()


class RedisInboundEvents:
    """Event ids as Redis keys: SET NX with the lease, then the window once finished."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "groupcast:",
        window: float = WINDOW,
        lease: float = LEASE,
    ) -> None:
        from redis.asyncio import Redis

        self.redis: Redis = Redis.from_url(url)
        self.namespace = namespace
        self.window = int(window)
        self.lease = max(1, int(lease))

    def _key(self, platform: str, tenant: str, event_id: str) -> str:
        return f"{self.namespace}event:{platform}:{tenant}:{event_id}"

    async def claim(
        self, platform: str, tenant: str, event_id: str, *, done: bool = False
    ) -> Claim:
        key = self._key(platform, tenant, event_id)
        value, ttl = (b"done", self.window) if done else (b"busy", self.lease)
        if await self.redis.set(key, value, nx=True, ex=ttl):
            return Claim.NEW
        held = await self.redis.get(key)
        if held is None:  # the lease ran out between the two calls: try once more
            return Claim.NEW if await self.redis.set(key, value, nx=True, ex=ttl) else Claim.BUSY
        return Claim.SEEN if held == b"done" else Claim.BUSY

    async def finish(self, platform: str, tenant: str, event_id: str) -> None:
        await self.redis.set(self._key(platform, tenant, event_id), b"done", ex=self.window)

    async def release(self, platform: str, tenant: str, event_id: str) -> None:
        key = self._key(platform, tenant, event_id)
        if await self.redis.get(key) == b"busy":
            await self.redis.delete(key)

    async def close(self) -> None:
        await self.redis.aclose()


def inbound_events(settings: Settings, clock: Clock) -> InboundEvents:
    """Redis when the deployment shares one (REDIS_URL), else the database."""
    if settings.redis_url:
        return RedisInboundEvents(settings.redis_url)
    return DbInboundEvents(clock)
