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

from core import texts
from core.domain import Mode
from core.grouping import Resolution
from core.ports import Message
from core.store.models import Community, Request

WIDE = ("all", "everyone")
ESCALATING = (Mode.ONE, Mode.SOME)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Wait `after` seconds without a taker, then ask `target`: `@handle`, `all` or `everyone`."""

    after: int
    target: str

    def describe(self) -> str:
        whom = {
            "all": "everyone available",
            "everyone": "everyone in the community",
        }.get(self.target, self.target)
        return f"after {texts.span(self.after)}: {whom}"


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
    return " → ".join(s.describe() for s in steps_of(community))


def has_next(request: Request) -> bool:
    """Whether an open request (community loaded) has a step left to widen to."""
    return request.mode in ESCALATING and request.step < len(steps_of(request.community))


def nobody_here(community: Community, res: Resolution) -> Message:
    """The reply when nobody in the community is available but a step can widen the ask."""
    others = [s for s in res.skipped if s.reason != "that's you"]
    why = "; ".join(f"{s.member.name}: {s.reason}" for s in others[:8])
    return Message.of(
        f"Nobody in @{community.handle} is available right now"
        + (f" ({why})" if why else "")
        + f". Escalating ({describe_steps(community)}); I'll tell you who is asked."
    )


async def set_steps(community: Community, value: str) -> str:
    """`/community set <handle> escalate …` (the owner check is the caller's): add or clear."""
    from core.commands import MAX_STEPS, USAGE, CommandError

    if value == "off":
        community.escalation = []
        await community.save(update_fields=["escalation"])
        return f"@{community.handle}: escalation is off."
    seconds, target = value.split(" ", 1)
    if target.startswith("@") and not await Community.exists(
        tenant_id=community.tenant_id, handle=target[1:]
    ):
        raise CommandError(f"there is no community {target} here", USAGE["community set"])
    steps = list(community.escalation or [])
    if len(steps) >= MAX_STEPS:
        raise CommandError(
            f"@{community.handle} already has {MAX_STEPS} escalation steps; "
            f"clear them with /community set {community.handle} escalate off",
            USAGE["community set"],
        )
    community.escalation = [*steps, [int(seconds), target]]
    await community.save(update_fields=["escalation"])
    return f"@{community.handle}: an unanswered --one or --count ask escalates {describe_steps(community)}."
