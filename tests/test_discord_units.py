"""The Discord adapter's pure parts: rendering, custom ids, state mapping, pacing, the manifest."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bots.discord.bot import GroupcastBot, intents, native_state
from bots.discord.markup import pieces
from bots.discord.platform import CUSTOM_ID_RE, Pacer, custom_id, render, view_for
from bots.discord.priming import Priming
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


async def test_guilds_arriving_together_are_primed_one_at_a_time_per_shard() -> None:
    """Start-up hands the priming hundreds of guilds: each shard asks about one guild's
    unheard members at a time, a pause after each, so asks keep most of the gateway budget."""
    asked: list[tuple[str, list[str]]] = []
    paused: list[float] = []
    running: set[asyncio.Task[None]] = set()
    all_asked = asyncio.Event()

    async def query(tenant: str, users: list[str]) -> int:
        asked.append((tenant, users))
        if len(asked) == 4:
            all_asked.set()
        return len(users)

    async def pause(seconds: float) -> None:
        paused.append(seconds)
        await asyncio.sleep(0)

    def spawn(coro: Coroutine[Any, Any, None]) -> None:
        running.add(asyncio.ensure_future(coro))

    tracked = {g: ["10", "11"] for g in ("1", "2", "3", "4")}  # Tracking.by_tenant()
    priming = Priming(query, lambda: tracked, spawn, every=1.0, sleep=pause)
    for guild, shard in (("1", 0), ("2", 0), ("3", 0), ("4", 1)):
        priming.arrived(guild, shard)
    priming.heard("2", "10")  # a presence pushed before guild 2's turn: not asked about
    await asyncio.wait_for(all_asked.wait(), 5)
    assert [a for a in asked if a[0] != "4"] == [
        ("1", ["10", "11"]),
        ("2", ["11"]),
        ("3", ["10", "11"]),
    ]
    assert ("4", ["10", "11"]) in asked, "another shard primes beside it"
    assert paused == [1.0] * 4
    for task in running:
        task.cancel()
