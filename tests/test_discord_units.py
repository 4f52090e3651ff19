"""The Discord adapter's pure parts: rendering, custom ids, state mapping, pacing, the manifest."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from bots.discord.bot import GroupcastBot, intents, native_state
from bots.discord.markup import pieces
from bots.discord.platform import CUSTOM_ID_RE, Pacer, custom_id, render, view_for
from core.config import Settings
from core.ports import Button, Mention, Message
from core.presence.signals import DND, IDLE, OFFLINE, ONLINE

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

MANIFEST = Path(__file__).resolve().parent.parent / "manifests" / "discord.json"


def test_render_pings_only_named_people_and_defuses_mass_mentions() -> None:
    text, allowed = render(
        Message.of(
            Mention("42", "bob"),
            " says @everyone @here <@&123456789012345678> <@730000000000000009>",
        )
    )
    assert text.startswith("<@42> says ")
    for mass in ("@everyone", "@here", "<@&"):
        assert mass not in text
    # a person written in the text shows as a mention but is not pinged
    assert text.endswith("<@730000000000000009>")
    assert allowed.to_dict() == {"parse": [], "users": [42]}


def test_long_text_is_split_within_discords_limits_never_cut() -> None:
    text, _ = render(Message.of("word " * 3000))
    got = pieces(text)
    assert len(got) == 2
    for piece in got:
        assert len(piece.content) <= 2000 and len(piece.embeds) <= 3
        assert all(len(e.description or "") <= 4096 for e in piece.embeds)
        assert sum(len(e.description or "") for e in piece.embeds) <= 6000
    rebuilt = "".join(p.content + "".join(e.description or "" for e in p.embeds) for p in got)
    assert rebuilt == text


def test_buttons_carry_action_value_and_tenant() -> None:
    message = Message.of(
        "hi", buttons=(Button("accept", "7", "Accept"), Button("subscribe-once", "ops", "Tell me"))
    )
    view = view_for(message, "555")
    assert view is not None and view.timeout is None
    ids = [c["custom_id"] for row in view.to_components() for c in row["components"]]
    assert ids == ["groupcast:accept:7:555", "groupcast:subscribe:ops:555"]
    assert all(CUSTOM_ID_RE.fullmatch(i) for i in ids)
    assert custom_id(Button("decline", "7", "Decline"), "555") == "groupcast:decline:7:555"
    assert view_for(Message.of("no buttons"), "555") is None


def test_native_state_online_on_any_client_wins() -> None:
    assert native_state("idle", (None, "online", None)) == ONLINE
    assert native_state("idle", ("idle", None, None)) == IDLE
    assert native_state("dnd", ("dnd", None, None)) == DND
    assert native_state("invisible", (None, None, None)) == OFFLINE
    assert native_state("offline", (None, None, None)) == OFFLINE


async def test_pacer_spaces_calls_after_the_burst_without_real_sleeping() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(2.0, 3, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await pacer.wait()
    assert slept == [0.5, 0.5]
    now[0] += 10
    await pacer.wait()
    assert slept == [0.5, 0.5], "an idle pacer refills its burst"


async def test_manifest_matches_what_the_bot_syncs() -> None:
    manifest = json.loads(MANIFEST.read_text())
    bot = GroupcastBot(Settings())
    try:
        synced = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
    finally:
        await bot.close()
    assert manifest["commands"] == json.loads(json.dumps(synced))
    perms = discord.Permissions(int(manifest["permissions"]["integer"]))
    assert perms == discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,  # replies to an ask go to its thread
        embed_links=True,
        read_message_history=True,
        use_application_commands=True,
    )
    assert manifest["permissions"]["integer"] in manifest["install"]["url_template"]
    assert manifest["intents"]["integer"] == intents(message_content=True).value
    privileged = {k for k, v in manifest["intents"]["bits"].items() if v["privileged"]}
    assert privileged == {"GUILD_MEMBERS", "GUILD_PRESENCES", "MESSAGE_CONTENT"}
