"""How the product words things: verdicts, durations, local times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.ports import Button, Mention, Message, Part
from core.presence.availability import Availability, Verdict
from core.presence.record import zone

ICON = {
    Availability.AVAILABLE: "🟢",
    Availability.IDLE: "🌙",
    Availability.BUSY: "⛔",
    Availability.OFFLINE: "⚫",
    Availability.UNKNOWN: "❔",
}

CHOSEN = {  # what a person called their own choice: /away says "away", never "offline"
    Availability.AVAILABLE: "available",
    Availability.BUSY: "busy",
    Availability.OFFLINE: "away",
    Availability.IDLE: "idle",
    Availability.UNKNOWN: "unknown",
}


def clock_time(ts: float, tz: str, now: float) -> str:
    """15:00 CET today, or Tue 15:00 CET further out: the reader's zone, named."""
    local = datetime.fromtimestamp(ts, zone(tz))
    if abs(ts - now) < 20 * 3600:
        return local.strftime("%H:%M %Z")
    return local.strftime("%a %H:%M %Z")


def span(seconds: float) -> str:
    """A short human duration: 45s, 12m, 3h, 2d."""
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}m" if m else f"{h}h"
    return f"{s // 86400}d"


def describe(v: Verdict, tz: str, now: float) -> str:
    """`busy: do-not-disturb until 15:00`: the reason a requester sees for a skip."""
    text = f"{v.availability.value}: {v.reason}"
    if v.until is not None and v.availability is not Availability.AVAILABLE:
        text += f" until {clock_time(v.until, tz, now)}"
    return text


def detail(v: Verdict, tz: str, now: float) -> str:
    """The verdict with its source and age, for `/community show` and the home tab."""
    text = f"{ICON[v.availability]} {describe(v, tz, now)}"
    if v.observed_at:
        text += f" ({v.source}, {span(now - v.observed_at)} ago)"
    return text


# -- follow-ups to a requester (core.transitions writes them as notices) ------------------


def listing(people: Sequence[Mention], limit: int = 20) -> list[Part]:
    """`@a, @b, @c and 4 more`: one way to name several people everywhere."""
    out: list[Part] = []
    for i, p in enumerate(people[:limit]):
        out += [", " if i else "", p]
    if len(people) > limit:
        out.append(f" and {len(people) - limit} more")
    return out


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


def subscribe_offer(handle: str) -> tuple[str, Button]:
    """The hint and button that offer to tell the requester when someone is available."""
    return (
        f"\nTo hear when someone is: /community subscribe {handle} --once",
        Button("subscribe-once", handle, "Tell me when someone is available"),
    )


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


# -- cancelling an ask (core.cancel) -------------------------------------------------------

ASKS_FOOTER = (  # the last line of `/asks`: what can be done with the numbers it shows
    "/ask-available why <number> tells the whole story of one; "
    "/ask-available cancel <number> calls it off."
)

_ENDED = {  # how an ask that can no longer be cancelled ended, as its requester reads it
    "fulfilled": "someone took it",
    "exhausted": "nobody could take it",
    "expired": "nobody answered in time",
    "resolved": "the alert behind it resolved",
}


def cancelled(rid: int, handle: str, gist: str, told: Sequence[str], stepped: bool) -> str:
    """The requester's reply, and the one time they are told how the ask ended."""
    text = f"Cancelled your ask #{rid} in @{handle}: “{gist}”."
    if told:
        names = ", ".join(told[:10]) + (f" and {len(told) - 10} more" if len(told) > 10 else "")
        text += f" I've told {names} it's off."
    if stepped:
        text += " Its escalation steps won't run."
    return text


def cancel_note(requester: str) -> str:
    """What an asked person's DM says once the ask was cancelled (its buttons are gone)."""
    return f"{requester} cancelled this ask."


def cancelled_after_accept(requester: Mention, handle: str, text: str) -> Message:
    """To someone who had accepted an ask that stayed open for others, then was cancelled."""
    return Message.of(requester, f" cancelled the ask in @{handle} you accepted: ", text)


def cancel_answered(requester: str) -> Message:
    """Accept or decline pressed on an ask its requester cancelled."""
    return Message.of(f"{requester} cancelled this ask; there is nothing to answer.")


def nothing_to_cancel() -> Message:
    return Message(("You have no open ask to cancel. /asks lists your open asks.",), failed=True)


def not_yours_to_cancel(rid: int) -> Message:
    return Message(
        (f"Ask #{rid} isn't yours to cancel: only the person who asked can.",), failed=True
    )


def already_ended(rid: int, handle: str, state: str) -> Message:
    """An ask that can no longer be cancelled; cancelling one's cancelled ask again is no error
    (a retry after a lost reply), anything else is refused."""
    if state == "cancelled":
        return Message.of(f"Ask #{rid} in @{handle} is already cancelled.")
    how = _ENDED.get(state, state)
    return Message(
        (f"Ask #{rid} in @{handle} has already ended ({how}): nothing to cancel.",), failed=True
    )


def cancel_kept_racing(rid: int) -> Message:
    return Message(
        (f"Ask #{rid} kept changing while I tried to cancel it; try again.",), failed=True
    )


def from_channel(link: str) -> str:
    """The line a private follow-up ends with when the ask was a mention in a channel."""
    return f"\nYour message: {link}"
