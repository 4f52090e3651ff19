"""An ask after the first reply: the DM a target gets, their answers, and what the requester
hears as it moves on (declined, timed out, widened, taken, ran its course)."""

from __future__ import annotations

from collections.abc import Sequence

from core.ports import Button, Mention, Message, Part
from core.texts.lists import listing
from core.texts.replies import subscribe_offer
from core.texts.time import span

# -- the DM -------------------------------------------------------------------------------


def ask_dm(
    requester: Mention, handle: str, text: str, *, everyone: bool, link: str | None, did: int
) -> Message:
    """What a target sees: who asks, which community, what, and two buttons."""
    via = f"@{handle}" + (" (everyone)" if everyone else "")
    parts: list[Part] = [requester, f" asks {via}: ", text]
    if link:
        parts.append(f"\n{link}")
    buttons = (Button("accept", str(did), "Accept"), Button("decline", str(did), "Decline"))
    return Message(tuple(parts), buttons)


def settled_dm(requester: Mention, handle: str, text: str, note: str) -> Message:
    """The DM rewritten once it needs no answer: the ask, then how it ended for this target."""
    return Message.of(requester, f" asked @{handle}: ", text, f"\n{note}")


def taken_by(taker: str | None) -> str:
    return f"Taken by @{taker}." if taker else "Closed: no longer needed."


# -- the target's answer ------------------------------------------------------------------

NOT_YOURS = "That ask isn't addressed to you."
TAKEN = "Thanks, but someone else already took this one."


def already(state: str | None) -> str:
    return f"That ask is already {state or 'gone'}."


def answered(accept: bool, requester: str) -> str:
    return (
        f"Accepted. {requester} has been told." if accept else f"Declined. I'll tell {requester}."
    )


# -- refusals before anything is stored -----------------------------------------------------


def no_community(handle: str, hint: str) -> str:
    return f"there is no community @{handle} here.{hint}"


def not_sent(why: str) -> str:
    """A channel message that names a community but is too long to pass on."""
    return f"Not sent: {why}. Shorten it or link to the details."


# -- follow-ups to a requester (core.transitions writes them as notices) -------------------


def why(event: str, timeout: float) -> str:
    """What a settled delivery means to the requester."""
    return {
        "decline": "declined",
        "timeout": f"did not answer within {span(timeout)}",
        "send-failed": "could not be reached",
    }.get(event, event)


def accepted(taker: Mention, handle: str, text: str) -> Message:
    return Message.of(taker, f" accepted your ask in @{handle}: ", text)


def asking_next(person: Mention, reason: str, asked: Sequence[Mention], handle: str) -> Message:
    return Message.of(person, f" {reason}; asking ", *listing(asked), f" in @{handle}.")


def nobody_else(person: Mention, reason: str, handle: str) -> Message:
    hint, button = subscribe_offer(handle)
    return Message(
        (person, f" {reason}. Nobody else in @{handle} is available to ask.", hint), (button,)
    )


def just(person: Mention, reason: str) -> Message:
    return Message.of(person, f" {reason}.")


def ran_its_course(handle: str, outcomes: Sequence[tuple[Mention, str]]) -> Message:
    """The wrap-up of an `--all`/`--everyone` ask once every answer is in: who did what."""
    by_reason: dict[str, list[Mention]] = {}
    for person, reason in outcomes:
        by_reason.setdefault(reason, []).append(person)
    parts: list[Part] = [f"Your ask in @{handle} has run its course: "]
    for i, (reason, people) in enumerate(by_reason.items()):
        parts += ["; " if i else "", *listing(people, 10), f" {reason}"]
    parts.append(".")
    return Message(tuple(parts))


def widened(
    handle: str, tried: Sequence[str], asked: Sequence[Mention], *, closed: bool, waiting: bool
) -> Message:
    """An escalation step: where it widened (`tried`, in order), who was asked, or the end."""
    parts: list[Part] = [f"Your ask in @{handle} had no taker; "]
    for i, whom in enumerate(tried):
        last = i == len(tried) - 1
        if last and asked:
            parts += [f"widening to {whom}: asking ", *listing(asked), "."]
        else:
            parts.append(f"nobody in {whom} is available{'; ' if not last else '.'}")
    if closed:
        parts.append(" No escalation step is left, so I've stopped asking.")
    elif not asked and waiting:
        parts.append(" Still waiting on the people already asked.")
    return Message(tuple(parts))


def alert_resolved(handle: str, text: str) -> Message:
    """An ask opened by an alert closes when the alert resolves."""
    return Message.of(
        f"The alert behind your ask in @{handle} resolved; ", "I've closed the ask: ", text
    )


def scope(target: str, handle: str) -> str:
    """Whom an escalation step widens to: `everyone available in @sre`, or `@sre`."""
    if target == "all":
        return f"everyone available in @{handle}"
    if target == "everyone":
        return f"everyone in @{handle}"
    return f"@{handle}"


def from_channel(link: str) -> str:
    """The line a private follow-up ends with when the ask was a mention in a channel."""
    return f"\nYour message: {link}"
