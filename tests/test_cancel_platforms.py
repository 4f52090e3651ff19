"""Cancelling an ask through the real adapters: Slack's `/ask-available cancel [N]` and Discord's
`/asks cancel:<N>` (picked from the caller's open asks), against the platforms' stand-ins."""

from __future__ import annotations

from typing import Any

from core.doctor import check
from core.store.models import Delivery, DeliveryState, Request, RequestState
from tests.slack_fixtures import ALICE, BOB, CAROL, DAVE, World, buttons, world
from tests.test_discord_bot import ALICE as D_ALICE
from tests.test_discord_bot import BOB as D_BOB
from tests.test_discord_bot import CHANNEL, GUILD, Harness, custom_ids, harness

__all__ = ["harness", "world"]


async def test_slack_cancel_edits_the_dm_and_a_late_press_is_told(world: World) -> None:
    await world.command(ALICE, "/community", "create frontend")
    await world.command(ALICE, "/community", f"add frontend <@{BOB}> <@{CAROL}> <@{DAVE}>")
    await world.command(ALICE, "/ask-available", "frontend can someone review #12?")
    rid = (await Request.get()).id
    assert f"#{rid} @frontend (one)" in await world.command(ALICE, "/asks", "")
    (target,) = [u for u in (BOB, CAROL, DAVE) if world.dms(u)]
    ((ref, dm),) = world.dms(target)
    accept = buttons(dm)["groupcast_accept"]  # the DM is edited in place below
    refused = await world.command(target, "/ask-available", f"cancel {rid}")
    assert refused == f"Ask #{rid} isn't yours to cancel: only the person who asked can."
    answer = await world.command(ALICE, "/ask-available", f"cancel {rid}")
    assert answer.startswith(f"Cancelled your ask #{rid} in @frontend: “can someone review #12?”.")
    edited = world.slack.messages[tuple(ref.split(":"))]  # type: ignore[arg-type]
    assert edited["text"].endswith("alice cancelled this ask.") and not buttons(edited)
    before = len(world.slack.ephemeral)
    await world.press(target, "groupcast_accept", accept, ref)
    (late,) = world.slack.ephemeral[before:]
    assert late["text"] == "alice cancelled this ask; there is nothing to answer."
    assert (await Delivery.get()).state is DeliveryState.WITHDRAWN
    assert [m for _, m in world.dms(ALICE)] == [], "the reply was the telling"
    assert await check() == []


def autocomplete(h: Harness, typed: str) -> dict[str, Any]:
    option = {"name": "cancel", "type": 4, "value": typed}
    return h.fake.interaction_autocomplete(GUILD, CHANNEL, D_ALICE, "asks", [option], "cancel")


async def test_discord_asks_cancel_offers_your_open_asks_and_cancels_one(harness: Harness) -> None:
    h = harness
    await h.presence(D_BOB, "online")
    await h.command("ask-available", {"community": "frontend", "message": "review #12?"})
    (dm,) = await h.until(lambda: h.dms(D_BOB), "the DM to bob")
    rid = (await Request.get()).id
    await h.interact(autocomplete(h, ""))
    (offered,) = await h.until(
        lambda: [c for c in h.answered("POST", r"/callback$") if c.json["type"] == 8], "choices"
    )
    assert offered.json["data"]["choices"] == [
        {"name": f"#{rid} @frontend: review #12?", "value": rid}
    ]
    refused = await h.command("asks", {"cancel": rid}, user=D_BOB)
    assert refused == f"Ask #{rid} isn't yours to cancel: only the person who asked can."
    reply = await h.command("asks", {"cancel": rid})
    assert (
        reply == f"Cancelled your ask #{rid} in @frontend: “review #12?”. I've told bob it's off."
    )
    channel = h.dm_channel(D_BOB)
    edit = await h.until(
        lambda: h.answered("PATCH", rf"^/channels/{channel}/messages/\d+$"), "bob's DM edited"
    )
    assert edit[0].json["content"].endswith("alice cancelled this ask.")
    assert edit[0].json["components"] == []
    assert custom_ids(dm)[0].startswith("groupcast:accept:")
    assert (await Request.get()).state is RequestState.CANCELLED
    assert "no open asks" in await h.command("asks", {})
    await h.engine.drain()
    assert await check() == []
