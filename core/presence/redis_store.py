"""Presence shared through Redis: one hash of records, a pub/sub feed, SET NX claims.

A flush is one round trip: the batch's HSET and one PUBLISH of the same already-encoded
records (msgpack, see `core.presence.record`), written together. Reads are HMGETs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping

import msgpack
from redis.asyncio import Redis

HASH = "groupcast:presence"
CHANNEL = "groupcast:presence:feed"
CLAIMS = "groupcast:claim:"
LOAD_CHUNK = 1_000
"""Keys per HMGET: a resolution of a huge community reads in pipelined steps, not one reply
that holds the server up."""


class RedisPresenceStore:
    """Several processes see each other's presence within one flush (well under a second)."""

    def __init__(self, url: str, *, namespace: str = "") -> None:
        self._redis: Redis = Redis.from_url(url)
        self.origin = uuid.uuid4().hex
        self.namespace = namespace
        self._hash = namespace + HASH
        self._channel = namespace + CHANNEL
        self._claims = namespace + CLAIMS
        self._pack = msgpack.Packer(autoreset=True).pack
        self._hset = _bulk(b"HSET") + _bulk(self._hash.encode())
        self._publish = b"*3\r\n" + _bulk(b"PUBLISH") + _bulk(self._channel.encode())

    async def ping(self) -> None:
        """One round trip (for /readyz); raises when Redis does not answer."""
        await self._redis.ping()

    async def save(self, records: Mapping[str, bytes]) -> None:
        """HSET the batch and PUBLISH it, both in one write on one connection.

        The two commands are framed here rather than by redis-py, whose generic packer
        re-encodes every field (most of a flush's time at a thousand records); replies are
        still read and checked by redis-py's connection.
        """
        if not records:
            return
        pool = self._redis.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        try:
            await conn.send_packed_command(self._frame(records))
            await conn.read_response()  # HSET: how many fields were new
            await conn.read_response()  # PUBLISH: how many processes heard it
        except BaseException:
            await conn.disconnect()  # a reply left unread must not reach the next caller
            raise
        finally:
            await pool.release(conn)

    def _frame(self, records: Mapping[str, bytes]) -> bytes:
        """RESP for `HSET hash k v ...` then `PUBLISH channel [origin, records]`."""
        parts = [b"*%d\r\n" % (2 + 2 * len(records)), self._hset]
        append = parts.append
        for key, wire in records.items():
            k = key.encode()
            append(b"$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(k), k, len(wire), wire))
        message = self._pack([self.origin, records])
        parts += (self._publish, _bulk(message))
        return b"".join(parts)

    async def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(keys)
        if not wanted:
            return {}
        chunks = [wanted[i : i + LOAD_CHUNK] for i in range(0, len(wanted), LOAD_CHUNK)]
        if len(chunks) == 1:
            replies = [await self._redis.hmget(self._hash, wanted)]
        else:
            async with self._redis.pipeline(transaction=False) as pipe:
                for chunk in chunks:
                    pipe.hmget(self._hash, chunk)
                replies = await pipe.execute()
        return {
            k: v
            for chunk, values in zip(chunks, replies, strict=True)
            for k, v in zip(chunk, values, strict=True)
            if isinstance(v, bytes)
        }

    async def feed(self) -> AsyncIterator[tuple[str, bytes]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        try:
            async for message in pubsub.listen():
                origin, records = _batch(message["data"])
                if origin == self.origin:
                    continue
                for item in records.items():
                    yield item
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def claim(self, token: str, ttl: float) -> bool:
        ok = await self._redis.set(self._claims + token, self.origin, nx=True, px=int(ttl * 1000))
        return bool(ok)

    async def close(self) -> None:
        await self._redis.aclose()


def _bulk(data: bytes) -> bytes:
    """One RESP bulk string."""
    return b"$%d\r\n%b\r\n" % (len(data), data)


def _batch(data: bytes) -> tuple[str, dict[str, bytes]]:
    """One published batch: msgpack [origin, {key: record}], or an older process's JSON."""
    if data[:1] == b"{":  # written before records were msgpack: {"o": origin, "r": {...}}
        body = json.loads(data)
        return body["o"], {k: v.encode() for k, v in body["r"].items()}
    origin, records = msgpack.unpackb(data)
    return origin, records
