"""Presence shared through Redis: one hash of records, a pub/sub feed, SET NX claims."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping

from redis.asyncio import Redis

HASH = "groupcast:presence"
CHANNEL = "groupcast:presence:feed"
CLAIMS = "groupcast:claim:"
FORGET_BATCH = 1000  # fields an HDEL removes at once


class RedisPresenceStore:
    """Several processes see each other's presence within one flush (well under a second)."""

    def __init__(self, url: str, *, namespace: str = "") -> None:
        self._redis: Redis = Redis.from_url(url, decode_responses=True)
        self.origin = uuid.uuid4().hex
        self.namespace = namespace
        self._hash = namespace + HASH
        self._channel = namespace + CHANNEL
        self._claims = namespace + CLAIMS

    async def ping(self) -> None:
        """One round trip (for /readyz); raises when Redis does not answer."""
        await self._redis.ping()

    async def save(self, records: Mapping[str, str]) -> None:
        if not records:
            return
        message = json.dumps({"o": self.origin, "r": records}, separators=(",", ":"))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(self._hash, mapping=dict(records))  # type: ignore[arg-type]  # redis-py types mapping invariantly
            pipe.publish(self._channel, message)
            await pipe.execute()

    async def load(self, keys: Iterable[str]) -> dict[str, str]:
        wanted = list(keys)
        if not wanted:
            return {}
        values = await self._redis.hmget(self._hash, wanted)
        return {k: str(v) for k, v in zip(wanted, values, strict=True) if v is not None}

    async def feed(self) -> AsyncIterator[tuple[str, str]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        try:
            async for message in pubsub.listen():
                body = json.loads(message["data"])
                if body["o"] == self.origin:
                    continue
                for item in body["r"].items():
                    yield item
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def claim(self, token: str, ttl: float) -> bool:
        ok = await self._redis.set(self._claims + token, self.origin, nx=True, px=int(ttl * 1000))
        return bool(ok)

    async def forget(self, keys: Iterable[str]) -> None:
        wanted = list(keys)
        for i in range(0, len(wanted), FORGET_BATCH):
            await self._redis.hdel(self._hash, *wanted[i : i + FORGET_BATCH])

    async def close(self) -> None:
        await self._redis.aclose()
