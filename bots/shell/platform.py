"""The shell's platform: every outbound message is printed (or emitted as a JSON line)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

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
    """Implements the core's Platform port in process: nothing leaves the terminal."""

    name = "shell"

    def __init__(self, emit: Callable[[Outbound], None]) -> None:
        self.emit = emit
        self.latest_ask: dict[str, str] = {}
        self._refs: dict[str, str] = {}
        self._n = 0

    def _ref(self, to: str) -> str:
        self._n += 1
        ref = f"m{self._n}"
        self._refs[ref] = to
        return ref

    async def send_direct(self, tenant: str, user_id: str, message: Message) -> str:
        ref = self._ref(user_id)
        buttons = [f"{b.label.lower()}" for b in message.buttons]
        for b in message.buttons:
            if b.action == "accept":
                self.latest_ask[user_id] = b.value
        self.emit(Outbound(user_id, "dm", message.plain(), buttons, ref))
        return ref

    async def post(
        self, tenant: str, channel: str, message: Message, thread: str | None = None
    ) -> str:
        ref = self._ref(channel)
        self.emit(Outbound(f"#{channel}", "channel", message.plain(), [], ref))
        return ref

    async def update(self, tenant: str, ref: str, message: Message) -> None:
        to = self._refs.get(ref, "?")
        kind = "channel" if to.startswith("#") or to == "general" else "edit"
        self.emit(Outbound(to if kind == "edit" else f"#{to}", kind, message.plain(), [], ref))

    async def delete(self, tenant: str, ref: str) -> None:
        """The shell keeps no history to delete from: shown as an edit that empties the message."""
        await self.update(tenant, ref, Message.of("(removed)"))

    async def check_presence(self, tenant: str, user_ids: list[str]) -> int:
        """Simulated people's presence is set with `:presence`; there is nothing to ask."""
        return len(user_ids)

    async def views_changed(self, tenant: str, user_ids: set[str], community_ids: set[int]) -> None:
        return None
