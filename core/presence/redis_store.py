"""Presence shared through Redis: one hash of records, a pub/sub feed, SET NX claims.

A flush is one write: the batch's HSET and one PUBLISH of the same already-encoded records
(msgpack, see `core.presence.record`). Writes are pipelined across flushes: a flush sends
its batch and reads the replies to the one before, which the server answered meanwhile, so
the process never idles waiting for Redis. Reads are HMGETs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping

import msgpack
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

log = logging.getLogger(__name__)

HASH = "groupcast:presence"
CHANNEL = "groupcast:presence:feed"
CLAIMS = "groupcast:claim:"
LOAD_CHUNK = 1_000
"""Keys per HMGET: a resolution of a huge community reads in pipelined steps, not one reply
that holds the server up."""
FORGET_BATCH = 1000  # fields an HDEL removes at once


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
        self._writer: AbstractConnection | None = None  # held for writes, so replies stay in order
        self._sent: dict[str, bytes] = {}  # the batch whose replies are still to be read
        self._owed = 0  # replies owed for it
        self._lock = asyncio.Lock()

    async def ping(self) -> None:
        """One round trip (for /readyz); raises when Redis does not answer."""
        await self._redis.ping()

    async def save(self, records: Mapping[str, bytes]) -> None:
        """Send this batch (HSET + PUBLISH in one write); first read the previous one's replies.

        The commands are framed here rather than by redis-py, whose generic packer
        re-encodes every field (most of a flush's time at a thousand records). When the
        previous batch cannot be confirmed it is sent again with this one (newer records
        win); when this one cannot be sent, both stay here for the next save, and the error
        tells the monitor the store is down.
        """
        async with self._lock:
            try:
                await self._confirm()
            except Exception as exc:  # the connection is gone; its batch goes again below
                log.info("presence batch of %d unconfirmed (%s); resending", len(self._sent), exc)
            batch = {**self._sent, **records} if self._sent else dict(records)
            if not batch:
                return
            self._sent = batch
            conn = await self._connection()
            try:
                await conn.send_packed_command(self._frame(batch))
            except BaseException:
                await self._drop()
                raise
            self._owed = 2

    async def settle(self) -> None:
        """Wait until everything saved so far is applied (reads, shutdown, benchmarks)."""
        async with self._lock:
            await self._confirm()

    async def _confirm(self) -> None:
        if not self._owed or self._writer is None:
            return
        try:
            while self._owed:
                await self._writer.read_response()  # redis-py raises a Redis error reply
                self._owed -= 1
        except BaseException:
            await self._drop()
            raise
        self._sent = {}

    async def _connection(self) -> AbstractConnection:
        if self._writer is None:
            pool = self._redis.connection_pool
            self._writer = await pool.get_connection()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        return self._writer

    async def _drop(self) -> None:
        """Give up the write connection after an error: a reply left unread must not be
        read as the answer to a later command."""
        conn, self._writer, self._owed = self._writer, None, 0
        if conn is not None:
            await conn.disconnect()
            await self._redis.connection_pool.release(conn)

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
        try:
            await self.settle()  # what this process saved is read back
        except Exception:
            log.info("presence batch unconfirmed; reading without it")
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

    async def forget(self, keys: Iterable[str]) -> None:
        wanted = list(keys)
        if wanted:
            await self.settle()  # a batch still in flight must not write them back afterwards
        for i in range(0, len(wanted), FORGET_BATCH):
            await self._redis.hdel(self._hash, *wanted[i : i + FORGET_BATCH])

    async def close(self) -> None:
        try:
            await self.settle()
        except Exception:
            log.info("presence batch of %d unconfirmed at close", len(self._sent))
        async with self._lock:
            await self._drop()
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
