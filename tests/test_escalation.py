"""Escalation: an ask nobody takes widens step by step, once, across restarts and processes."""

from __future__ import annotations

import asyncio

from bots.shell.testing import Workspace
from core.doctor import check
from core.domain import DeliveryState, RequestState
from core.store.models import Community, Delivery, Notice, Request

ASK = "/ask-available frontend can someone review #12?"


async def frank_on_call(ws: Workspace) -> None:
    """Frank is on call for the database and in no other community; he is online (dave,
    in both communities, is busy)."""
    await ws.run(":as frank", "/community join on-call-db", ":as alice", ":presence dave busy")


async def test_owners_set_steps_and_show_lists_them(workspace: Workspace) -> None:
    ws = workspace
    refused = await ws.run("/community set frontend escalate 10m @on-call-db", as_user="bob")
    assert "only owners of @frontend" in refused.reply()
    t = await ws.run(
        "/community set frontend escalate 10m @on-call-db",
        "/community set frontend escalate 30m all",
        "/community show frontend",
    )
    assert "escalates after 10m: @on-call-db → after 30m: everyone available" in t.reply()
    assert "Escalation: after 10m: @on-call-db → after 30m: everyone available" in t.reply()
    bad = await ws.run(
        "/community set frontend escalate soon all",
        "/community set frontend escalate 10m @nowhere",
        "/community set frontend escalate 10m @frontend",
    )
    assert "“soon” is not a wait between 1m and 7d" in bad.reply()
    assert "there is no community @nowhere here" in bad.reply()
    assert "cannot escalate to itself" in bad.reply()
    assert len((await Community.get(handle="frontend")).escalation) == 2
    off = await ws.run("/community set frontend escalate off", "/community show frontend")
    assert "escalation is off" in off.reply() and "Escalation:" not in off.reply()


async def test_no_taker_after_the_wait_widens_to_the_next_step_and_the_requester_is_told(
    workspace: Workspace,
) -> None:
    ws = workspace
    await frank_on_call(ws)
    await ws.run("/community set frontend escalate 4m @on-call-db")
    first = await ws.run(ASK)
    assert first.asked() == ["bob"]
    assert (await ws.run(":advance 3m")).asked() == []
    later = await ws.run(":advance 1m")
    assert later.asked() == ["frank"], "bob is not asked again"
    told = later.dms("alice")
    assert len(told) == 1
    assert "no taker; widening to @on-call-db: asking @frank" in told[0].text
    done = await ws.run(":accept", as_user="frank")
    assert "frank accepted your ask" in done.dms("alice")[0].text
    assert (await Request.get()).state is RequestState.FULFILLED
    bob = await Delivery.get(target__user_id="bob")
    assert bob.state is DeliveryState.WITHDRAWN
    assert await check() == []


async def test_nobody_available_at_all_widens_at_once(workspace: Workspace) -> None:
    ws = workspace
    await frank_on_call(ws)
    await ws.run("/community set frontend escalate 10m @on-call-db", ":presence bob offline")
    t = await ws.run(ASK)
    assert "Nobody in @frontend is available right now" in t.reply()
    assert "Escalating (after 10m: @on-call-db)" in t.reply()
    assert t.asked() == ["frank"]
    assert "widening to @on-call-db: asking @frank" in t.dms("alice")[0].text
    assert await check() == []


async def test_a_step_never_re_asks_someone_who_declined(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/community set frontend escalate 2m everyone")
    await ws.run(ASK)
    await ws.run(":decline", as_user="bob")  # dave is asked next
    t = await ws.run(":advance 2m")
    assert t.asked() == ["carol"], "everyone: carol though busy; never bob again"
    assert "widening to everyone in @frontend: asking @carol" in t.dms("alice")[0].text
    assert await Delivery.filter(target__user_id="bob").count() == 1


async def test_the_last_step_finding_nobody_ends_the_ask_told_once(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/community set frontend escalate 1m @on-call-db")  # only bob, dave there
    await ws.run(":presence dave offline", ASK)
    await ws.run(":decline", as_user="bob")
    request = await Request.get()
    assert request.state is RequestState.EXHAUSTED
    told = [o.text for o in ws.transcript.dms("alice")]
    assert any("nobody in @on-call-db is available" in x and "stopped asking" in x for x in told)
    assert await Notice.filter(outcome=True).count() == 1
    assert await check() == []


async def test_a_step_survives_a_restart(db: str) -> None:
    a = await Workspace().start()
    await frank_on_call(a)
    await a.run("/community set frontend escalate 4m @on-call-db", ASK)
    assert (await Request.get()).next_step_at is not None
    # a stops; b starts on the same database later, with nothing of a's memory
    b = await Workspace(start=a.clock.now()).start()
    await b.run(":presence dave busy")  # presence is b's own (memory); the step is in the database
    await b.tick(4 * 60)
    assert b.transcript.asked() == ["frank"]
    assert a.transcript.asked() == ["bob"]
    assert (await Request.get()).step == 1
    assert await check() == []


async def test_two_processes_ticking_at_once_take_a_step_once(db: str) -> None:
    a = await Workspace().start()
    await frank_on_call(a)
    await a.run("/community set frontend escalate 4m @on-call-db", ASK)
    b = await Workspace(start=a.clock.now()).start()
    await b.run(":presence dave busy")
    a.clock.advance(4 * 60)
    b.clock.advance(4 * 60)
    await asyncio.gather(a.engine.tick(), b.engine.tick())
    await asyncio.gather(a.engine.drain(), b.engine.drain())
    asked = a.transcript.asked() + b.transcript.asked()
    assert sorted(asked) == ["bob", "frank"]
    assert await Notice.filter(key__startswith="step:").count() == 1
    assert (await Request.get()).step == 1
    assert await check() == []
