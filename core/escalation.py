"""Escalation steps: a `--one`/`--count` ask nobody has taken widens, step by step, as its
community's owners set it (`/community set <handle> escalate 10m @other | all | everyone`).

A step is a scheduled move on the request (`step`, `next_step_at`), taken by whichever
process serving the request's platform finds it due; the move is one transaction that
changes the request only from the step and version it read, so it runs once however many
processes tick, and survives a restart because nothing about it lives in memory
(`core.widen` takes the steps).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import Mode
from core.store.models import Community, Request
from core.texts import community as texts

WIDE = ("all", "everyone")
ESCALATING = (Mode.ONE, Mode.SOME)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Wait `after` seconds without a taker, then ask `target`: `@handle`, `all` or `everyone`."""

    after: int
    target: str

    def describe(self) -> str:
        return texts.step(self.after, self.target)


def steps_of(community: Community) -> list[EscalationStep]:
    return [EscalationStep(int(str(a)), str(t)) for a, t in community.escalation or []]


def first_due(community: Community, mode: Mode, found: bool, now: float) -> float | None:
    """When a new request's first step is due: now if nobody was found, else after its wait."""
    steps = steps_of(community)
    if mode not in ESCALATING or not steps:
        return None
    return now if not found else now + steps[0].after


def describe_steps(community: Community) -> str:
    """`after 10m: @on-call-db → after 20m: everyone available`, or '' when none are set."""
    return texts.steps([s.describe() for s in steps_of(community)])


def has_next(request: Request) -> bool:
    """Whether an open request (community loaded) has a step left to widen to."""
    return request.mode in ESCALATING and request.step < len(steps_of(request.community))
