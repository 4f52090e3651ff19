"""Faults that strike after a stand-in has stored the effect: the client cannot tell it happened.

A real platform can fail *after* it acted: its edge answers 500 though the message was saved,
the connection drops before the answer, or the answer comes later than the client waits. Both
stand-ins consult one `AfterStore` per request once the handler has run (and succeeded); a
fault picked here replaces the answer, never the effect.

Kinds: `"500"` (an HTML 500 from the edge), `"drop"` (the transport is closed without a
response), `"timeout"` (the answer is held until the stand-in closes or `hold` seconds pass, so
any client timeout shorter than that fires).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

KINDS = ("500", "drop", "timeout")
HOLD = 60.0  # longer than any client timeout a test sets; released at once when the stand-in closes

Match = Callable[[str], bool]


@dataclass
class _Rule:
    """Either `remaining` scripted faults of one kind, or a storm at `rate` over `kinds`."""

    match: Match
    kinds: tuple[str, ...]
    remaining: int | None = None  # None: a storm, until calm()
    rate: float = 1.0
    rng: random.Random = field(default_factory=random.Random)


class AfterStore:
    """The post-store fault picker and striker a stand-in owns."""

    def __init__(self, *, hold: float = HOLD) -> None:
        self.hold = hold
        self.struck: Counter[tuple[str, str]] = Counter()  # (what, kind) -> times
        self._rules: list[_Rule] = []
        self._released = asyncio.Event()

    def once(self, match: Match, kind: str, count: int = 1) -> None:
        """The next `count` successful calls that match answer with fault `kind`."""
        _check(kind)
        self._rules.append(_Rule(match, (kind,), remaining=count))

    def storm(
        self, match: Match, rate: float, kinds: tuple[str, ...] = KINDS, *, seed: int = 1
    ) -> None:
        """A seeded share `rate` of successful matching calls fail after the store, kinds mixed."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        for kind in kinds:
            _check(kind)
        self._rules.append(_Rule(match, kinds, rate=rate, rng=random.Random(seed)))

    def calm(self) -> None:
        """No more post-store faults (scripted or storm)."""
        self._rules.clear()

    def release(self) -> None:
        """Let every held answer go (the stand-in is closing)."""
        self._released.set()

    def pick(self, what: str) -> str | None:
        """The fault for this call, if any; `what` names it (a Slack method, `POST /path`)."""
        for rule in self._rules:
            if not rule.match(what):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return rule.kinds[0]
            if rule.rng.random() < rule.rate:
                return rule.rng.choice(rule.kinds)
        return None

    async def strike(
        self, request: web.Request, what: str, kind: str, answer: web.Response
    ) -> web.StreamResponse:
        """Replace `answer` (already computed, effect stored) with the fault."""
        self.struck[(what, kind)] += 1
        if kind == "500":
            return web.Response(
                status=500, text="<html><body>500</body></html>", content_type="text/html"
            )
        if kind == "drop":
            if request.transport is not None:
                request.transport.abort()  # no status line, no body: the client sees a reset
            raise asyncio.CancelledError  # aiohttp drops the handler without writing
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.hold)
        return answer


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"post-store fault must be one of {', '.join(KINDS)}, not {kind!r}")
