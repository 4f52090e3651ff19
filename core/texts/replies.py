"""The requester's immediate answer to a group request: who was asked, and why not the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.domain import Mode
from core.grouping import Member, Resolution, Skip
from core.ports import Button, Mention, Message, Part
from core.presence.availability import Availability
from core.texts.lists import listing, names
from core.texts.reasons import ITS_YOU

SHOWN_SKIPS = 8
EXPLAINED_REST = 50

Explain = Callable[[Member], str]
IsAvailable = Callable[[str], Availability]

VERB = {
    Mode.ONE: "Asked",
    Mode.SOME: "Asked",
    Mode.AVAILABLE: "Sent to everyone available:",
    Mode.EVERYONE: "Sent to everyone in the community:",
}


def asked(
    handle: str, mode: Mode, res: Resolution, explain: Explain, availability: IsAvailable
) -> Message:
    people = listing([Mention(m.user_id, m.name) for m in res.targets])
    parts: list[Part] = [f"@{handle}: {VERB[mode]} ", *people, "."]
    parts += skips(res, explain, availability)
    return Message(tuple(parts))


def skips(res: Resolution, explain: Explain, availability: IsAvailable) -> list[Part]:
    """Why each other member was not asked; members the resolver never needed to look
    at are described too while there are few of them (a large community gets a count)."""
    skipped = others(res.skipped)
    spare: list[str] = []
    rest = res.spare() if len(res.rest) <= EXPLAINED_REST else ()
    for m in rest:
        if availability(m.key) is Availability.AVAILABLE:
            spare.append(m.name)
        else:
            skipped.append(Skip(m, explain(m)))
    parts: list[Part] = []
    if spare:
        parts.append(f"\nAlso available, not needed this time: {names(spare, EXPLAINED_REST)}")
    if skipped:
        why = [f"{s.member.name} ({s.reason})" for s in skipped]
        parts.append(f"\nSkipped: {names(why, SHOWN_SKIPS)}")
    if len(res.rest) > EXPLAINED_REST:
        parts.append(f"\n{len(res.rest)} other members were not needed this time")
    return parts


def others(skipped: Sequence[Skip]) -> list[Skip]:
    """The skips worth telling the requester: not the line that says they are the requester."""
    return [s for s in skipped if s.reason != ITS_YOU]


def reasons(skipped: Sequence[Skip], limit: int = SHOWN_SKIPS) -> str:
    """`bob: busy: do-not-disturb; carol: away` for a reply that asked nobody."""
    return names([f"{s.member.name}: {s.reason}" for s in others(skipped)], limit, "; ")


def nobody(handle: str, res: Resolution) -> Message:
    parts: list[Part] = [f"Nobody in @{handle} is available right now."]
    why = reasons(res.skipped)
    parts.append(f" {why}" if why else " It has no other members yet.")
    hint, button = subscribe_offer(handle)
    parts.append(hint)
    return Message(tuple(parts), (button,))


def nobody_here(handle: str, res: Resolution, steps: str) -> Message:
    """Nobody in the community is available, but an escalation step can widen the ask."""
    why = reasons(res.skipped)
    return Message.of(
        f"Nobody in @{handle} is available right now"
        + (f" ({why})" if why else "")
        + f". Escalating ({steps}); I'll tell you who is asked."
    )


def subscribe_offer(handle: str) -> tuple[str, Button]:
    """The hint and button that offer to tell the requester when someone is available."""
    return (
        f"\nTo hear when someone is: /community subscribe {handle} --once",
        Button("subscribe-once", handle, "Tell me when someone is available"),
    )


def unchecked(count: int) -> str:
    """The line a reply carries when the presence budget could not cover everyone."""
    people = "member was" if count == 1 else "members were"
    return (
        f"\n{count} {people} not checked (the platform's presence budget is spent for now);"
        " they may be available."
    )
