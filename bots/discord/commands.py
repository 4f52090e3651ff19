"""Groupcast's application commands: the design's grammar as Discord slash commands.

Each command maps its options straight onto the core's typed command (`core.commands`):
nothing is joined back into text, so a message that starts with `--all` is a message.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Literal

from bots.discord.markup import decode
from bots.discord.platform import NAME
from core import my_asks, views
from core.commands import (
    AddMembers,
    Ask,
    Cancel,
    CreateCommunity,
    DeleteCommunity,
    Help,
    JoinCommunity,
    LeaveCommunity,
    LinkGroup,
    ListCommunities,
    MyAsks,
    OnCommunity,
    PinCommunity,
    RemoveMembers,
    ShowCommunity,
    Subscribe,
    Unsubscribe,
    UserRef,
    set_availability,
    working_hours,
)
from core.commands import setting as read_setting
from core.domain import Mode

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

if TYPE_CHECKING:
    from bots.discord.bot import GroupcastBot
    from core.engine import Engine

log = logging.getLogger(__name__)

MODES = {"one": Mode.ONE, "all": Mode.AVAILABLE, "count": Mode.SOME, "everyone": Mode.EVERYONE}


def add_commands(tree: app_commands.CommandTree[Any], bot: GroupcastBot) -> None:
    """The design's grammar as application commands; each builds the core's typed command."""

    async def handles(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None or bot._engine is None:
            return []
        found = await community_handles(bot._engine, str(interaction.guild_id), current)
        return [app_commands.Choice(name=label[:100], value=h) for h, label in found]

    @tree.command(name="ask-available", description="Ask whoever is available in a community")
    @app_commands.guild_only()
    @app_commands.describe(
        community="The community to ask",
        message="What you need",
        mode="Whom to reach (default: one available member)",
        count="With mode 'count': how many members",
    )
    @app_commands.autocomplete(community=handles)
    async def ask_available(
        interaction: discord.Interaction[Any],
        community: str,
        message: str,
        mode: Literal["one", "all", "count", "everyone"] = "one",
        count: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        number = (count or 0) if mode == "count" else 1  # 0: "--count takes a number…"
        await bot.run_command(
            interaction, lambda: Ask(community, MODES[mode], number, decode(message))
        )

    group = app_commands.Group(
        name="community", description="Communities of interest", guild_only=True
    )

    @group.command(name="create", description="Start a community; you become its owner")
    @app_commands.describe(handle="lower-case name, 2-32 of a-z 0-9 - _", title="A title")
    async def create(interaction: discord.Interaction[Any], handle: str, title: str = "") -> None:
        await bot.run_command(interaction, lambda: CreateCommunity(handle, title))

    for action, description in (
        (DeleteCommunity, "Delete a community (owners)"),
        (JoinCommunity, "Join a community"),
        (LeaveCommunity, "Leave a community"),
        (ShowCommunity, "Members and their availability"),
        (Unsubscribe, "Stop following a community's availability"),
        (PinCommunity, "Post a live availability message in this channel"),
    ):
        _handle_only(group, bot, action, description, handles)

    @group.command(name="add", description="Add someone to a community")
    @app_commands.describe(handle="The community", user="Whom to add")
    @app_commands.autocomplete(handle=handles)
    async def add(interaction: discord.Interaction[Any], handle: str, user: discord.User) -> None:
        await bot.run_command(interaction, lambda: AddMembers(handle, (UserRef(str(user.id)),)))

    @group.command(name="remove", description="Remove someone from a community (owners)")
    @app_commands.describe(handle="The community", user="Whom to remove")
    @app_commands.autocomplete(handle=handles)
    async def remove(
        interaction: discord.Interaction[Any], handle: str, user: discord.User
    ) -> None:
        await bot.run_command(interaction, lambda: RemoveMembers(handle, (UserRef(str(user.id)),)))

    @group.command(name="list", description="Communities in this server")
    async def list_(interaction: discord.Interaction[Any]) -> None:
        await bot.run_command(interaction, ListCommunities)

    @group.command(name="subscribe", description="Hear when a community's availability changes")
    @app_commands.describe(
        handle="The community", once="Only tell me once, when someone becomes available"
    )
    @app_commands.autocomplete(handle=handles)
    async def subscribe(
        interaction: discord.Interaction[Any], handle: str, once: bool = False
    ) -> None:
        await bot.run_command(interaction, lambda: Subscribe(handle, once=once))

    @group.command(name="set", description="Change a community's settings (owners)")
    @app_commands.describe(
        handle="The community",
        setting="strategy, mention, capacity or owner",
        value="least-recent|round-robin|random|longest-idle · one|available|everyone · N · @user",
    )
    @app_commands.autocomplete(handle=handles)
    async def set_(
        interaction: discord.Interaction[Any],
        handle: str,
        setting: Literal["strategy", "mention", "capacity", "owner"],
        value: str,
    ) -> None:
        await bot.run_command(interaction, lambda: read_setting(handle, setting, value))

    @group.command(
        name="link", description="Link a role: mentioning it asks the community (owners)"
    )
    @app_commands.describe(handle="The community", role="Mentioning this role asks the community")
    @app_commands.autocomplete(handle=handles)
    async def link(interaction: discord.Interaction[Any], handle: str, role: discord.Role) -> None:
        await bot.run_command(interaction, lambda: LinkGroup(handle, str(role.id)))

    @group.command(name="help", description="Every /community action and what it takes")
    async def community_help(interaction: discord.Interaction[Any]) -> None:
        await bot.run_command(interaction, lambda: Help("community"))

    tree.add_command(group)

    async def open_asks(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None or bot._engine is None:
            return []
        found = await my_asks.choices(
            NAME, str(interaction.guild_id), str(interaction.user.id), current
        )
        return [app_commands.Choice(name=label, value=n) for n, label in found]

    # Discord cannot give /ask-available both its ask options and a `cancel` subcommand (a
    # command with subcommands cannot be run itself), so cancelling lives beside the list.
    @tree.command(name="asks", description="Your open asks, newest first, and where each stands")
    @app_commands.guild_only()
    @app_commands.describe(cancel="Call off one of your open asks (its number in /asks)")
    @app_commands.autocomplete(cancel=open_asks)
    async def asks(
        interaction: discord.Interaction[Any],
        cancel: app_commands.Range[int, 1, 999_999_999] | None = None,
    ) -> None:
        if cancel is None:
            await bot.run_command(interaction, MyAsks)
        else:
            await bot.run_command(interaction, lambda: Cancel(cancel))

    @tree.command(name="help", description="Every groupcast command and what it takes")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await bot.run_command(interaction, Help)

    @tree.command(name="available", description="Back to automatic, or available for a while")
    @app_commands.guild_only()
    @app_commands.describe(duration="For how long, e.g. 2h (empty: back to automatic)")
    async def available(interaction: discord.Interaction[Any], duration: str = "") -> None:
        await bot.run_command(interaction, lambda: set_availability("available", duration, ""))

    @tree.command(name="away", description="Mark yourself away")
    @app_commands.guild_only()
    @app_commands.describe(duration="For how long, e.g. 1h30m", note="Why, shown to others")
    async def away(
        interaction: discord.Interaction[Any], duration: str = "", note: str = ""
    ) -> None:
        await bot.run_command(interaction, lambda: set_availability("away", duration, note))

    @tree.command(name="busy", description="Mark yourself busy")
    @app_commands.guild_only()
    @app_commands.describe(duration="For how long, e.g. 45m", note="Why, shown to others")
    async def busy(
        interaction: discord.Interaction[Any], duration: str = "", note: str = ""
    ) -> None:
        await bot.run_command(interaction, lambda: set_availability("busy", duration, note))

    @tree.command(name="hours", description="Your working hours, or 'off'")
    @app_commands.guild_only()
    @app_commands.describe(
        hours="HH:MM-HH:MM, or off", days="e.g. Mon-Fri", timezone="e.g. Europe/Berlin"
    )
    async def hours(
        interaction: discord.Interaction[Any], hours: str, days: str = "", timezone: str = ""
    ) -> None:
        await bot.run_command(interaction, lambda: working_hours(hours, days, timezone))

    @tree.error
    async def on_error(
        interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error("command failed", exc_info=error)
        if interaction.response.is_done():
            await interaction.followup.send("Something went wrong; try again.", ephemeral=True)


def _handle_only(
    group: app_commands.Group,
    bot: GroupcastBot,
    action: type[OnCommunity],
    description: str,
    handles: Any,
) -> None:
    """A `/community <action> <handle>` subcommand."""

    @group.command(name=action.action, description=description)
    @app_commands.describe(handle="The community")
    @app_commands.autocomplete(handle=handles)
    async def command(interaction: discord.Interaction[Any], handle: str) -> None:
        await bot.run_command(interaction, lambda: action(handle))


async def community_handles(engine: Engine, tenant: str, current: str) -> list[tuple[str, str]]:
    """Autocomplete choices: (handle, label) pairs, at most 25 as Discord allows."""
    rows = await views.handles(engine.reads, NAME, tenant, current, limit=25)
    return [(h, f"@{h} — {t}" if t else f"@{h}") for h, t in rows]
