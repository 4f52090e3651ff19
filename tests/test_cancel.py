"""`/ask-available cancel [N]`: the requester calls off an open ask, once, through the lifecycle,
on SQLite and PostgreSQL; a cancel racing an accept loses or wins whole."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from bots.shell.platform import Outbound, ShellPlatform
from bots.shell.testing import Workspace
from core.clock import ManualClock
from core.commands import Cancel, CommandError, parse
from core.doctor import check
from core.domain import DeliveryState, NoticeKind, RequestState
from core.lifecycle import Event, after, cancelled
from core.ports import Message
from core.store.models import Delivery, Notice, Request

D = DeliveryState


async def stored() -> list[tuple[object, ...]]:
    """Every request and delivery as it stands: a refused cancel must leave this alone."""
    requests = await Request.all().order_by("id").values_list("id", "state", "version")
    deliveries = await Delivery.all().order_by("id").values_list("id", "state")
    notices = await Notice.all().count()
    return [*requests, *deliveries, ("notices", notices)]


async def told_once(rid: int) -> Notice:
    (outcome,) = await Notice.filter(request_id=rid, outcome=True)
    return outcome


# -- the grammar and the table -----------------------------------------------------------


def test_cancel_takes_no_number_or_the_number_asks_shows() -> None:
    assert parse("ask-available", "cancel") == Cancel(None)
    assert parse("/ask-available", "Cancel #12") == Cancel(12)
    assert parse("ask-available", "cancel 7") == Cancel(7)
    with pytest.raises(CommandError, match="“soon” is not an ask number"):
        parse("ask-available", "cancel soon")
    with pytest.raises(CommandError, match="not an ask number"):
        parse("ask-available", "cancel 0")


def test_only_an_open_request_cancels_and_its_open_deliveries_are_withdrawn() -> None:
    assert cancelled(RequestState.OPEN) is RequestState.CANCELLED
    for state in RequestState:
        if state is not RequestState.OPEN:
            assert cancelled(state) is None, state
    assert after(D.PENDING, Event.CANCEL) is D.WITHDRAWN
    assert after(D.SENT, Event.CANCEL) is D.WITHDRAWN
    assert after(D.ACCEPTED, Event.CANCEL) is None


# -- through the shell -------------------------------------------------------------------


async def test_cancel_alone_calls_off_the_latest_open_ask_and_edits_its_dm(
    workspace: Workspace,
) -> None:
    ws = workspace
    await ws.run("/ask-available frontend can someone review #12?")
    await ws.run(":advance 1m", "/ask-available frontend staging is slow")
    first, second = await Request.all().order_by("id")
    t = await ws.run("/ask-available cancel")
    assert t.reply() == (
        f"Cancelled your ask #{second.id} in @frontend: “staging is slow”. I've told dave it's off."
    )
    (edit,) = [o for o in t.out if o.kind == "edit"]
    assert edit.to == "dave" and edit.text.endswith("alice cancelled this ask.")
    assert not [o for o in t.out if o.kind == "dm"], "nobody is asked or told anything else"
    assert (await Request.get(id=second.id)).state is RequestState.CANCELLED
    assert (await Request.get(id=first.id)).state is RequestState.OPEN, "only the latest"
    assert (await told_once(second.id)).kind is NoticeKind.REPLY  # the reply was the telling
    await ws.run(":advance 10m")
    assert await Delivery.filter(request_id=second.id).count() == 1, "never re-asked"
    pressed = await ws.engine.answer(
        ws.session.actor("dave"), str((await Delivery.get(request_id=second.id)).id), True
    )
    assert pressed.plain() == "alice cancelled this ask; there is nothing to answer."
    assert (await Delivery.get(request_id=second.id)).state is D.WITHDRAWN
    assert await check() == []


async def test_cancel_by_the_number_asks_lists(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/ask-available frontend can someone review #12?")
    await ws.run("/ask-available frontend --all release at 5?")
    first = (await Request.all().order_by("id").first()).id  # type: ignore[union-attr]
    listed = (await ws.run("/asks")).reply()
    assert f"#{first} @frontend (one)" in listed and "cancel <number>" in listed
    t = await ws.run(f"/ask-available cancel #{first}")
    assert t.reply().startswith(f"Cancelled your ask #{first} in @frontend: “can someone review")
    assert f"#{first} " not in (await ws.run("/asks")).reply()
    assert len([o for o in t.out if o.kind == "edit"]) == 1, "the --all ask was left alone"
    assert await check() == []


async def test_someone_elses_an_unknown_or_an_ended_ask_is_refused_and_nothing_changes(
    workspace: Workspace,
) -> None:
    ws = workspace
    none = await ws.run("/ask-available cancel")
    assert none.reply() == "You have no open ask to cancel. /asks lists your open asks."
    await ws.run("/ask-available frontend can someone review #12?")
    rid = (await Request.get()).id
    before = await stored()
    theirs = await ws.run(f"/ask-available cancel {rid}", as_user="bob")
    assert theirs.reply() == f"Ask #{rid} isn't yours to cancel: only the person who asked can."
    unknown = await ws.run(f"/ask-available cancel {rid + 40}")
    assert unknown.reply() == theirs.reply().replace(f"#{rid}", f"#{rid + 40}")
    assert await stored() == before
    assert [o.kind for o in theirs.out + unknown.out] == ["ephemeral", "ephemeral"]
    await ws.run(":accept", as_user="bob")
    before = await stored()
    ended = await ws.run(f"/ask-available cancel {rid}")
    assert (
        ended.reply()
        == f"Ask #{rid} in @frontend has already ended (someone took it): nothing to cancel."
    )
    assert await stored() == before
    assert ws.session.failures == 4  # each refusal counts: `--script` exits 1
    assert await check() == []


async def test_cancelling_twice_says_so_and_tells_nobody_again(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/ask-available frontend can someone review #12?")
    rid = (await Request.get()).id
    await ws.run("/ask-available cancel")
    again = await ws.run(f"/ask-available cancel {rid}")
    assert again.reply() == f"Ask #{rid} in @frontend is already cancelled."
    assert [o.kind for o in again.out] == ["ephemeral"]
    assert await told_once(rid)
    assert await check() == []


async def test_cancel_stops_the_escalation_steps(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/community set frontend escalate 3m everyone")
    await ws.run("/ask-available frontend can someone review #12?")
    t = await ws.run("/ask-available cancel")
    assert t.reply().endswith("I've told bob it's off. Its escalation steps won't run.")
    request = await Request.get()
    assert request.state is RequestState.CANCELLED and request.next_step_at is None
    later = await ws.run(":advance 5m")
    assert later.asked() == [] and later.dms("alice") == []
    assert await check() == []


async def test_a_cancelled_all_ask_tells_those_who_had_accepted(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/ask-available frontend --all release at 5?")
    await ws.run(":accept", as_user="bob")
    t = await ws.run("/ask-available cancel")
    rid = (await Request.get()).id
    assert t.reply() == (
        f"Cancelled your ask #{rid} in @frontend: “release at 5?”. I've told bob, dave it's off."
    ), "everyone asked, in the order they were asked"
    (to_bob,) = t.dms("bob")
    assert to_bob.text == "@alice cancelled the ask in @frontend you accepted: release at 5?"
    (edit,) = [o for o in t.out if o.kind == "edit"]
    assert edit.to == "dave" and "alice cancelled this ask." in edit.text
    assert (await Request.get()).state is RequestState.CANCELLED
    assert await check() == []


class Held(ShellPlatform):
    """The shell platform, holding a DM after the platform took it, before we record it."""

    def __init__(self, emit: Callable[[Outbound], None]) -> None:
        super().__init__(emit)
        self.gate = asyncio.Event()
        self.reached = asyncio.Event()

    async def send_direct(self, tenant: str, user_id: str, message: Message, **kw: Any) -> str:
        ref = await super().send_direct(tenant, user_id, message, **kw)
        self.reached.set()
        await self.gate.wait()
        return ref


async def test_an_ask_cancelled_while_its_dm_is_in_flight_is_edited_once_sent(db: str) -> None:
    def held(emit: Callable[[Outbound], None], _clock: ManualClock) -> Held:
        return Held(emit)

    ws = await Workspace(platform=held).start()
    platform = ws.platform
    assert isinstance(platform, Held)
    await ws.engine.command(ws.session.actor(), "ask-available", "frontend review please")
    sending = asyncio.create_task(ws.engine.drain())
    await asyncio.wait_for(platform.reached.wait(), 10)  # bob has the DM; it is not recorded
    reply = await ws.engine.command(ws.session.actor(), "ask-available", "cancel")
    assert reply.plain().startswith(f"Cancelled your ask #{(await Request.get()).id}")
    platform.gate.set()
    await sending
    await ws.engine.drain()
    assert (await Delivery.get()).state is D.WITHDRAWN, "the finished send did not revive it"
    edits = [o for o in ws.transcript.out if o.kind == "edit"]
    assert [e.to for e in edits] == ["bob"]
    assert edits[0].text.endswith("alice cancelled this ask.")
    assert await check() == []


# -- the race ----------------------------------------------------------------------------

ROUNDS = 8


async def test_cancel_racing_an_accept_exactly_one_wins(db: str) -> None:
    """Both read the ask open; the version check lets one commit and sends the other back to
    read it again, so the ask ends cancelled or taken, never both, and is told once."""
    ws = await Workspace().start()
    alice, bob = ws.session.actor("alice"), ws.session.actor("bob")
    winners: Counter[str] = Counter()
    for n in range(ROUNDS):
        await ws.run(":presence dave offline")  # bob alone: every ask goes to him
        await ws.engine.command(alice, "ask-available", f"frontend round {n}")
        await ws.engine.drain()
        request = await Request.all().order_by("-id").first()
        assert request is not None
        delivery = await Delivery.get(request_id=request.id)
        assert delivery.state is D.SENT
        accept = ws.engine.answer(bob, str(delivery.id), True)
        cancel = ws.engine.command(alice, "ask-available", f"cancel {request.id}")
        if n % 2:
            cancelled_reply, accepted_reply = reversed(await asyncio.gather(accept, cancel))
        else:
            cancelled_reply, accepted_reply = await asyncio.gather(cancel, accept)
        await ws.engine.drain()
        request = await Request.get(id=request.id)
        delivery = await Delivery.get(id=delivery.id)
        if request.state is RequestState.CANCELLED:
            winners["cancel"] += 1
            assert delivery.state is D.WITHDRAWN
            assert cancelled_reply.plain().startswith(f"Cancelled your ask #{request.id}")
            assert accepted_reply.plain() == "alice cancelled this ask; there is nothing to answer."
        else:
            winners["accept"] += 1
            assert request.state is RequestState.FULFILLED and delivery.state is D.ACCEPTED
            assert accepted_reply.plain().startswith("Accepted.")
            assert cancelled_reply.plain() == (
                f"Ask #{request.id} in @frontend has already ended (someone took it): "
                "nothing to cancel."
            )
        assert await told_once(request.id)
        edits = [o for o in ws.transcript.out if o.kind == "edit" and o.ref == delivery.message_ref]
        assert len({e.text for e in edits}) == 1, "one outcome in bob's DM, not two"
    print(f"\nRACE cancel vs accept over {ROUNDS} rounds: {dict(winners)}")
    assert sum(winners.values()) == ROUNDS
    assert await check() == []
