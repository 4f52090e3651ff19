"""The request lifecycle as a table: which event moves a delivery where, and what the request
does next. Pure: `core.transitions` applies it to the database in one transaction each.

    delivery   pending --sent--> sent --accept/decline/timeout--> accepted/declined/expired
               pending --accept/decline--> (the DM arrived before its send was recorded)
               pending --send-failed--> failed;  pending/sent --withdraw--> withdrawn
    request    open --enough accepted--> fulfilled
               open --nobody left to ask, none open--> exhausted (one, some)
               open --every delivery settled--> fulfilled if any accepted, else expired (available, everyone)
               open --cancel (its requester)--> cancelled; any other state: cancel changes nothing

Every transition of a request bumps its version and writes, in the same transaction, the
deliveries it starts and the notices it owes; an event that finds its delivery already moved
on changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from core.domain import DeliveryState, Mode, RequestState

D = DeliveryState


class Event(StrEnum):
    """What happened to one delivery."""

    SENT = "sent"
    SEND_FAILED = "send-failed"
    ACCEPT = "accept"
    DECLINE = "decline"
    TIMEOUT = "timeout"
    WITHDRAW = "withdraw"
    CANCEL = "cancel"  # the requester called the whole ask off


DELIVERY: dict[tuple[DeliveryState, Event], DeliveryState] = {
    (D.PENDING, Event.SENT): D.SENT,
    (D.PENDING, Event.SEND_FAILED): D.FAILED,
    (D.PENDING, Event.ACCEPT): D.ACCEPTED,
    (D.PENDING, Event.DECLINE): D.DECLINED,
    (D.PENDING, Event.WITHDRAW): D.WITHDRAWN,
    (D.PENDING, Event.CANCEL): D.WITHDRAWN,
    (D.SENT, Event.ACCEPT): D.ACCEPTED,
    (D.SENT, Event.DECLINE): D.DECLINED,
    (D.SENT, Event.TIMEOUT): D.EXPIRED,
    (D.SENT, Event.WITHDRAW): D.WITHDRAWN,
    (D.SENT, Event.CANCEL): D.WITHDRAWN,
}

# What the request becomes when its requester cancels it; a state not listed cannot be cancelled.
ON_CANCEL: dict[RequestState, RequestState] = {RequestState.OPEN: RequestState.CANCELLED}

# What the target's DM says once its delivery has settled (its buttons are gone).
CLOSED_NOTE: dict[DeliveryState, str] = {
    D.ACCEPTED: "You accepted.",
    D.DECLINED: "You declined.",
    D.EXPIRED: "This ask expired.",
    D.WITHDRAWN: "Someone else took this one.",
}


def after(state: DeliveryState, event: Event) -> DeliveryState | None:
    """The delivery's next state, or None when the event does not apply (it moved on)."""
    return DELIVERY.get((state, event))


def cancelled(state: RequestState) -> RequestState | None:
    """The request's state after its requester cancels it, or None when it already ended."""
    return ON_CANCEL.get(state)


@dataclass(frozen=True, slots=True)
class Tally:
    """A request's deliveries by where they stand."""

    open: int = 0
    accepted: int = 0
    tried: int = 0  # every target ever asked, whatever became of it

    @classmethod
    def of(cls, states: Iterable[DeliveryState]) -> Tally:
        s = list(states)
        return cls(
            open=sum(1 for x in s if x in (D.PENDING, D.SENT)),
            accepted=sum(1 for x in s if x is D.ACCEPTED),
            tried=len(s),
        )


@dataclass(frozen=True, slots=True)
class Step:
    """What the request does after an event: ask `more` people, or close in `close` state.

    `more` is how many to look for; if the resolver finds fewer, `close_if_none` says what
    the request becomes when nobody was found and nothing is open.
    """

    more: int = 0
    close: RequestState | None = None
    close_if_none: RequestState | None = None


def step(mode: Mode, wanted: int, tally: Tally, max_attempts: int) -> Step:
    """The request's next move, from its mode and its deliveries after the event."""
    if mode in (Mode.ONE, Mode.SOME):
        if tally.accepted >= wanted:
            return Step(close=RequestState.FULFILLED)
        need = wanted - tally.accepted - tally.open
        room = max_attempts - tally.tried
        if need > 0 and room > 0:
            return Step(
                more=min(need, room),
                close_if_none=RequestState.EXHAUSTED if tally.open == 0 else None,
            )
        if tally.open == 0:
            return Step(close=RequestState.EXHAUSTED)
        return Step()
    if tally.open == 0:
        return Step(close=RequestState.FULFILLED if tally.accepted else RequestState.EXPIRED)
    return Step()
