"""Group requests end to end through the shell adapter: resolve, deliver, accept, decline, time out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bots.shell.testing import Workspace
from core.ports import Actor, Message
from core.store.models import Delivery, DeliveryState, Request, RequestState


async def test_ask_one_reaches_one_available_member_and_explains_the_rest(
    workspace: Workspace,
) -> None:
    t = await workspace.run("/ask-available frontend can someone review #12?")
    assert t.asked() == ["bob"]
    assert "Asked @bob" in t.reply()
    assert "carol (busy: do-not-disturb until 11:00 UTC)" in t.reply()
    assert "Also available, not needed this time: dave" in t.reply()
    (dm,) = t.dms("bob")
    assert "@alice asks @frontend: can someone review #12?" in dm.text


async def test_the_requester_is_never_their_own_target(workspace: Workspace) -> None:
    t = await workspace.run("/ask-available frontend --all anyone?")
    assert "alice" not in t.asked()
    assert sorted(t.asked()) == ["bob", "dave"]


async def test_the_requester_is_not_offered_as_spare_nor_is_anyone_already_asked(
    workspace: Workspace,
) -> None:
    t = await workspace.run("/ask-available frontend one?", as_user="bob")
    assert "Also available, not needed this time: bob" not in t.reply(), t.reply()
    assert (
        "bob (available, not needed)"
        not in (await workspace.run("/ask-available why", as_user="bob")).reply()
    )


async def test_least_recently_asked_goes_first(workspace: Workspace) -> None:
    first = await workspace.run("/ask-available frontend one?")
    second = await workspace.run("/ask-available frontend two?")
    assert first.asked() == ["bob"]
    assert second.asked() == ["dave"]


async def test_decline_moves_to_the_next_available_member(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend review please")
    t = await workspace.run(":decline", as_user="bob")
    assert t.asked() == ["dave"]
    assert "@bob declined; asking @dave in @frontend." in t.dms("alice")[0].text
    assert any("You declined." in o.text for o in t.out if o.kind == "edit")


async def test_timeout_moves_on_then_says_nobody_else_is_available(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend review please")
    t = await workspace.run(":advance 6m")
    assert t.asked() == ["dave"]
    assert "@bob did not answer within 5m; asking @dave" in t.dms("alice")[0].text
    t = await workspace.run(":advance 6m")
    assert t.asked() == []
    assert "Nobody else in @frontend is available to ask" in t.dms("alice")[0].text
    request = await Request.get()
    assert request.state is RequestState.EXHAUSTED


async def test_accept_tells_the_requester_and_closes_the_request(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend review please")
    t = await workspace.run(":accept", as_user="bob")
    assert "@bob accepted your ask in @frontend: review please" in t.dms("alice")[0].text
    assert (await Request.get()).state is RequestState.FULFILLED
    later = await workspace.run(":advance 10m")
    assert later.asked() == [], "an accepted ask never times out into another ask"


async def test_some_asks_n_and_withdraws_the_rest_once_enough_accept(workspace: Workspace) -> None:
    await workspace.run(":presence carol available", ":presence erin available")
    await workspace.run("/hours off", as_user="carol")
    t = await workspace.run("/available", as_user="carol")
    t = await workspace.run("/ask-available frontend --count 2 pair on the release?")
    assert len(t.asked()) == 2
    a, b = t.asked()
    await workspace.run(":accept", as_user=a)
    done = await workspace.run(":accept", as_user=b)
    assert (await Request.get()).state is RequestState.FULFILLED
    assert "accepted your ask" in done.dms("alice")[0].text


async def test_everyone_reaches_every_member_whatever_their_availability(
    workspace: Workspace,
) -> None:
    t = await workspace.run("/ask-available frontend --everyone all-hands at 3")
    assert sorted(t.asked()) == ["bob", "carol", "dave"]
    assert "Sent to everyone in the community" in t.reply()


async def test_nobody_available_lists_states_and_offers_to_tell_when_someone_is(
    workspace: Workspace,
) -> None:
    await workspace.run(":presence bob offline", ":presence dave idle")
    t = await workspace.run("/ask-available frontend anyone?")
    assert t.asked() == []
    assert "Nobody in @frontend is available right now." in t.reply()
    assert "bob: offline" in t.reply() and "dave: idle" in t.reply()
    assert "/community subscribe frontend --once" in t.reply()
    await workspace.run("/community subscribe frontend --once")
    t = await workspace.run(":presence dave available")
    assert "Someone in @frontend is available now: @dave" in t.dms("alice")[0].text
    again = await workspace.run(":presence bob available")
    assert again.dms("alice") == [], "a once-subscription fires once"


async def test_members_at_capacity_are_skipped(workspace: Workspace) -> None:
    await workspace.run("/community set frontend capacity 1")
    await workspace.run("/ask-available frontend one")
    await workspace.run("/ask-available frontend two")
    t = await workspace.run("/ask-available frontend three")
    assert t.asked() == []
    assert "already holds 1 open asks (capacity 1)" in t.reply()


async def test_a_mention_in_a_channel_is_a_group_request_answered_in_the_channel(
    workspace: Workspace,
) -> None:
    t = await workspace.run("@frontend is the build broken?")
    assert sorted(t.asked()) == ["bob", "dave"]
    assert "Sent to everyone available: @bob, @dave." in t.channel()
    plain = await workspace.run("lunch anyone? mail me at x@frontend.com")
    assert plain.asked() == [], "plain messages pass through untouched"


async def test_timeouts_survive_a_restart(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend review please")
    restarted = Workspace(start=workspace.clock.now())
    await restarted.start()
    restarted.clock.advance(6 * 60)
    await restarted.engine.tick()
    await restarted.engine.drain()
    assert restarted.transcript.asked() == ["dave"]


async def test_pending_deliveries_are_sent_after_a_crash(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend --everyone fan-out")
    await Delivery.all().update(state=DeliveryState.PENDING, claimed_by=None, claimed_until=None)
    restarted = Workspace(start=workspace.clock.now())
    await restarted.start()
    await restarted.engine.drain()
    assert sorted(restarted.transcript.asked()) == ["bob", "carol", "dave"]
    assert await Delivery.filter(state=DeliveryState.PENDING).count() == 0


async def test_only_the_target_can_answer_an_ask(workspace: Workspace) -> None:
    await workspace.run("/ask-available frontend review please")
    delivery = await Delivery.get()
    reply = await workspace.engine.answer(workspace.session.actor("dave"), str(delivery.id), True)
    assert "isn't addressed to you" in reply.plain()
    forged = await workspace.engine.answer(workspace.session.actor("bob"), "12; DROP TABLE", True)
    assert "isn't addressed to you" in forged.plain()
    assert (await Delivery.get()).state is DeliveryState.SENT


async def test_the_sweeper_leaves_a_running_fan_out_alone(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    held, sending = asyncio.Event(), asyncio.Event()
    send = workspace.platform.send_direct

    async def held_send(tenant: str, user_id: str, message: Message, **idempotency: Any) -> str:
        sending.set()
        await held.wait()  # the platform is slow: the fan-out is mid-way
        return await send(tenant, user_id, message, **idempotency)

    monkeypatch.setattr(workspace.platform, "send_direct", held_send)
    await workspace.engine.command(
        workspace.session.actor(), "ask-available", "frontend --everyone drill"
    )
    await asyncio.wait_for(sending.wait(), 10)  # the fan-out has leased its batch and is sending
    assert await workspace.engine.deliveries.due() == []
    await workspace.engine.tick()
    held.set()
    await workspace.engine.drain()
    assert sorted(workspace.transcript.asked()) == ["bob", "carol", "dave"]


async def test_skip_reasons_tell_times_in_the_requesters_zone(workspace: Workspace) -> None:
    berlin = Actor("shell", "local", "alice", "alice", "Europe/Berlin")
    reply = await workspace.engine.command(berlin, "ask-available", "frontend review please")
    assert "carol (busy: do-not-disturb until 12:00 CET)" in reply.plain()


async def test_a_tick_racing_a_new_fan_out_never_sends_twice(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    send = workspace.platform.send_direct

    async def networked(tenant: str, user_id: str, message: Message, **idempotency: Any) -> str:
        for _ in range(3):
            await asyncio.sleep(0)  # a real send yields to the loop while it is on the wire
        return await send(tenant, user_id, message, **idempotency)

    monkeypatch.setattr(workspace.platform, "send_direct", networked)
    actor = workspace.session.actor()
    await workspace.engine.command(actor, "ask-available", "frontend --everyone all hands")
    await workspace.engine.tick()  # the sweeper finds the new deliveries before their task runs
    await workspace.engine.drain()
    asked = workspace.transcript.asked()
    assert sorted(asked) == ["bob", "carol", "dave"], asked
