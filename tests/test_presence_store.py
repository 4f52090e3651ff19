"""One contract for every presence store (memory, Redis), and the monitor sharing through it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import pytest

from core.clock import ManualClock
from core.presence.availability import Availability
from core.presence.monitor import PresenceMonitor
from core.presence.signals import ONLINE, Activity, Override
from core.presence.store import PresenceStore

T0 = 1_767_603_600.0
DEADLINE = 5.0


async def until(done: Callable[[], bool], write: Callable[[], Awaitable[None]]) -> None:
    """Write until the other side has it: Redis pub/sub drops what is published before a
    subscription is in place, and nothing tells the publisher when that is."""
    loop = asyncio.get_running_loop()
    stop = loop.time() + DEADLINE
    while not done():
        assert loop.time() < stop, "the other process never heard the write"
        await write()
        for _ in range(20):
            if done():
                return
            await asyncio.sleep(0.005)


async def first_heard(
    feed: AsyncIterator[tuple[str, bytes]], write: Callable[[], Awaitable[None]]
) -> tuple[str, bytes]:
    """The first item another process's feed delivers, writing until it does."""
    got = asyncio.ensure_future(anext(feed))
    await until(got.done, write)
    return got.result()


async def test_saved_records_load_back_and_missing_keys_are_absent(
    presence_store: PresenceStore,
) -> None:
    await presence_store.save({"a": b"1", "b": b"\x00\r\n2"})
    assert await presence_store.load(["a", "b", "zz"]) == {"a": b"1", "b": b"\x00\r\n2"}
    assert await presence_store.load([]) == {}


async def test_a_large_read_comes_back_whole(presence_store: PresenceStore) -> None:
    records = {f"slack:T1:U{i}": f"{i}".encode() for i in range(2_500)}
    await presence_store.save(records)
    assert await presence_store.load([*records, "slack:T1:nobody"]) == records


async def test_forgotten_records_are_gone_for_every_process(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    await presence_store.save({"a": b"1", "b": b"2", "c": b"3"})
    await presence_store.forget(["a", "c", "never-saved"])
    assert await second_store.load(["a", "b", "c"]) == {"b": b"2"}
    await presence_store.forget([])


async def test_another_process_hears_writes_but_not_its_own(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    feed = second_store.feed()
    own = presence_store.feed()
    mine = asyncio.ensure_future(anext(own))
    heard = await first_heard(feed, lambda: presence_store.save({"k": b"v"}))
    assert heard == ("k", b"v")
    assert not mine.done()
    mine.cancel()
    await feed.aclose()


async def test_a_claim_is_won_once(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    assert await presence_store.claim("expire:k:1", 30)
    assert not await second_store.claim("expire:k:1", 30)
    assert not await presence_store.claim("expire:k:1", 30)
    assert await second_store.claim("expire:k:2", 30)


async def test_presence_written_by_one_monitor_is_seen_by_another(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    clock = ManualClock(T0)
    writer = PresenceMonitor(presence_store, clock)
    reader = PresenceMonitor(second_store, clock)
    writer.native("slack:T1:U1", ONLINE)
    writer.observe("slack:T1:U2", Override(Availability.BUSY, T0 + 600, "demo"))
    assert await writer.flush() == 2
    await reader.load(["slack:T1:U1", "slack:T1:U2", "slack:T1:U3"])
    assert reader.availability("slack:T1:U1") is Availability.AVAILABLE
    assert reader.verdict("slack:T1:U2").reason == "set by hand: demo"
    assert reader.availability("slack:T1:U3") is Availability.UNKNOWN


async def test_the_feed_keeps_a_following_monitor_current(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    clock = ManualClock(T0)
    writer = PresenceMonitor(presence_store, clock)
    reader = PresenceMonitor(second_store, clock)
    heard: list[object] = []
    reader.on_change(heard.append)
    follow = asyncio.ensure_future(reader.follow())
    writer.native("discord:G:1", ONLINE)

    async def flush_again() -> None:
        writer.observe("discord:G:1", Activity())  # no change of availability, but dirty again
        await writer.flush()

    await until(lambda: reader.availability("discord:G:1") is Availability.AVAILABLE, flush_again)
    follow.cancel()
    assert reader.availability("discord:G:1") is Availability.AVAILABLE
    assert heard == [], (
        "subscriptions fire in the process that saw the signal, not in every process"
    )


async def test_an_unreachable_store_degrades_to_local_presence() -> None:
    from core.presence.redis_store import RedisPresenceStore

    broken = RedisPresenceStore("redis://127.0.0.1:1/0")
    monitor = PresenceMonitor(broken, ManualClock(T0))
    monitor.native("slack:T1:U1", ONLINE)
    assert await monitor.flush() == 0
    await monitor.load(["slack:T1:U9"])
    assert monitor.availability("slack:T1:U1") is Availability.AVAILABLE
    await broken.close()


async def test_a_batch_cut_off_with_its_connection_is_sent_again_with_the_next(
    presence_store: PresenceStore,
) -> None:
    """Writes are pipelined across flushes; one whose replies never came is not lost."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from core.presence.redis_store import RedisPresenceStore
    from tests.conftest import REDIS
    from tests.faults.proxy import Proxy

    if not isinstance(presence_store, RedisPresenceStore):
        pytest.skip("a Redis connection fault")
    target = urlsplit(REDIS)
    proxy = await Proxy(target.hostname or "127.0.0.1", target.port or 6379).start()
    netloc = f"127.0.0.1:{proxy.port}"
    cut_off = RedisPresenceStore(
        target._replace(netloc=netloc).geturl(), namespace=presence_store.namespace
    )
    try:
        await cut_off.save({"a": b"1"})
        await proxy.cut()
        with contextlib.suppress(RedisConnectionError):
            await cut_off.save({"b": b"2"})
        await proxy.restore()
        await cut_off.save({"c": b"3"})
        await cut_off.settle()
        assert await presence_store.load(["a", "b", "c"]) == {"a": b"1", "b": b"2", "c": b"3"}
    finally:
        await cut_off.close()
        await proxy.close()
