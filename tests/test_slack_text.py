"""Text through the real bolt app: decoded once, encoded once, split never cut, mentions in prose."""

from __future__ import annotations

from typing import Any

from core.commands import MAX_MESSAGE
from core.store.models import Community, Contact, Delivery, Membership, Request
from tests.slack_fixtures import ALICE, BOB, CAROL, CHANNEL, DAVE, World, world
from tests.standins import slack_payloads as sp

__all__ = ["world"]
# What Slack sends when someone types `R&D`, a labelled link with `&` and a channel reference.
TYPED = "R&amp;D <https://x.y/?a=1&amp;b=2|link> <#C1|general>"
FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<!subteam")


async def community(w: World) -> None:
    assert "Created @frontend" in await w.command(ALICE, "/community", "create frontend")
    await w.command(ALICE, "/community", f"add frontend <@{BOB}|bob> <@{CAROL}> <@{DAVE}>")
    await w.bot.settle()  # joining members are checked with Slack behind the reply


def sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def ask_dms(w: World) -> list[dict[str, Any]]:
    return [dm for u in (BOB, CAROL, DAVE) for _, dm in w.dms(u)]


async def test_slash_ask_arrives_as_typed(world: World) -> None:
    await community(world)
    await world.command(ALICE, "/ask-available", f"frontend --all {TYPED}")
    dms = ask_dms(world)
    assert len(dms) == 3
    for dm in dms:
        assert dm["text"] == f"<@{ALICE}> asks @frontend: {TYPED}"
        assert sections(dm) == [dm["text"]]
    assert await Request.get().values_list("text", flat=True) == (
        "R&D <https://x.y/?a=1&b=2|link> <#C1|general>"
    )


async def test_channel_mention_arrives_as_typed(world: World) -> None:
    await community(world)
    msg = sp.message_event(CHANNEL, ALICE, f"@frontend {TYPED}")
    await world.event(msg)
    dms = ask_dms(world)
    assert len(dms) == 3
    for dm in dms:
        assert f"asks @frontend: @frontend {TYPED}\n" in dm["text"]
        assert "&amp;amp;" not in dm["text"]


async def test_mass_mentions_stay_inert_and_dates_and_people_survive(world: World) -> None:
    await community(world)
    typed = (
        "<!here> <!channel> <!everyone> <!subteam^S1|@all> @everyone "
        f"<@{BOB}|bob> at <!date^1767600000^{{time}}|9am> &lt;@{CAROL}&gt;"
    )
    await world.command(ALICE, "/ask-available", f"frontend --all {typed}")
    (dm, *_) = ask_dms(world)
    assert "&lt;!here&gt; &lt;!channel&gt; &lt;!everyone&gt; @all @everyone" in dm["text"]
    assert f"<@{BOB}> at <!date^1767600000^{{time}}|9am>" in dm["text"]
    # typed as text, not picked as a mention: it stays text
    assert dm["text"].endswith(f"&lt;\u200b@{CAROL}&gt;")
    assert not any(f in world.outbound_text() for f in FORBIDDEN)


async def test_an_ask_at_the_limit_is_delivered_whole_and_one_more_is_refused(
    world: World,
) -> None:
    await community(world)
    text = ("lorem ipsum & dolor " * 600)[: MAX_MESSAGE - 1] + "!"
    answer = await world.command(ALICE, "/ask-available", f"frontend {text}")
    assert "Asked" in answer
    (dm,) = ask_dms(world)
    parts = sections(dm)
    assert len(parts) >= 4 and all(len(p) <= 3000 for p in parts)
    assert "".join(parts) == f"<@{ALICE}> asks @frontend: " + text.replace("&", "&amp;")
    assert dm["blocks"][-1]["type"] == "actions"

    too_long = await world.command(ALICE, "/ask-available", f"frontend {text}x")
    assert "10,001 characters" in too_long and "at most 10,000" in too_long
    await world.event(sp.message_event(CHANNEL, ALICE, f"@frontend {text[:9990]} {'y' * 20}"))
    (reply,) = [m for m in world.channel_posts() if "Not sent" in m["text"]]
    assert "at most 10,000" in reply["text"]
    assert await Request.all().count() == 1
    assert await Delivery.all().count() == 1


async def test_a_long_list_is_split_over_sections_never_cut(world: World) -> None:
    for n in range(40):
        await world.command(ALICE, "/community", f"create team-{n:02d} {'A long title ' * 9}")
    await world.command(ALICE, "/community", "list")
    (listing,) = [e for e in world.slack.ephemeral if "Communities:" in str(e["text"])]
    parts = sections(listing)
    assert len(parts) >= 2 and all(len(p) <= 3000 for p in parts)
    shown = "".join(parts)
    assert all(f"@team-{n:02d}" in shown for n in range(40))


async def test_mentions_in_urls_and_code_ask_nobody(world: World) -> None:
    await community(world)
    await world.command(ALICE, "/community", "create on-call-db")
    for text in (
        "see <https://www.npmjs.com/package/@frontend/ui>",
        "run `npm i @on-call-db/cli` first",
        "```\nping @frontend\n```",
        "mail <mailto:x@frontend.io|x@frontend.io>",
    ):
        await world.event(sp.message_event(CHANNEL, ALICE, text))
    assert world.channel_posts() == []
    assert await Request.all().count() == 0
    await world.event(sp.message_event(CHANNEL, ALICE, "`code` then @frontend in prose"))
    assert await Request.all().count() == 1


async def test_a_name_two_people_share_gets_a_question(world: World) -> None:
    await community(world)
    tenant = await world.engine.directory.tenant_id("slack", sp.DEFAULT_TEAM_ID)
    await Contact.filter(user_id__in=[BOB, CAROL]).update(display_name="sam")
    await Contact.create(tenant_id=tenant, user_id="U0000ERIN", display_name="erin")
    before = await Membership.all().values_list("contact_id", "role")
    answer = await world.command(ALICE, "/community", "set frontend owner @sam")
    assert f"two people are called sam: <@{BOB}>, <@{CAROL}> — which?" in answer
    answer = await world.command(ALICE, "/community", "add frontend @erin @SAM")
    assert "two people are called sam" in answer
    assert await Membership.all().values_list("contact_id", "role") == before
    assert await Community.all().count() == 1
