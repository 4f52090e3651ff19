"""Slack mrkdwn to the core's neutral text and back, each exactly once.

Slack sends `&`, `<` and `>` as entities and its own markup as `<…>` (people, channels,
links, dates, user groups, broadcasts). `decode` turns one into the neutral form of
core/richtext.py; `encode` writes the neutral form back as mrkdwn. Broadcasts
(`<!here>`, `<!channel>`, `<!everyone>`) decode to literal text, which `encode` escapes:
they never leave as a mass mention. User groups leave as their label, inert.
"""

from __future__ import annotations

import re

from core import richtext
from core.richtext import Channel, Date, Emoji, Group, Link, Text, User

# Anything Slack wraps in angle brackets; the body never holds a raw `<` or `>`.
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID_RE = re.compile(r"^[CGD][A-Z0-9]+$")
_SUBTEAM = re.compile(r"^!subteam\^([A-Za-z0-9]+)$")
_DATE = re.compile(r"^!date\^([0-9]{1,12})((?:\^[^|]*)?)$")
_LINK = re.compile(r"^(?:https?://|mailto:)[^\s|]+$", re.IGNORECASE)


def unescape(text: str) -> str:
    """Slack's three entities, decoded once (`&amp;lt;` is the text `&lt;`)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def escape(text: str) -> str:
    """Slack's three control characters, per its 'Formatting text' page."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def decode(text: str) -> str:
    """Slack's text (message events, slash command text) as neutral text."""
    out: list[str] = []
    pos = 0
    for m in _SLACK_TOKEN.finditer(text):
        out.append(richtext.literal(unescape(text[pos : m.start()])))
        out.append(_token(m.group(1)))
        pos = m.end()
    out.append(richtext.literal(unescape(text[pos:])))
    return "".join(out)


def _token(body: str) -> str:
    """One `<…>` of Slack's as a neutral token, or as the literal text it stands for."""
    target, bar, raw_label = body.partition("|")
    name = richtext.label(unescape(raw_label)) if bar else ""
    if target.startswith("@") and USER_ID_RE.match(target[1:]):
        return richtext.token(User(target[1:], name))
    if target.startswith("#") and CHANNEL_ID_RE.match(target[1:]):
        return richtext.token(Channel(target[1:], name))
    sub = _SUBTEAM.match(target)
    if sub:
        # The label loses its `@` so the core never mistakes a group's handle for a community's.
        clean = re.sub(r"[^\w.-]", "", name.lstrip("@"))
        return richtext.token(Group(sub.group(1), clean))
    date = _DATE.match(target)
    if date:
        return richtext.token(Date(int(date.group(1)), unescape(date.group(2)), name))
    url = unescape(target)
    if _LINK.match(url):
        return richtext.token(Link(url, name))
    # `<!here>`, `<!channel>`, `<!everyone>` and anything unknown: literal, so inert.
    return richtext.literal(unescape(f"<{body}>"))


def encode(text: str) -> str:
    """Neutral text as mrkdwn: literal text escaped once, tokens as Slack's markup."""
    out: list[str] = []
    for seg in richtext.parse(text):
        if isinstance(seg, Text):
            out.append(escape(seg.text))
        elif isinstance(seg, User):
            out.append(f"<@{seg.id}>" if USER_ID_RE.match(seg.id) else escape(f"@{seg.name}"))
        elif isinstance(seg, Channel):
            if CHANNEL_ID_RE.match(seg.id):
                out.append(f"<#{seg.id}|{escape(seg.name)}>" if seg.name else f"<#{seg.id}>")
            else:
                out.append(escape(f"#{seg.name or seg.id}"))
        elif isinstance(seg, Group):
            out.append(escape(f"@{seg.label or 'group'}"))  # never `<!subteam^…>`: inert
        elif isinstance(seg, Link):
            url = escape(seg.url).replace("|", "%7C")
            out.append(f"<{url}|{escape(seg.label)}>" if seg.label else f"<{url}>")
        elif isinstance(seg, Date):
            tail = f"|{escape(seg.fallback)}" if seg.fallback else ""
            spec = seg.spec if seg.spec.startswith("^") else "^{date_short_pretty} {time}"
            out.append(f"<!date^{seg.ts}{escape(spec)}{tail}>")
        elif isinstance(seg, Emoji):
            out.append(f":{seg.name}:")
    return "".join(out)
