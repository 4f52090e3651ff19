"""An ask made by mentioning a community in a channel: the channel sees the one reply (who was
asked); accepts, declines, timeouts and the end reach the requester privately, by DM, once.
Through the shell, and the real Slack and Discord adapters against their stand-ins."""

from __future__ import annotations

import re

from bots.shell.testing import Workspace
from core.doctor import check
from core.store.models import Notice, Request, RequestState
from tests.slack_fixtures import ALICE, BOB, CAROL, CHANNEL, DAVE, World, buttons, world
from tests.standins import slack_payloads as sp
from tests.test_discord_bot import ALICE as D_ALICE
from tests.test_discord_bot import BOB as D_BOB
from tests.test_discord_bot import CHANNEL as DISCORD_CHANNEL
from tests.test_discord_bot import DAVE as D_DAVE
from tests.test_discord_bot import GUILD, Harness, custom_ids, harness

__all__ = ["harness", "world"]


async def test_shell_mention_outcomes_reach_the_requester_by_dm(workspace: Workspace) -> None:
    ws = workspace
    asked = await ws.run("@frontend is staging down?")
    assert asked.channel().count("@frontend: Sent to everyone available") == 1
    await ws.run(":accept", as_user="bob")
    later = await ws.run(":decline", as_user="dave")
    after = [o for o in ws.transcript.out[len(asked.out) :] if o.kind == "channel"]
    assert after == [], "nothing about answers is posted in the channel"
    told = [o.text for o in ws.transcript.dms("alice")]
    assert told[0] == "@bob accepted your ask in @frontend: @frontend is staging down?"
    assert told[1] == "Your ask in @frontend has run its course: @bob accepted; @dave declined."
    assert later.dms("alice"), "the end, privately"
    assert await Notice.filter(outcome=True).count() == 1
    assert await check() == []


async def test_shell_timeouts_of_a_one_mention_are_told_privately(workspace: Workspace) -> None:
    ws = workspace
    await ws.run("/community set frontend mention one")
    await ws.run("@frontend can someone look at the build?")
    t = await ws.run(":advance 6m")
    assert t.channel() == ""
    (moved_on,) = t.dms("alice")
    assert moved_on.text == "@bob did not answer within 5m; asking @dave in @frontend."
    done = await ws.run(":advance 6m")
    assert "Nobody else in @frontend is available" in done.dms("alice")[0].text
    assert done.channel() == ""
    assert (await Request.get()).state is RequestState.EXHAUSTED
    assert await check() == []


# -- Slack -------------------------------------------------------------------------------


async def slack_community(w: World) -> None:
    await w.command(ALICE, "/community", "create frontend")
    await w.command(ALICE, "/community", f"add frontend <@{BOB}> <@{CAROL}> <@{DAVE}>")
    await w.prober.step()


async def test_slack_mention_outcomes_are_dms_and_the_thread_keeps_one_reply(
    world: World,
) -> None:
    await slack_community(world)
    msg = sp.message_event(CHANNEL, ALICE, "@frontend is staging down?")
    await world.event(msg)
    (reply,) = world.channel_posts()
    assert reply["thread_ts"] == msg["ts"] and "Sent to everyone available" in reply["text"]
    for user, action in ((BOB, "groupcast_accept"), (DAVE, "groupcast_decline")):
        ((ref, dm),) = world.dms(user)
        await world.press(user, action, buttons(dm)[action], ref)
    ((ref, dm),) = world.dms(CAROL)
    await world.press(CAROL, "groupcast_decline", buttons(dm)["groupcast_decline"], ref)
    assert world.channel_posts() == [reply], "answers never reach the channel or its thread"
    told = [m["text"] for _, m in world.dms(ALICE)]
    assert len(told) == 2, told
    assert told[0].startswith(
        f"<@{BOB}> accepted your ask in @frontend: @frontend is staging down?"
    )
    assert re.search(r"Your message: https://\S+/archives/C0000GENRL/p\d+", told[0]), told[0]
    assert "has run its course" in told[1]
    to_alice = [e for e in world.slack.ephemeral if e["user"] == ALICE]
    assert not [e for e in to_alice if "accepted" in str(e["text"])], "a DM, not an ephemeral"
    assert await Notice.filter(outcome=True).count() == 1
    assert await check() == []


async def test_slack_a_one_mention_that_times_out_tells_the_requester_privately(
    world: World,
) -> None:
    await slack_community(world)
    await world.command(ALICE, "/community", "set frontend mention one")
    await world.event(sp.message_event(CHANNEL, ALICE, "@frontend anyone around?"))
    posts = world.channel_posts()
    await world.tick(6 * 60)
    assert world.channel_posts() == posts
    (moved_on,) = [m["text"] for _, m in world.dms(ALICE)]
    assert "did not answer within 5m; asking" in moved_on
    assert await check() == []


# -- Discord -----------------------------------------------------------------------------


async def test_discord_mention_outcomes_are_dms_and_the_channel_keeps_one_reply(
    harness: Harness,
) -> None:
    h = harness
    for uid in (D_BOB, D_DAVE):
        await h.presence(uid, "online")
    message = h.fake.message_create(GUILD, DISCORD_CHANNEL, D_ALICE, "hey @frontend, deploy?")
    await h.fake.dispatch("MESSAGE_CREATE", message)

    def posted() -> list[object]:
        return h.answered("POST", rf"^/channels/{DISCORD_CHANNEL}/messages$")

    (reply,) = await h.until(posted, "the reply")
    assert str(reply.json["message_reference"]["message_id"]) == message["id"]  # type: ignore[attr-defined]
    (dm,) = await h.until(lambda: h.dms(D_BOB), "the DM to bob")
    channel = h.dm_channel(D_BOB)
    await h.interact(
        h.fake.interaction_component(
            None,
            channel or 0,
            D_BOB,
            custom_ids(dm)[0],
            message_id=max(h.fake.messages[channel or 0]),
        )
    )
    told = await h.until(
        lambda: [c for c in h.dms(D_ALICE) if "accepted your ask" in c.json["content"]],
        "the requester told",
    )
    assert told[0].json["content"].startswith(f"<@{D_BOB}> accepted your ask in @frontend")
    assert f"Your message: {message_link(message)}" in told[0].json["content"]
    await h.engine.drain()
    assert len(posted()) == 1, "nothing more in the channel"
    assert await check() == []


def message_link(message: dict[str, object]) -> str:
    return f"https://discord.com/channels/{GUILD}/{DISCORD_CHANNEL}/{message['id']}"
