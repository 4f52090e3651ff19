"""The domain's plain values: what a request asks for and the states things pass through.

No ORM here, so the pure parts of the core (grammar, grouping, the lifecycle table) and the
models share one vocabulary without the pure ones importing tortoise.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class Strategy(StrEnum):
    """How `--one` picks among available members."""

    LEAST_RECENT = "least-recent"
    ROUND_ROBIN = "round-robin"
    RANDOM = "random"
    LONGEST_IDLE = "longest-idle"


class Mode(StrEnum):
    """What a group request resolves to."""

    ONE = "one"
    SOME = "some"
    AVAILABLE = "available"
    EVERYONE = "everyone"


class RequestState(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    RESOLVED = "resolved"  # closed from outside chat (an alert that resolved)
    CANCELLED = "cancelled"  # withdrawn by its requester (`/ask-available cancel`)


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class NoticeState(StrEnum):
    """A message the core owes someone (a follow-up, an edit, a push), sent after commit."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class NoticeKind(StrEnum):
    TELL = "tell"  # to the requester, privately (a DM), even about an ask made in a channel
    DM = "dm"  # to one person (a subscription push)
    EDIT = "edit"  # replace an earlier message (a DM whose ask was answered or closed)
    REPLY = "reply"  # already told in the command's immediate reply: bookkeeping only


OPEN_DELIVERY = (DeliveryState.PENDING, DeliveryState.SENT)
TERMINAL_REQUEST = (
    RequestState.FULFILLED,
    RequestState.EXHAUSTED,
    RequestState.EXPIRED,
    RequestState.RESOLVED,
    RequestState.CANCELLED,
)
