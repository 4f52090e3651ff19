"""Asking a community through the real bolt app: one, all, decline → next, timeout → next."""

from __future__ import annotations

from core.store.models import Delivery, DeliveryState
from tests.slack_fixtures import ALICE, BOB, CAROL, DAVE, World, buttons, world

__all__ = ["world"]


async def community(w: World) -> None:
    """alice owns @frontend with bob, carol and dave, all probed active as they joined."""
    assert "Created @frontend" in await w.command(ALICE, "/community", "create frontend Reviewers")
    added = await w.command(ALICE, "/community", f"add frontend <@{BOB}|bob> <@{CAROL}> <@{DAVE}>")
    assert "Added to @frontend" in added
    assert len(w.slack.calls_to("users.getPresence")) == 4
    assert await w.prober.step() == 0  # nothing due: probed just now


def asked(w: World) -> list[str]:
    return [u for u in (BOB, CAROL, DAVE) if w.dms(u)]


async def test_ask_one_sends_one_dm_with_buttons(world: World) -> None:
    """The target gets a DM naming requester and community, with Accept and Decline."""
    await community(world)
    answer = await world.command(ALICE, "/ask-available", "frontend can someone review #12?")
    assert "Asked" in answer
    (target,) = asked(world)
    ((_ref, dm),) = world.dms(target)
    assert f"<@{ALICE}>" in dm["text"] and "@frontend" in dm["text"] and "review #12" in dm["text"]
    assert set(buttons(dm)) == {"groupcast_accept", "groupcast_decline"}
    assert world.slack.calls_to("users.getPresence"), "candidates are probed before asking"


async def test_accept_tells_requester_and_edits_dm(world: World) -> None:
    """Accept settles the delivery, edits the DM and tells the requester privately."""
    await community(world)
    await world.command(ALICE, "/ask-available", "frontend deploy help")
    (target,) = asked(world)
    ((ref, dm),) = world.dms(target)
    await world.press(target, "groupcast_accept", buttons(dm)["groupcast_accept"], ref)
    assert world.slack.messages[tuple(ref.split(":"))].get("edited")  # type: ignore[arg-type]
    assert any("accepted your ask" in m["text"] for _, m in world.dms(ALICE))
    assert await Delivery.filter(state=DeliveryState.ACCEPTED).count() == 1


async def test_ask_all_reaches_everyone_available(world: World) -> None:
    await community(world)
    world.slack.set_presence(DAVE, "away")
    await world.prober.step()  # nothing due yet: probed just now
    world.clock.advance(world.settings.presence_stale_seconds)
    await world.prober.step()
    answer = await world.command(ALICE, "/ask-available", "frontend --all standup?")
    assert "Sent to everyone available" in answer
    assert sorted(asked(world)) == sorted([BOB, CAROL])
    assert "dave" in answer


async def test_everyone_reaches_away_members_too(world: World) -> None:
    await community(world)
    world.slack.set_presence(DAVE, "away")
    answer = await world.command(ALICE, "/ask-available", "frontend --everyone release at 5")
    assert "Sent to everyone in the community" in answer
    assert sorted(asked(world)) == sorted([BOB, CAROL, DAVE])


async def test_decline_moves_to_next(world: World) -> None:
    await community(world)
    await world.command(ALICE, "/ask-available", "frontend --one pair on a bug?")
    (first,) = asked(world)
    ((ref, dm),) = world.dms(first)
    await world.press(first, "groupcast_decline", buttons(dm)["groupcast_decline"], ref)
    now_asked = asked(world)
    assert len(now_asked) == 2 and first in now_asked
    assert "declined" in world.outbound_text()
    edited = world.slack.messages[tuple(ref.split(":"))]  # type: ignore[arg-type]
    assert "You declined" in edited["text"] and not buttons(edited)


async def test_timeout_moves_to_next(world: World) -> None:
    await community(world)
    await world.command(ALICE, "/ask-available", "frontend anyone?")
    (first,) = asked(world)
    await world.tick(world.settings.ask_timeout_seconds + 1)
    assert len(asked(world)) == 2
    ((ref, _),) = world.dms(first)
    assert "expired" in world.slack.messages[tuple(ref.split(":"))]["text"]  # type: ignore[arg-type]
    assert any("did not answer" in m["text"] for _, m in world.dms(ALICE)), (
        "a command's outcome is told privately"
    )


async def test_bad_command_gets_usage_and_never_raises(world: World) -> None:
    answer = await world.command(ALICE, "/ask-available", "")
    assert "Try: /ask-available" in answer


async def test_help_is_a_slack_command_too(world: World) -> None:
    answer = await world.command(ALICE, "/help", "")
    assert "/ask-available" in answer and "/community" in answer
