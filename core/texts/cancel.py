"""Cancelling an ask (`core.cancel`): the replies, the DM edits and the refusals."""

from __future__ import annotations

from collections.abc import Sequence

from core.ports import Mention, Message
from core.texts.lists import names

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
        text += f" I've told {names(told, 10)} it's off."
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


def not_yours_to_read(rid: int) -> Message:
    """Said whether or not the ask exists, so that asking does not reveal which ones do."""
    return Message(
        (f"Ask #{rid} isn't yours to read: only its requester and the community's owners can.",),
        failed=True,
    )
