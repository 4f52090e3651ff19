"""One contract for every presence store (memory, Redis), and the monitor sharing through it."""

from __future__ import annotations

import asyncio

from core.clock import ManualClock
from core.presence.availability import Availability
from core.presence.monitor import PresenceMonitor
from core.presence.signals import ONLINE, Override
from core.presence.store import PresenceStore

T0 = 1_767_603_600.0


async def test_saved_records_load_back_and_missing_keys_are_absent(
    presence_store: PresenceStore,
) -> None:
    await presence_store.save({"a": "1", "b": "2"})
    assert await presence_store.load(["a", "b", "zz"]) == {"a": "1", "b": "2"}
    assert await presence_store.load([]) == {}


async def test_another_process_hears_writes_but_not_its_own(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    feed = second_store.feed()
    own = presence_store.feed()
    first = asyncio.ensure_future(anext(feed))
    mine = asyncio.ensure_future(anext(own))
    await asyncio.sleep(0.05)  # the subscription must be in place before the write (Redis pub/sub)
    await presence_store.save({"k": "v"})
    assert await asyncio.wait_for(first, 2) == ("k", "v")
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
    await asyncio.sleep(0.05)
    writer.native("discord:G:1", ONLINE)
    await writer.flush()
    for _ in range(100):
        if reader.availability("discord:G:1") is Availability.AVAILABLE:
            break
        await asyncio.sleep(0.01)
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
