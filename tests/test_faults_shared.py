"""Several processes sharing one Redis and one database: presence, subscriptions, claims."""

from __future__ import annotations

import asyncio
import contextlib
import time

from bots.shell.testing import Workspace
from core import keys
from core.clock import ManualClock
from core.doctor import check
from core.presence.availability import Availability
from core.presence.monitor import PresenceMonitor
from core.presence.signals import OFFLINE, ONLINE, Activity
from core.presence.store import PresenceStore
from core.store.models import Delivery, DeliveryState

BOB = keys.encode("shell", "local", "bob")


async def until(check: object, within: float) -> float:
    """Poll `check()` until true; returns how long it took (or raises at the deadline)."""
    start = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - start > within:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def listening(one: PresenceMonitor, two: PresenceMonitor) -> None:
    """Write a probe until the follower hears it: Redis pub/sub drops what is published
    before the subscription is in place, and nothing else says when that is."""
    probe = keys.encode("shell", "local", "probe")
    one.native(probe, ONLINE)
    start = time.monotonic()
    while two.availability(probe) is not Availability.AVAILABLE:
        assert time.monotonic() - start < 5, "the follower never subscribed"
        one.observe(probe, Activity())  # dirty again, same availability
        await one.flush()
        with contextlib.suppress(AssertionError):
            await until(lambda: two.availability(probe) is Availability.AVAILABLE, 0.1)


async def test_presence_written_by_one_process_is_seen_by_another_within_a_second(
    presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    clock = ManualClock(1_767_603_600.0)
    one, two = PresenceMonitor(presence_store, clock), PresenceMonitor(second_store, clock)
    follower = asyncio.create_task(two.follow())
    try:
        await listening(one, two)
        seen = []
        for state, want in ((ONLINE, Availability.AVAILABLE), (OFFLINE, Availability.OFFLINE)):
            one.native(BOB, state)
            await one.flush()
            seen.append(await until(lambda w=want: two.availability(BOB) is w, 1.0))
        print(f"\nFAULT shared-presence: 2 writes seen in {max(seen) * 1000:.1f} ms at worst")
    finally:
        follower.cancel()


async def _pair(
    presence_store: PresenceStore, second_store: PresenceStore
) -> tuple[Workspace, Workspace]:
    a = await Workspace(store=presence_store).start()
    b = await Workspace(store=second_store).start(seed=False)
    return a, b


async def test_a_subscription_fires_once_not_once_per_process(
    db: str, presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    a, b = await _pair(presence_store, second_store)
    follow = asyncio.create_task(b.engine.monitor.follow())
    try:
        await a.run("/community subscribe frontend", as_user="erin")
        await b.run(":presence bob available")  # b has heard of bob too
        await a.engine.tick()
        await b.engine.tick()
        marks = len(a.transcript.out), len(b.transcript.out)
        # The platform tells both processes (two shards, or a prober and an event): bob left.
        a.engine.monitor.native(BOB, OFFLINE)
        b.engine.monitor.native(BOB, OFFLINE)
        await asyncio.gather(a.engine.tick(), b.engine.tick())
        await asyncio.gather(a.engine.drain(), b.engine.drain())  # pushes are sent after commit
        told = [
            o
            for ws, mark in ((a, marks[0]), (b, marks[1]))
            for o in ws.transcript.out[mark:]
            if o.kind == "dm" and o.to == "erin"
        ]
        print(f"\nFAULT subscription: 1 change, 2 processes, erin told {len(told)} time(s)")
        assert len(told) == 1, [o.text for o in told]
    finally:
        follow.cancel()


async def test_two_engines_expire_a_timed_out_ask_exactly_once(
    db: str, presence_store: PresenceStore, second_store: PresenceStore
) -> None:
    a, b = await _pair(presence_store, second_store)
    await b.run(":presence bob available", ":presence dave available")
    first = await a.run("/ask-available frontend review please")
    assert first.asked() == ["bob"]
    a.clock.advance(360)
    b.clock.advance(360)
    marks = len(a.transcript.out), len(b.transcript.out)
    await asyncio.gather(a.engine.tick(), b.engine.tick(), a.engine.tick(), b.engine.tick())
    await asyncio.gather(a.engine.drain(), b.engine.drain())
    out = a.transcript.out[marks[0] :] + b.transcript.out[marks[1] :]
    moved_on = [o for o in out if o.to == "alice" and "did not answer" in o.text]
    reasked = [o.to for o in out if o.kind == "dm" and "accept" in o.buttons]
    states = await Delivery.all().order_by("id").values_list("target__user_id", "state")
    print(
        f"\nFAULT expiry-claim: 4 ticks on 2 engines, re-routed {len(moved_on)}x, asked {reasked}"
    )
    assert len(moved_on) == 1
    assert reasked == ["dave"]
    assert states == [("bob", DeliveryState.EXPIRED), ("dave", DeliveryState.SENT)]
    assert await check() == []
