"""The shell's platform: every outbound message is printed (or emitted as a JSON line)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.ports import Message

TENANT = "local"


@dataclass(slots=True)
class Outbound:
    """One message the shell shows: to whom, how, and what."""

    to: str
    kind: str  # dm | channel | ephemeral | edit
    text: str
    buttons: list[str] = field(default_factory=list)
    ref: str = ""

    def line(self) -> str:
        where = {
            "dm": f"DM → {self.to}",
            "channel": self.to,
            "ephemeral": f"only {self.to} sees",
            "edit": f"edited DM → {self.to}",
        }[self.kind]
        buttons = "  " + " ".join(f"[{b}]" for b in self.buttons) if self.buttons else ""
        body = self.text.replace("\n", "\n    ")
        return f"  [{where}] {body}{buttons}"

    def json(self) -> str:
        return json.dumps(
            {
                "to": self.to,
                "kind": self.kind,
                "text": self.text,
                "buttons": self.buttons,
                "ref": self.ref,
            },
            ensure_ascii=False,
        )


class ShellPlatform:
    """Implements the core's Platform port in process: nothing leaves the terminal.

    Like a real platform it remembers what it took under each idempotency key (in
    `sent_log`, a file beside the database, when given), so a restarted process that
    retries a send it cannot know finished shows the message once, not twice.
    """

    name = "shell"

    def __init__(self, emit: Callable[[Outbound], None], sent_log: Path | None = None) -> None:
        self.emit = emit
        self.sent_log = sent_log
        self._sent: dict[str, str] = {}
        self._load()

    def _load(self) -> None:
        if self.sent_log is not None and self.sent_log.exists():
            for line in self.sent_log.read_text(encoding="utf-8").splitlines():
                key, _, ref = line.partition(" ")
                self._sent[key] = ref

    def forget(self) -> None:
        """Start over (`:reset`): what was taken before belongs to rows that are gone."""
        self._sent.clear()
        if self.sent_log is not None:
            self.sent_log.unlink(missing_ok=True)

    @staticmethod
    def _ref(to: str) -> str:
        return f"{to}/{secrets.token_hex(4)}"

    def _seen(self, key: str | None, retry: bool) -> str | None:
        """On a retry, what the platform already took under this key (another process's too)."""
        if key is None or not retry:
            return None
        if key not in self._sent:
            self._load()
        return self._sent.get(key)

    def _took(self, key: str | None, ref: str) -> None:
        if key is None:
            return
        self._sent[key] = ref
        if self.sent_log is not None:
            with self.sent_log.open("a", encoding="utf-8") as f:
                f.write(f"{key} {ref}\n")

    async def send_direct(
        self,
        tenant: str,
        user_id: str,
        message: Message,
        *,
        key: str | None = None,
        retry: bool = False,
    ) -> str:
        if (ref := self._seen(key, retry)) is not None:
            return ref
        ref = self._ref(user_id)
        buttons = [f"{b.label.lower()}" for b in message.buttons]
        self.emit(Outbound(user_id, "dm", message.plain(), buttons, ref))
        self._took(key, ref)
        return ref

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
        if (ref := self._seen(key, retry)) is not None:
            return ref
        ref = self._ref(f"#{channel}")
        self.emit(Outbound(f"#{channel}", "channel", message.plain(), [], ref))
        self._took(key, ref)
        return ref

    async def update(self, tenant: str, ref: str, message: Message) -> None:
        to = ref.rpartition("/")[0] or "?"
        kind = "channel" if to.startswith("#") else "edit"
        self.emit(Outbound(to, kind, message.plain(), [], ref))

    async def delete(self, tenant: str, ref: str) -> None:
        """The shell keeps no history to delete from: shown as an edit that empties the message."""
        await self.update(tenant, ref, Message.of("(removed)"))

    async def check_presence(self, tenant: str, user_ids: list[str]) -> int:
        """Simulated people's presence is set with `:presence`; there is nothing to ask."""
        return len(user_ids)

    async def views_changed(self, tenant: str, user_ids: set[str], community_ids: set[int]) -> None:
        return None
