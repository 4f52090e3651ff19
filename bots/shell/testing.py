"""A workspace for tests: the shell adapter with captured output, importable like errbot's testbot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bots.shell.platform import Outbound, ShellPlatform
from bots.shell.session import ShellSession
from core.bootstrap import build_engine
from core.clock import ManualClock
from core.config import Settings
from core.engine import Engine
from core.presence.store import PresenceStore

T0 = 1_767_603_600.0  # Monday 2026-01-05 09:00 UTC


@dataclass
class Transcript:
    """What one or more lines caused, with lookups that read like the behaviour."""

    out: list[Outbound] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def dms(self, to: str) -> list[Outbound]:
        return [o for o in self.out if o.kind == "dm" and o.to == to]

    def asked(self) -> list[str]:
        """Who received an ask (a DM with buttons)."""
        return [o.to for o in self.out if o.kind == "dm" and "accept" in o.buttons]

    def reply(self) -> str:
        """The requester-only replies, joined."""
        return "\n".join(o.text for o in self.out if o.kind == "ephemeral")

    def channel(self) -> str:
        return "\n".join(o.text for o in self.out if o.kind == "channel")

    def text(self) -> str:
        return "\n".join([o.line() for o in self.out] + self.said)


class Workspace:
    """An engine behind the shell adapter, on whatever database is open; time is manual."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        store: PresenceStore | None = None,
        start: float = T0,
        platform: Callable[[Callable[[Outbound], None], ManualClock], ShellPlatform] | None = None,
    ) -> None:
        self.clock = ManualClock(start)
        self.transcript = Transcript()
        emit = self.transcript.out.append
        self.platform = platform(emit, self.clock) if platform else ShellPlatform(emit)
        self.settings = settings or Settings(random_seed=7)
        self.engine: Engine = build_engine(self.settings, self.platform, self.clock, store)
        self.session = ShellSession(
            self.engine, self.platform, self.clock, self.transcript.said.append
        )

    async def start(self, *, seed: bool = True) -> Workspace:
        if seed:
            await self.session.seed()
        await self.engine.start()
        return self

    async def tick(self, seconds: float = 0.0) -> None:
        """Move the clock, run what time drives, and wait for the sends it started."""
        self.clock.advance(seconds)
        await self.engine.tick()
        await self.engine.drain()

    async def run(self, *lines: str, as_user: str | None = None) -> Transcript:
        """Run lines (as `as_user` if given) and return only what they caused."""
        mark_out, mark_said = len(self.transcript.out), len(self.transcript.said)
        previous = self.session.user
        if as_user:
            self.session.user = as_user
        for line in lines:
            await self.session.line(line)
        if as_user:
            self.session.user = previous
        return Transcript(self.transcript.out[mark_out:], self.transcript.said[mark_said:])
