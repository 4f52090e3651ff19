"""The requester's immediate reply to a group request: who was asked, and why not the others."""

from __future__ import annotations

from collections.abc import Callable

from core import texts
from core.domain import Mode
from core.grouping import Member, Resolution, Skip
from core.ports import Mention, Message, Part
from core.presence.availability import Availability

SHOWN_SKIPS = 8
EXPLAINED_REST = 50
ME = "that's you"

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
    names = texts.listing([Mention(m.user_id, m.name) for m in res.targets])
    parts: list[Part] = [f"@{handle}: {VERB[mode]} ", *names, "."]
    parts += skips(res, explain, availability)
    return Message(tuple(parts))


def skips(res: Resolution, explain: Explain, availability: IsAvailable) -> list[Part]:
    """Why each other member was not asked; members the resolver never needed to look
    at are described too while there are few of them (a large community gets a count)."""
    skipped = [s for s in res.skipped if s.reason != ME]
    spare: list[str] = []
    rest = res.rest if len(res.rest) <= EXPLAINED_REST else ()
    for m in rest:
        if availability(m.key) is Availability.AVAILABLE:
            spare.append(m.name)
        else:
            skipped.append(Skip(m, explain(m)))
    parts: list[Part] = []
    if spare:
        parts.append(f"\nAlso available, not needed this time: {', '.join(spare)}")
    if skipped:
        parts.append("\nSkipped: ")
        for i, s in enumerate(skipped[:SHOWN_SKIPS]):
            parts.append(f"{', ' if i else ''}{s.member.name} ({s.reason})")
        if len(skipped) > SHOWN_SKIPS:
            parts.append(f" and {len(skipped) - SHOWN_SKIPS} more")
    if len(res.rest) > EXPLAINED_REST:
        parts.append(f"\n{len(res.rest)} other members were not needed this time")
    return parts


def nobody(handle: str, res: Resolution) -> Message:
    parts: list[Part] = [f"Nobody in @{handle} is available right now."]
    others = [s for s in res.skipped if s.reason != ME]
    if others:
        parts.append(" " + "; ".join(f"{s.member.name}: {s.reason}" for s in others[:SHOWN_SKIPS]))
        if len(others) > SHOWN_SKIPS:
            parts.append(f"; and {len(others) - SHOWN_SKIPS} more")
    else:
        parts.append(" It has no other members yet.")
    hint, button = texts.subscribe_offer(handle)
    parts.append(hint)
    return Message(tuple(parts), (button,))
