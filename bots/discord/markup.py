"""Discord markdown to the core's neutral text and back, each exactly once, within limits.

Rendering is the one place mass mentions are neutralised: literal text goes through
`discord.utils.escape_mentions`, only `Mention` parts are pinged, and every request carries
allowed mentions naming exactly those users (never `@everyone`, `@here` or a role). People
and channels written in the text show as mentions but ping nobody; markdown is kept.
Long text is split, never cut: 2,000 characters of content and up to three 2,000-character
embed descriptions a message (within 4,096 each and 6,000 in all), then more messages.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

from core import richtext
from core.ports import Message
from core.richtext import Channel, Date, Emoji, Group, Link, Text, User, split

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

MAX_CONTENT = 2000  # message content
MAX_EMBED = 4096  # one embed's description
EMBEDS_TOTAL = 6000  # all embeds of a message together
CHUNK = 2000  # every piece of a long text; three fit in the embeds of one message
EMBEDS_PER_MESSAGE = EMBEDS_TOTAL // CHUNK
# Never split inside Discord markup: mentions, emoji, timestamps, masked links.
ATOMS = re.compile(r"<[^<>\s]{1,120}>|\[[^\[\]\n]{0,200}\]\([^()\s]{1,500}\)")
_INBOUND = re.compile(
    r"<@!?(\d{15,20})>|<#(\d{15,20})>|<@&(\d{15,20})>|<(a?):(\w{1,64}):(\d{15,20})>"
    r"|<t:(-?\d{1,12})(:[tTdDfFR])?>|<((?:https?://|mailto:)[^\s<>|]+)>"
)


def decode(content: str, roles: Iterable[str] = ()) -> str:
    """A Discord message's content as neutral text; a role counts only if Discord saw it
    mentioned (`roles`), so typing a role's id as text asks nobody."""
    mentioned = set(roles)
    out: list[str] = []
    pos = 0
    for m in _INBOUND.finditer(content):
        out.append(richtext.literal(content[pos : m.start()]))
        pos = m.end()
        user, channel, role, animated, emoji, emoji_id, ts, style, url = m.groups()
        seg: richtext.Segment | None = None
        if user:
            seg = User(user)
        elif channel:
            seg = Channel(channel)
        elif role:
            seg = Group(role) if role in mentioned else None
        elif emoji:
            seg = Emoji(emoji, emoji_id, bool(animated))
        elif ts and not ts.startswith("-"):
            seg = Date(int(ts), style or "")
        elif url:
            seg = Link(url)
        out.append(richtext.token(seg) if seg is not None else richtext.literal(m.group(0)))
    out.append(richtext.literal(content[pos:]))
    return "".join(out)


def encode(text: str) -> str:
    """Neutral text as Discord markdown; nothing in it pings anyone."""
    out: list[str] = []
    for seg in richtext.parse(text):
        if isinstance(seg, Text):
            out.append(discord.utils.escape_mentions(seg.text))
        elif isinstance(seg, User):
            plain = discord.utils.escape_mentions(f"@{seg.name or seg.id}")
            out.append(f"<@{seg.id}>" if seg.id.isdigit() else plain)
        elif isinstance(seg, Channel):
            out.append(f"<#{seg.id}>" if seg.id.isdigit() else f"#{seg.name or seg.id}")
        elif isinstance(seg, Group):
            out.append(discord.utils.escape_mentions(f"@{seg.label or 'role'}"))
        elif isinstance(seg, Link):
            shown = seg.label.replace("[", "(").replace("]", ")")
            out.append(
                f"[{discord.utils.escape_mentions(shown)}]({seg.url})" if shown else f"<{seg.url}>"
            )
        elif isinstance(seg, Date):
            style = seg.spec if re.fullmatch(r":[tTdDfFR]", seg.spec) else ""
            out.append(f"<t:{seg.ts}{style}>")
        else:
            out.append(f"<{'a' if seg.animated else ''}:{seg.name}:{seg.id}>")
    return "".join(out)


def render(message: Message) -> tuple[str, discord.AllowedMentions]:
    """The whole message as Discord markdown, plus allowed mentions pinging exactly its
    `Mention` parts."""
    out: list[str] = []
    users: dict[str, None] = {}
    for part in message.parts:
        if isinstance(part, str):
            out.append(encode(part))
        elif part.user_id.isdigit():
            out.append(f"<@{part.user_id}>")
            users[part.user_id] = None
        else:
            out.append(discord.utils.escape_mentions(f"@{part.name}"))
    allowed = discord.AllowedMentions(
        everyone=False,
        roles=False,
        users=[discord.Object(int(u)) for u in users],
        replied_user=False,
    )
    return "".join(out), allowed


@dataclass(slots=True)
class Piece:
    """One Discord message's worth of a rendered text."""

    content: str
    embeds: list[discord.Embed] = field(default_factory=list)


def pieces(text: str) -> list[Piece]:
    """A rendered text as messages within Discord's limits, in order, nothing dropped."""
    if len(text) <= MAX_CONTENT:
        return [Piece(text)]
    chunks = split(text, CHUNK, ATOMS)
    out: list[Piece] = []
    for i in range(0, len(chunks), 1 + EMBEDS_PER_MESSAGE):
        first, *rest = chunks[i : i + 1 + EMBEDS_PER_MESSAGE]
        out.append(Piece(first, [discord.Embed(description=c) for c in rest]))
    return out
