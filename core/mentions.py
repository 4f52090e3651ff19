"""Which communities a channel message addresses: `@handle`s in prose, and group mentions.

Only prose counts. Code blocks, inline code, links and URLs are skipped, so
`https://www.npmjs.com/package/@frontend/ui` or `` `npm i @on-call-db/cli` `` asks nobody.
Works on the neutral text form (core/richtext.py) on every platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.richtext import TOKEN_RE

# A handle stands alone: not inside a word or an e-mail address (`bob@frontend.io`), and
# not a scope or path (`@frontend/ui`).
HANDLE_RE = re.compile(r"(?<![\w@<./:-])@([a-z0-9_-]{2,32})(?![\w-]|[./][\w-])", re.IGNORECASE)
GROUP_RE = re.compile(r"<group:([A-Za-z0-9]+)(?:\|[^<>]*)?>")
# Fenced blocks (an unclosed fence runs to the end, as chat clients show it), then inline code.
CODE_RE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)
URL_RE = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\bmailto:)[^\s<>]*", re.IGNORECASE)


def prose(text: str) -> str:
    """The text with code, links and URLs blanked out (group tokens kept: they are prose)."""
    text = CODE_RE.sub(" ", text)
    text = TOKEN_RE.sub(lambda m: m.group(0) if m.group(0).startswith("<group:") else " ", text)
    return URL_RE.sub(" ", text)


def handles(text: str) -> list[str]:
    """Community handles written as `@handle` in prose, lower-cased, first mention first."""
    return list(dict.fromkeys(h.lower() for h in HANDLE_RE.findall(prose(text))))


def groups(text: str) -> list[str]:
    """Ids of user groups or roles mentioned in prose."""
    return list(dict.fromkeys(GROUP_RE.findall(prose(text))))


def addresses_group(text: str, linked: Iterable[str] = ()) -> bool:
    """Cheap: could this message need group processing at all?"""
    if any(True for _ in linked):
        return True
    if "@" not in text and "<group:" not in text:
        return False
    return bool(handles(text) or groups(text))
