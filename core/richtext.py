"""The neutral text form: what the core stores (Request.text) and parses, on every platform.

Adapters decode their platform's markup into this form exactly once on the way in and
render it exactly once on the way out, so nothing is escaped twice or shown raw.

Neutral text is literal text, stored unescaped (`R&D`, `a < b`), plus these tokens:

    <@ID>  <@ID|name>              one person (a platform user id)
    <#ID>  <#ID|name>              a channel
    <group:ID>  <group:ID|label>   a Slack user group or a Discord role
    <URL>  <URL|label>             a link; URL starts with http://, https:// or mailto:
    <date:TS|fallback>             a date; TS is epoch seconds, optionally followed by
                                   Slack's `^format[^link]` or Discord's `:style`
    <emoji:name:ID>                a custom emoji (Discord); `<emoji:a:name:ID>` if animated

A `<` that does not start one of these is literal text (usage lines such as
`/hours <HH:MM-HH:MM>` stay text). Decoders keep literal text that merely looks like a
token literal by putting a zero-width space after its `<` (`literal`), so typing
`<group:1>` as text asks nobody. Labels never contain `>` (decoders write U+203A instead).
Mass mentions are never tokens: `<!here>` or `@everyone` in neutral text is literal text,
which every renderer keeps inert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LABEL = r"(?:\|([^<>]*))?"
TOKEN_RE = re.compile(
    r"<@([A-Za-z0-9]+)" + _LABEL + r">"  # 1, 2: user
    r"|<#([A-Za-z0-9]+)" + _LABEL + r">"  # 3, 4: channel
    r"|<group:([A-Za-z0-9]+)" + _LABEL + r">"  # 5, 6: group
    r"|<((?:https?://|mailto:)[^\s<>|]+)" + _LABEL + r">"  # 7, 8: link
    r"|<date:([0-9]{1,12})((?:[\^:][^<>|]*)?)" + _LABEL + r">"  # 9, 10, 11: date
    r"|<emoji:(a:)?([A-Za-z0-9_]{1,64}):([0-9]{1,20})>",  # 12, 13, 14: emoji
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class Date:
    ts: int
    spec: str = ""  # Slack's `^format[^link]` or Discord's `:R`, kept for the round trip
    fallback: str = ""


@dataclass(frozen=True, slots=True)
class Emoji:
    name: str
    id: str
    animated: bool = False


Segment = Text | User | Channel | Group | Link | Date | Emoji


def parse(text: str) -> list[Segment]:
    """Neutral text as literal runs and tokens, in order; never raises."""
    out: list[Segment] = []
    pos = 0
    for m in TOKEN_RE.finditer(text):
        if m.start() > pos:
            out.append(Text(text[pos : m.start()]))
        out.append(_segment(m))
        pos = m.end()
    if pos < len(text):
        out.append(Text(text[pos:]))
    return out


def _segment(m: re.Match[str]) -> Segment:
    g = m.groups()
    if g[0] is not None:
        return User(g[0], g[1] or "")
    if g[2] is not None:
        return Channel(g[2], g[3] or "")
    if g[4] is not None:
        return Group(g[4], g[5] or "")
    if g[6] is not None:
        return Link(g[6], g[7] or "")
    if g[8] is not None:
        return Date(int(g[8]), g[9] or "", g[10] or "")
    return Emoji(g[12], g[13], bool(g[11]))


ZWSP = "\u200b"


def literal(text: str) -> str:
    """Decoded platform text that only looks like tokens, kept literal (a ZWSP after `<`)."""
    return TOKEN_RE.sub(lambda m: "<" + ZWSP + m.group(0)[1:], text)


def label(text: str) -> str:
    """A label fit for a token: no `>` or `<` to end it early, no line breaks."""
    return text.replace(">", "›").replace("<", "‹").replace("\n", " ")


def token(seg: Segment) -> str:
    """The neutral spelling of one segment (the inverse of `parse`)."""
    if isinstance(seg, Text):
        return seg.text
    if isinstance(seg, User):
        return f"<@{seg.id}|{label(seg.name)}>" if seg.name else f"<@{seg.id}>"
    if isinstance(seg, Channel):
        return f"<#{seg.id}|{label(seg.name)}>" if seg.name else f"<#{seg.id}>"
    if isinstance(seg, Group):
        return f"<group:{seg.id}|{label(seg.label)}>" if seg.label else f"<group:{seg.id}>"
    if isinstance(seg, Link):
        return f"<{seg.url}|{label(seg.label)}>" if seg.label else f"<{seg.url}>"
    if isinstance(seg, Date):
        tail = f"|{label(seg.fallback)}" if seg.fallback else ""
        return f"<date:{seg.ts}{seg.spec}{tail}>"
    return f"<emoji:{'a:' if seg.animated else ''}{seg.name}:{seg.id}>"


def readable(text: str) -> str:
    """Neutral text as a person reads it in a terminal or a log: tokens become their labels."""
    out: list[str] = []
    for seg in parse(text):
        if isinstance(seg, Text):
            out.append(seg.text)
        elif isinstance(seg, User):
            out.append(f"@{seg.name or seg.id}")
        elif isinstance(seg, Channel):
            out.append(f"#{seg.name or seg.id}")
        elif isinstance(seg, Group):
            out.append(f"@{seg.label or 'group'}")
        elif isinstance(seg, Link):
            out.append(f"{seg.label} ({seg.url})" if seg.label else seg.url)
        elif isinstance(seg, Date):
            out.append(seg.fallback or str(seg.ts))
        else:
            out.append(f":{seg.name}:")
    return "".join(out)


# -- splitting rendered text within a platform's limits --------------------------------

FENCE = "```"
_REOPEN = FENCE + "\n"
_CLOSE = "\n" + FENCE


def split(text: str, limit: int, atoms: re.Pattern[str] | None = None) -> list[str]:
    """Rendered text in chunks of at most `limit` characters, nothing dropped.

    Breaks at a line end, else a space, else anywhere, but never inside an `atoms` match
    (a mention, an entity, a link) shorter than the limit. A code block cut in two is
    closed at the end of one chunk and reopened at the start of the next.
    """
    if len(text) <= limit:
        return [text]
    if limit < 16:
        raise ValueError("limit too small to split")
    spans = [(m.start(), m.end()) for m in atoms.finditer(text)] if atoms is not None else []
    budget = limit - len(_REOPEN) - len(_CLOSE)
    chunks: list[str] = []
    pos, fenced = 0, False
    while len(text) - pos + (len(_REOPEN) if fenced else 0) > limit:
        cut = _cut(text, pos, pos + budget, spans)
        piece = text[pos:cut]
        now_fenced = fenced != (piece.count(FENCE) % 2 == 1)
        chunks.append((_REOPEN if fenced else "") + piece + (_CLOSE if now_fenced else ""))
        pos, fenced = cut, now_fenced
    chunks.append((_REOPEN if fenced else "") + text[pos:])
    return chunks


def _cut(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> int:
    """Where to end a chunk starting at `start` that may reach `end` (exclusive)."""
    window = text[start:end]
    cut = end
    for sep in ("\n", " "):
        at = window.rfind(sep)
        if at > len(window) // 4:  # not so early that chunks become tiny
            cut = start + at + 1
            break
    for a, b in spans:
        if a < cut < b:
            cut = a if a > start else min(b, end) if b - a <= end - start else cut
            break
    return max(cut, start + 1)
