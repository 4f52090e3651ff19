"""The request lifecycle: its table, and the awkward moments it must survive in one process or two."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bots.shell.platform import Outbound, ShellPlatform
from bots.shell.testing import Workspace
from core.clock import ManualClock
from core.doctor import check
from core.domain import DeliveryState, Mode, RequestState
from core.leases import LEASE_SECONDS
from core.lifecycle import DELIVERY, Event, Tally, after, step
from core.ports import DeliveryFailed, Message
from core.store.models import Delivery, Notice, Request, Subscription

D = DeliveryState


# -- the table ---------------------------------------------------------------------------


def test_only_open_deliveries_move_and_each_event_has_one_destination() -> None:
    assert after(D.SENT, Event.ACCEPT) is D.ACCEPTED
    assert after(D.PENDING, Event.ACCEPT) is D.ACCEPTED, "the DM can arrive before it is recorded"
    assert after(D.PENDING, Event.TIMEOUT) is None, "an ask not yet sent cannot time out"
    for state in (D.ACCEPTED, D.DECLINED, D.EXPIRED, D.FAILED, D.WITHDRAWN):
        assert all(after(state, e) is None for e in Event), f"{state} is final"
    assert {s for s, _ in DELIVERY} == {D.PENDING, D.SENT}


def test_one_closes_on_accept_asks_the_next_on_decline_and_gives_up_when_out_of_room() -> None:
    assert step(Mode.ONE, 1, Tally(open=0, accepted=1, tried=1), 5).close is RequestState.FULFILLED
    nxt = step(Mode.ONE, 1, Tally(open=0, accepted=0, tried=1), 5)
    assert (nxt.more, nxt.close, nxt.close_if_none) == (1, None, RequestState.EXHAUSTED)
    assert step(Mode.ONE, 1, Tally(open=0, accepted=0, tried=5), 5).close is RequestState.EXHAUSTED


def test_some_waits_for_open_asks_before_looking_further() -> None:
    assert step(Mode.SOME, 2, Tally(open=1, accepted=1, tried=2), 5).more == 0
    assert step(Mode.SOME, 3, Tally(open=1, accepted=0, tried=2), 5).more == 2


def test_all_ends_when_every_answer_is_in_fulfilled_if_anyone_accepted() -> None:
    assert step(Mode.AVAILABLE, 1, Tally(open=1, accepted=1, tried=2), 5).close is None
    done = step(Mode.AVAILABLE, 1, Tally(open=0, accepted=1, tried=2), 5)
    assert done.close is RequestState.FULFILLED
    silent = step(Mode.EVERYONE, 1, Tally(open=0, accepted=0, tried=3), 5)
    assert silent.close is RequestState.EXPIRED


# -- awkward moments ---------------------------------------------------------------------


class Held(ShellPlatform):
    """The shell platform with a gate before (or after) the platform takes a DM."""

    def __init__(self, emit: Callable[[Outbound], None], log: Path | None = None) -> None:
        super().__init__(emit, log)
        self.gate = asyncio.Event()
        self.gate.set()
        self.reached = asyncio.Event()
        self.hold_after = False

    async def send_direct(self, tenant: str, user_id: str, message: Message, **kw: Any) -> str:
        if not self.hold_after:
            self.reached.set()
            await self.gate.wait()
        ref = await super().send_direct(tenant, user_id, message, **kw)
        if self.hold_after:
            self.reached.set()
            await self.gate.wait()
        return ref


def held(log: Path | None = None) -> Callable[[Callable[[Outbound], None], ManualClock], Held]:
    return lambda emit, _clock: Held(emit, log)


async def test_an_accept_pressed_while_its_send_is_in_flight_stays_accepted(db: str) -> None:
    ws = await Workspace(platform=held()).start()
    platform = ws.platform
    assert isinstance(platform, Held)
    platform.hold_after = True  # the platform has the DM; our record of it is still to come
    await ws.engine.command(ws.session.actor(), "ask-available", "frontend review please")
    platform.gate.clear()
    task = asyncio.create_task(ws.engine.drain())
    await asyncio.wait_for(platform.reached.wait(), 10)
    delivery = await Delivery.get()
    answer = await ws.engine.answer(ws.session.actor("bob"), str(delivery.id), True)
    assert "Accepted" in answer.plain()
    platform.gate.set()
    await task
    await ws.engine.drain()
    assert (await Delivery.get()).state is D.ACCEPTED, "the finishing send did not overwrite it"
    later = await ws.run(":advance 10m")
    assert later.asked() == []
    assert not [o for o in later.out if "expired" in o.text]
    edits = [o.text for o in ws.transcript.out if o.kind == "edit"]
    assert edits and all("You accepted." in e for e in edits)
    assert await check() == []


async def test_a_send_that_outlives_its_lease_is_recorded_once_by_the_new_owner(
    db: str, tmp_path: Path
) -> None:
    log = tmp_path / "platform.sent"  # what the platform itself remembers, shared by both
    a = await Workspace(platform=held(log)).start()
    b = await Workspace(platform=held(log)).start(seed=False)
    pa = a.platform
    assert isinstance(pa, Held)
    pa.hold_after, pa.gate = True, asyncio.Event()
    await a.engine.command(a.session.actor(), "ask-available", "frontend review please")
    slow = asyncio.create_task(a.engine.drain())
    await asyncio.wait_for(pa.reached.wait(), 10)  # sent, not yet recorded: a stalls here
    b.clock.advance(LEASE_SECONDS + 1)  # a's lease has run out by b's clock
    await b.tick()  # b takes the delivery over and retries it: the platform has it already
    pa.gate.set()
    await slow  # a wakes up, but its lease is gone: it records nothing over b
    dms = [o for ws in (a, b) for o in ws.transcript.out if o.kind == "dm" and o.to == "bob"]
    assert len(dms) == 1
    row = await Delivery.get()
    assert row.state is D.SENT and row.tries == 2 and row.message_ref == dms[0].ref
    assert await check() == []


async def test_a_subscriber_who_cannot_be_reached_holds_up_nobody(db: str) -> None:
    class ClosedForErin(ShellPlatform):
        async def send_direct(self, tenant: str, user_id: str, message: Message, **kw: Any) -> str:
            if user_id == "erin":
                raise DeliveryFailed("cannot_dm", permanent=True)
            return await super().send_direct(tenant, user_id, message, **kw)

    ws = await Workspace(platform=lambda emit, _c: ClosedForErin(emit)).start()
    await ws.run("/community subscribe frontend", as_user="erin")
    await ws.run("/community subscribe frontend", as_user="alice")
    for state in ("offline", "available", "idle"):
        await ws.run(f":presence bob {state}")
    told = ws.transcript.dms("alice")
    assert len(told) == 3, [o.text for o in told]
    assert await Notice.filter(recipient="erin", error__not_isnull=True).count() == 3


async def test_a_once_subscription_ends_only_after_its_message_is_delivered(db: str) -> None:
    class Flaky(ShellPlatform):
        down = True

        async def send_direct(self, tenant: str, user_id: str, message: Message, **kw: Any) -> str:
            if user_id == "alice" and self.down:
                raise DeliveryFailed("internal_error", permanent=False)
            return await super().send_direct(tenant, user_id, message, **kw)

    ws = await Workspace(platform=lambda emit, _c: Flaky(emit)).start()
    await ws.run(":presence bob offline", ":presence dave offline")
    await ws.run("/community subscribe frontend --once")
    await ws.run(":presence dave available")
    assert await Subscription.exists(), "not told yet, so still subscribed"
    platform = ws.platform
    assert isinstance(platform, Flaky)
    platform.down = False
    await ws.tick(5)
    assert "Someone in @frontend is available now: @dave" in ws.transcript.dms("alice")[0].text
    assert not await Subscription.exists()


async def test_an_all_ask_everyone_accepts_ends_fulfilled_and_told_once(db: str) -> None:
    ws = await Workspace().start()
    await ws.run("/ask-available frontend --all release at 5?")
    await ws.run(":accept", as_user="bob")
    t = await ws.run(":accept", as_user="dave")
    assert (await Request.get()).state is RequestState.FULFILLED
    assert "accepted your ask" in t.dms("alice")[0].text
    assert await Notice.filter(outcome=True).count() == 1
    assert await check() == []


async def test_each_process_sweeps_only_its_own_platforms_work(db: str) -> None:
    class Discordish(ShellPlatform):
        name = "discord"

    shell = await Workspace().start()
    other = await Workspace(platform=lambda emit, _c: Discordish(emit)).start(seed=False)
    await shell.run("/ask-available frontend review please")
    other.clock.advance(6 * 60)
    await other.tick()
    assert (await Delivery.get()).state is D.SENT, "the other platform's process left it alone"
    assert other.transcript.out == []
    await shell.tick(6 * 60)
    assert shell.transcript.asked()[-1] == "dave"
    assert await check() == []


async def test_doctor_finds_an_open_request_with_nothing_in_flight(db: str) -> None:
    ws = await Workspace().start()
    await ws.run("/ask-available frontend review please")
    await Delivery.all().update(state=D.DECLINED)  # as the old engine left one mid-follow-up
    problems = await check()
    assert any("open with no delivery in flight" in p for p in problems), problems
