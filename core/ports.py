"""What the core asks of a platform, and the neutral messages it hands over.

Adapters implement `Platform`; they render `Message` in their own markup, which is the one
place mass mentions are neutralised: the core only ever names individual contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.richtext import readable


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, where: the adapter's view of the person behind an inbound event."""

    platform: str
    tenant: str
    user_id: str
    name: str = ""
    tz: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """Where a request came from, so follow-ups go back there."""

    channel: str | None = None
    thread: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """One person, named so that the platform notifies exactly them."""

    user_id: str
    name: str


Part = str | Mention


@dataclass(frozen=True, slots=True)
class Button:
    """An action on a message; `value` is opaque to the platform and checked by the core."""

    action: str  # accept | decline | subscribe-once
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Message:
    """Text made of parts in the neutral form (core/richtext.py) and mentions, plus buttons."""

    parts: tuple[Part, ...]
    buttons: tuple[Button, ...] = ()
    failed: bool = False  # a refusal of bad input (the shell's `--script` exits 1 on one)

    @classmethod
    def of(cls, *parts: Part, buttons: tuple[Button, ...] = ()) -> Message:
        return cls(tuple(parts), buttons)

    def plain(self) -> str:
        """Readable text, mentions as @name and tokens as their labels: logs, tests, the shell."""
        return "".join(readable(p) if isinstance(p, str) else f"@{p.name}" for p in self.parts)

    def mentions(self) -> tuple[Mention, ...]:
        return tuple(p for p in self.parts if isinstance(p, Mention))


KEY_MAX = 24  # idempotency keys fit Discord's 25-character nonce


class DeliveryFailed(Exception):
    """A send the platform refused. Permanent: this person cannot be reached this way.

    `retry_after` is set when the platform asked us to slow down (HTTP 429): the send is
    tried again after that long without counting against the delivery's attempts.
    `ambiguous` means the platform may have acted anyway (5xx, timeout, dropped connection):
    the next attempt must be made with `retry=True`.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class Platform(Protocol):
    """Sending, as each adapter implements it; every method may raise DeliveryFailed."""

    name: str

    async def send_direct(
        self,
        tenant: str,
        user_id: str,
        message: Message,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        """DM one person; returns a reference for later updates.

        `key` names the logical message (at most KEY_MAX chars, e.g. `d:1234`) so a repeat is
        not a second DM; `retry` says an earlier attempt with that key may have reached the
        platform (an ambiguous failure, or a worker that died mid-send).
        """
        ...

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
        """Post in a channel (or its thread); returns a reference. `key`, `retry`: as above."""
        ...

    async def update(self, tenant: str, ref: str, message: Message) -> None:
        """Replace a message sent earlier (a DM whose ask was taken or expired)."""
        ...

    async def delete(self, tenant: str, ref: str) -> None:
        """Remove a message sent earlier (a pinned view that moved elsewhere)."""
        ...

    async def check_presence(self, tenant: str, user_ids: list[str]) -> int:
        """Ask the platform for these people's presence now, in the order given, as far as its
        budget allows; returns n: the first n were checked (feeding the monitor), the rest not.

        Slack probes within its per-workspace budget; Discord queries the gateway; the shell
        knows everyone already. Platforms with nothing to ask return len(user_ids).
        """
        ...

    async def views_changed(self, tenant: str, user_ids: set[str], community_ids: set[int]) -> None:
        """Availability these views show moved: home tabs, pinned messages."""
        ...
