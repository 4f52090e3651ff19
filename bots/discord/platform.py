"""The core's Platform port over discord.py's HTTP client: render, pace, send, classify failures.

Rendering (bots/discord/markup.py) is the one place mass mentions are neutralised; a long
message goes as several Discord messages, buttons on the last.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bots.discord.markup import Piece, pieces, render
from core.ports import KEY_MAX, Button, DeliveryFailed, Message
from core.ratelimit import Pacer  # one token bucket for every adapter

with warnings.catch_warnings():
    # discord.py imports the stdlib audioop module, deprecated since 3.11.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord.http import handle_message_parameters

log = logging.getLogger(__name__)

__all__ = ["CUSTOM_ID_RE", "NAME", "DiscordPlatform", "Pacer", "custom_id", "render", "view_for"]

NAME = "discord"
SEND_TIMEOUT = 30.0  # discord.py sets no per-request timeout; a send that hangs is ambiguous
# Re-sends of a keyed message right after an ambiguous failure: safe, Discord answers a repeated
# nonce (with enforce_nonce) with the message it already created.
AMBIGUOUS_RESENDS = 2
CUSTOM_ID_PREFIX = "groupcast"
# "Cannot send messages to this user" (DMs closed, blocked, no shared guild) and friends:
# the person cannot be reached this way, so the core should move on at once.
PERMANENT_CODES = frozenset({50007, 50033, 10013, 10003})
ACTIONS = {"accept": "accept", "decline": "decline", "subscribe-once": "subscribe"}
STYLES = {
    "accept": discord.ButtonStyle.success,
    "decline": discord.ButtonStyle.secondary,
    "subscribe": discord.ButtonStyle.primary,
}

Querier = Callable[[str, list[str]], Awaitable[int]]


def custom_id(button: Button, tenant: str) -> str:
    """`groupcast:<accept|decline|subscribe>:<value>:<tenant>`; the tenant is needed because a
    DM's button press carries no guild, and contacts are tenant-scoped."""
    return f"{CUSTOM_ID_PREFIX}:{ACTIONS.get(button.action, button.action)}:{button.value}:{tenant}"


CUSTOM_ID_RE = re.compile(
    rf"^{CUSTOM_ID_PREFIX}:(?P<action>accept|decline|subscribe):(?P<value>[^:]{{1,64}}):(?P<tenant>\d{{1,20}})$"
)


def view_for(message: Message, tenant: str) -> discord.ui.View | None:
    """Buttons as a persistent view (no timeout, every item has a custom id)."""
    if not message.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for b in message.buttons:
        action = ACTIONS.get(b.action, b.action)
        view.add_item(
            discord.ui.Button(
                label=b.label[:80],
                style=STYLES.get(action, discord.ButtonStyle.secondary),
                custom_id=custom_id(b, tenant),
            )
        )
    return view


class DiscordPlatform:
    """Implements the core's Platform port with discord.py's HTTP client (no caches needed)."""

    name = NAME

    def __init__(
        self,
        http: discord.http.HTTPClient,
        *,
        dm_pacer: Pacer | None = None,
        send_pacer: Pacer | None = None,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.http = http
        self.send_timeout = send_timeout
        # Opening DMs: 2 a second after a burst of 5; sends: 5 a second after a burst of 10.
        # Discord's documented global limit is 50 requests a second.
        self.dm_pacer = dm_pacer or Pacer(2.0, 5)
        self.send_pacer = send_pacer or Pacer(5.0, 10)
        self._dm_channels: dict[str, str] = {}
        self.querier: Querier | None = None  # wired by the bot: presence by id over the gateway

    # -- the port ---------------------------------------------------------------------

    async def send_direct(
        self,
        tenant: str,
        user_id: str,
        message: Message,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        """`key` is the message's nonce, so a repeat within Discord's window is the same DM;
        `retry` needs nothing more here (the nonce covers it)."""
        channel = await self._dm_channel(user_id)
        return await self._send(channel, message, tenant, key=key)

    async def post(
        self,
        tenant: str,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        """In the channel; with `thread` (the message a request came from) as a reply to it."""
        reference = (
            discord.MessageReference(
                message_id=int(thread), channel_id=int(channel), fail_if_not_exists=False
            )
            if thread and thread.isdigit()
            else None
        )
        return await self._send(channel, message, tenant, reference=reference, key=key)

    async def update(self, tenant: str, ref: str, message: Message) -> None:
        channel, _, message_id = ref.partition(":")
        text, allowed = render(message)
        first, *more = pieces(text)
        # view=None sends `components: []`, which removes buttons from a closed ask.
        params = handle_message_parameters(
            content=first.content,
            embeds=first.embeds,
            allowed_mentions=allowed,
            view=view_for(message, tenant) if not more else None,
        )
        await self._call(lambda: self.http.edit_message(channel, message_id, params=params))
        for i, piece in enumerate(more):  # an edit that outgrew one message continues below
            last = i == len(more) - 1
            await self._post(channel, piece, allowed, view_for(message, tenant) if last else None)

    async def check_presence(self, tenant: str, user_ids: list[str]) -> int:
        """Presence is pushed over the gateway, but not for someone who was never in a
        community when the guild arrived: the bot asks the gateway (op 8) for those."""
        if self.querier is None or not user_ids:
            return len(user_ids)
        return await self.querier(tenant, user_ids)

    async def delete(self, tenant: str, ref: str) -> None:
        channel, _, message_id = ref.partition(":")
        await self._call(lambda: self.http.delete_message(channel, message_id))

    async def views_changed(self, tenant: str, user_ids: set[str], community_ids: set[int]) -> None:
        """No home tabs on Discord; pinned views are refreshed by the core through `update`."""
        return

    # -- helpers ----------------------------------------------------------------------

    async def _dm_channel(self, user_id: str) -> str:
        """Open (once per user, cached) the DM channel the bot uses to reach them."""
        cached = self._dm_channels.get(user_id)
        if cached is not None:
            return cached
        if not user_id.isdigit():
            raise DeliveryFailed(f"{user_id!r} is not a Discord user id", permanent=True)
        await self.dm_pacer.wait()
        data = await self._call(lambda: self.http.start_private_message(int(user_id)))
        channel = str(data["id"])
        self._dm_channels[user_id] = channel
        return channel

    async def _send(
        self,
        channel: str,
        message: Message,
        tenant: str,
        *,
        reference: discord.MessageReference | None = None,
        key: str | None = None,
    ) -> str:
        """Every piece of a long message in order; the reference is the last (with the buttons).

        With a key each piece carries its own nonce (`key`, or `key.N`), so an ambiguous
        failure is re-sent without a second copy of what landed.
        """
        if key is not None and not 0 < len(key) <= KEY_MAX:
            raise DeliveryFailed(
                f"idempotency key {key!r} is not 1-{KEY_MAX} chars", permanent=True
            )
        text, allowed = render(message)
        parts = pieces(text)
        ref = ""
        for i, piece in enumerate(parts):
            last = i == len(parts) - 1
            view = view_for(message, tenant) if last else None
            nonce = key if key is None or len(parts) == 1 else f"{key}.{i}"
            named = set(re.findall(r"<@(\d+)>", piece.content))  # pings only land in content
            users = allowed.users if isinstance(allowed.users, list) else []
            mine = discord.AllowedMentions(
                everyone=False,
                roles=False,
                users=[u for u in users if str(u.id) in named],
                replied_user=False,
            )
            ref = await self._post(channel, piece, mine, view, reference if i == 0 else None, nonce)
        return ref

    async def _post(
        self,
        channel: str,
        piece: Piece,
        allowed: discord.AllowedMentions,
        view: discord.ui.View | None,
        reference: discord.MessageReference | None = None,
        key: str | None = None,
    ) -> str:
        params = handle_message_parameters(
            content=piece.content,
            embeds=piece.embeds or discord.utils.MISSING,
            allowed_mentions=allowed,
            view=view if view is not None else discord.utils.MISSING,
            message_reference=(
                reference.to_message_reference_dict()
                if reference is not None
                else discord.utils.MISSING
            ),
            mention_author=False if reference is not None else None,
            nonce=key,  # discord.py adds enforce_nonce: true with it
        )
        resends = AMBIGUOUS_RESENDS if key is not None else 0
        while True:
            await self.send_pacer.wait()
            try:
                data = await self._call(lambda: self.http.send_message(channel, params=params))
            except DeliveryFailed as exc:
                if not exc.ambiguous or resends == 0:
                    raise
                resends -= 1
                log.info("send to %s was ambiguous (%s); re-sending nonce %s", channel, exc, key)
                continue
            return f"{channel}:{data['id']}"

    async def _call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        """Run one REST call (discord.py retries 429s and 5xx itself); classify what is left.

        A 5xx, a timeout or a dropped connection is ambiguous: Discord may have acted.
        """
        try:
            return await asyncio.wait_for(make(), self.send_timeout)
        except discord.HTTPException as exc:
            permanent = exc.code in PERMANENT_CODES
            reason = f"Discord refused ({exc.status}, code {exc.code}): {exc.text or 'no detail'}"
            raise DeliveryFailed(
                reason[:200], permanent=permanent, ambiguous=exc.status >= 500
            ) from exc
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise DeliveryFailed(
                f"Discord unreachable: {type(exc).__name__}", permanent=False, ambiguous=True
            ) from exc
