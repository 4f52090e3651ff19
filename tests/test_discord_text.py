"""Text through the real discord.py bot: kept as typed, split never cut, mentions only in prose."""

from __future__ import annotations

from core.commands import MAX_MESSAGE
from core.store.models import Contact, Delivery, Membership, Request
from tests.standins.discord_api import Call
from tests.test_discord_bot import ALICE, BOB, CAROL, CHANNEL, DAVE, GUILD, Harness, harness

__all__ = ["harness"]
TYPED = f"R&D <https://x.y/?a=1&b=2> <#{CHANNEL}> **bold** <:party:{GUILD}> <t:1767600000:R>"


def whole(call: Call) -> str:
    """A sent message's text: its content, then its embeds' descriptions."""
    return str(call.json.get("content") or "") + "".join(
        str(e.get("description") or "") for e in call.json.get("embeds") or []
    )


def channel_replies(h: Harness) -> list[Call]:
    return [
        c
        for c in h.answered("POST", rf"^/channels/{CHANNEL}/messages$")
        if c.json.get("message_reference")
    ]


async def test_slash_ask_arrives_as_typed(harness: Harness) -> None:
    h = harness
    await h.presence(BOB, "online")
    await h.command("ask-available", {"community": "frontend", "message": TYPED, "mode": "all"})
    (dm,) = await h.until(lambda: h.dms(BOB), "the DM to bob")
    link = f"https://discord.com/channels/{GUILD}/{CHANNEL}"
    assert dm.json["content"] == f"<@{ALICE}> asks @frontend: {TYPED}\n{link}"
    assert dm.json["allowed_mentions"] == {"parse": [], "users": [ALICE]}


async def test_channel_mention_arrives_as_typed(harness: Harness) -> None:
    h = harness
    await h.presence(BOB, "online")
    message = h.fake.message_create(GUILD, CHANNEL, ALICE, f"@frontend {TYPED}")
    await h.fake.dispatch("MESSAGE_CREATE", message)
    (dm,) = await h.until(lambda: h.dms(BOB), "the DM to bob")
    assert dm.json["content"].startswith(f"<@{ALICE}> asks @frontend: @frontend {TYPED}\n")


async def test_an_ask_at_the_limit_is_delivered_whole_and_one_more_is_refused(
    harness: Harness,
) -> None:
    h = harness
    await h.presence(BOB, "online")
    text = ("lorem ipsum dolor " * 600)[: MAX_MESSAGE - 1] + "!"
    reply = await h.command("ask-available", {"community": "frontend", "message": text})
    assert reply.startswith(f"@frontend: Asked <@{BOB}>"), reply
    link = f"https://discord.com/channels/{GUILD}/{CHANNEL}"
    expected = f"<@{ALICE}> asks @frontend: {text}\n{link}"
    dms = await h.until(
        lambda: (got := h.dms(BOB)) and "".join(map(whole, got)) == expected and got,
        "the whole ask in bob's DMs",
    )
    assert all(len(dm.json.get("content") or "") <= 2000 for dm in dms)
    assert dms[-1].json["components"], "the buttons ride on the last message"

    refused = await h.command("ask-available", {"community": "frontend", "message": text + "x"})
    assert "10,001 characters" in refused and "at most 10,000" in refused
    message = h.fake.message_create(GUILD, CHANNEL, ALICE, f"@frontend {text}")
    await h.fake.dispatch("MESSAGE_CREATE", message)
    (answer,) = await h.until(lambda: channel_replies(h), "the refusal")
    assert "Not sent" in answer.json["content"] and "at most 10,000" in answer.json["content"]
    assert await Request.all().count() == 1
    assert await Delivery.all().count() == 1


async def test_a_long_list_is_split_never_cut(harness: Harness) -> None:
    h = harness
    for n in range(40):
        await h.command(
            "community", {"handle": f"team-{n:02d}", "title": "A title " * 10}, "create"
        )
    before = len(h.answered("POST", r"^/webhooks/"))
    await h.interact(h.fake.interaction_command(GUILD, CHANNEL, ALICE, "community", {}, "list"))
    await h.until(lambda: h.answered("POST", r"^/webhooks/")[before:], "the list")
    shown = "".join(whole(c) for c in h.answered("POST", r"^/webhooks/")[before:])
    assert len(shown) > 2000
    assert all(f"@team-{n:02d}" in shown for n in range(40))


async def test_mentions_in_urls_and_code_ask_nobody(harness: Harness) -> None:
    h = harness
    await h.presence(BOB, "online")
    for text in (
        "see https://www.npmjs.com/package/@frontend/ui",
        "run `npm i @frontend/cli` first",
        "```\nping @frontend\n```",
        "an answer then @frontend in prose",
    ):
        await h.fake.dispatch("MESSAGE_CREATE", h.fake.message_create(GUILD, CHANNEL, ALICE, text))
    await h.until(lambda: channel_replies(h), "the one reply")
    assert len(channel_replies(h)) == 1
    assert await Request.all().count() == 1


async def test_a_name_two_people_share_gets_a_question(harness: Harness) -> None:
    h = harness
    await Contact.filter(user_id__in=[str(BOB), str(DAVE)]).update(display_name="sam")
    before = await Membership.all().values_list("contact_id", "role")
    reply = await h.command(
        "community", {"handle": "frontend", "setting": "owner", "value": "@sam"}, "set"
    )
    assert f"two people are called sam: <@{BOB}>, <@{DAVE}> — which?" in reply
    assert await Membership.all().values_list("contact_id", "role") == before
    assert CAROL  # carol keeps her own name
