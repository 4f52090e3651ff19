"""What every command shares: its limits, the error that refuses it, and the checks of a
handle and a message that the text grammar and the typed values both use."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from core.ports import Message

# The longest ask passed on, in neutral characters: a page of text. The ask DM carries it
# whole, split over sections on Slack (3,000 each, well inside 40,000 a message) and over
# content, embeds and follow-on messages on Discord (buttons on the last); longer is
# refused on every path with this number in the reply.
MAX_MESSAGE = 10_000
MAX_COUNT = 100  # --count N and a community's capacity
MAX_PEOPLE = 50  # named in one /community add or remove
MAX_TITLE = 128
MAX_NOTE = 100
MAX_STEPS = 5  # escalation steps a community may have
MIN_WAIT, MAX_WAIT = 60, 7 * 86400  # an escalation step's wait
HANDLE_RE = re.compile(r"^[a-z0-9_-]{2,32}$")


class CommandError(Exception):
    """What was wrong, and the usage line to show with it."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.message}\nTry: {self.usage}"

    def reply(self) -> Message:
        """The refusal as a reply: what was wrong, then the shape that works."""
        return Message((str(self),), failed=True)


def clip(word: str, limit: int = 40) -> str:
    """Echo user input back short, so an error never becomes a wall of text."""
    return word if len(word) <= limit else word[: limit - 1] + "…"


def did_you_mean(word: str, options: Sequence[str], prefix: str = "") -> str:
    """` Did you mean /community?` for a near miss, else nothing."""
    near = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return f" Did you mean {prefix}{near[0]}?" if near else ""


def handle_of(word: str, usage: str) -> str:
    """A community handle, with or without `@`, folded to lower case."""
    h = word.strip().removeprefix("@").lower()
    if not HANDLE_RE.match(h):
        raise CommandError(
            f"“{clip(word)}” is not a community handle (2–32 of a-z, 0-9, - and _)", usage
        )
    return h


def too_long(message: str) -> str | None:
    """Why a message is too long to pass on (naming the limit), or None if it fits."""
    n = len(message.strip())
    if n <= MAX_MESSAGE:
        return None
    return f"the message is too long: {n:,} characters, and an ask holds at most {MAX_MESSAGE:,}"


def storable(text: str, what: str, usage: str) -> None:
    """Refuse a NUL character: no database stores it in text, and no platform sends one."""
    if "\x00" in text:
        raise CommandError(
            f"the {what} holds a NUL character (\\0); remove it and try again", usage
        )


def set_field(value: object, name: str, new: object) -> None:
    """Normalise a field of a frozen value while it is built."""
    object.__setattr__(value, name, new)
