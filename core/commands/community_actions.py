"""`/community …` as typed values: one frozen type per action, valid once built, like the
rest of `core.commands.actions`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from core.commands.rules import (
    MAX_COUNT,
    MAX_PEOPLE,
    MAX_TITLE,
    MAX_WAIT,
    MIN_WAIT,
    CommandError,
    handle_of,
    set_field,
    storable,
)
from core.domain import Mode, Strategy
from core.texts.help import USAGE

COMMUNITY_ACTIONS = (
    *("create", "delete", "join", "leave", "add", "remove", "list", "show"),
    *("subscribe", "unsubscribe", "set", "stats", "token", "link", "pin", "help"),
)
STATS_DAYS = (7, 30, 90)
GROUP_ID_RE = re.compile(r"^[A-Za-z0-9]{1,64}$")


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person named in a command: a platform id (`<@U1>`, with the name Slack escapes it
    with in `<@U1|alice>`) or a display name (`@alice`)."""

    user_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CommunityCommand:
    """`/community …`: one subclass per action."""

    action: ClassVar[str] = ""

    @property
    def usage(self) -> str:
        return USAGE[f"community {self.action}"]


@dataclass(frozen=True, slots=True)
class ListCommunities(CommunityCommand):
    action: ClassVar[str] = "list"


@dataclass(frozen=True, slots=True)
class OnCommunity(CommunityCommand):
    """An action on one community, named by its handle (with or without `@`, any case)."""

    handle: str

    def __post_init__(self) -> None:
        set_field(self, "handle", handle_of(self.handle, self.usage))
        self.check()

    def check(self) -> None:
        """What else the action asks of its fields (nothing, here)."""


@dataclass(frozen=True, slots=True)
class CreateCommunity(OnCommunity):
    action: ClassVar[str] = "create"
    title: str = ""

    def check(self) -> None:
        set_field(self, "title", self.title.strip())
        storable(self.title, "title", self.usage)
        if len(self.title) > MAX_TITLE:
            raise CommandError(
                f"the title is too long (at most {MAX_TITLE} characters)", self.usage
            )


@dataclass(frozen=True, slots=True)
class DeleteCommunity(OnCommunity):
    action: ClassVar[str] = "delete"


@dataclass(frozen=True, slots=True)
class JoinCommunity(OnCommunity):
    action: ClassVar[str] = "join"


@dataclass(frozen=True, slots=True)
class LeaveCommunity(OnCommunity):
    action: ClassVar[str] = "leave"


@dataclass(frozen=True, slots=True)
class ShowCommunity(OnCommunity):
    action: ClassVar[str] = "show"


@dataclass(frozen=True, slots=True)
class _People(OnCommunity):
    users: tuple[UserRef, ...] = ()

    def check(self) -> None:
        if not self.users:
            raise CommandError("name at least one person", self.usage)
        if len(self.users) > MAX_PEOPLE:
            raise CommandError(f"at most {MAX_PEOPLE} people at once", self.usage)


@dataclass(frozen=True, slots=True)
class AddMembers(_People):
    action: ClassVar[str] = "add"


@dataclass(frozen=True, slots=True)
class RemoveMembers(_People):
    action: ClassVar[str] = "remove"


@dataclass(frozen=True, slots=True)
class Subscribe(OnCommunity):
    """Hear about a community's availability; `once`: only when someone becomes available."""

    action: ClassVar[str] = "subscribe"
    once: bool = False


@dataclass(frozen=True, slots=True)
class Unsubscribe(OnCommunity):
    action: ClassVar[str] = "unsubscribe"


@dataclass(frozen=True, slots=True)
class CommunityStats(OnCommunity):
    action: ClassVar[str] = "stats"
    days: int = 30

    def check(self) -> None:
        if self.days not in STATS_DAYS:
            raise CommandError("the period is one of 7d, 30d, 90d (default 30d)", self.usage)


@dataclass(frozen=True, slots=True)
class CommunityToken(OnCommunity):
    action: ClassVar[str] = "token"
    revoke: bool = False


@dataclass(frozen=True, slots=True)
class LinkGroup(OnCommunity):
    """Mentioning the platform's user group (Slack) or role (Discord) asks the community."""

    action: ClassVar[str] = "link"
    group_id: str = ""

    def check(self) -> None:
        if not GROUP_ID_RE.match(self.group_id):
            raise CommandError("name one user group (Slack) or role (Discord) to link", self.usage)


@dataclass(frozen=True, slots=True)
class PinCommunity(OnCommunity):
    action: ClassVar[str] = "pin"


@dataclass(frozen=True, slots=True)
class Setting(OnCommunity):
    """`/community set <handle> …`: one subclass per setting."""

    action: ClassVar[str] = "set"


@dataclass(frozen=True, slots=True)
class SetStrategy(Setting):
    strategy: Strategy = Strategy.LEAST_RECENT


@dataclass(frozen=True, slots=True)
class SetMentionMode(Setting):
    """What an `@handle` in a channel does: ask one, everyone available, or everyone."""

    mode: Mode = Mode.AVAILABLE

    def check(self) -> None:
        if self.mode is Mode.SOME:
            raise CommandError("mention is one of one, available, everyone", self.usage)


@dataclass(frozen=True, slots=True)
class SetCapacity(Setting):
    """How many open asks a member may hold before `--one` and `--count` pass them by."""

    capacity: int = 1

    def check(self) -> None:
        if not 1 <= self.capacity <= MAX_COUNT:
            raise CommandError(f"capacity is a number from 1 to {MAX_COUNT}", self.usage)


@dataclass(frozen=True, slots=True)
class MakeOwner(Setting):
    user: UserRef = field(default_factory=UserRef)


@dataclass(frozen=True, slots=True)
class AddEscalationStep(Setting):
    """Wait `after` seconds without a taker, then widen to `target`: `@other`, all, everyone."""

    after: int = MIN_WAIT
    target: str = "all"

    def check(self) -> None:
        if not MIN_WAIT <= self.after <= MAX_WAIT:
            raise CommandError("a wait is between 1m and 7d", self.usage)
        target = self.target.strip().lower()
        if target not in ("all", "everyone"):
            if not target.startswith("@"):
                raise CommandError("widen to @another-community, all or everyone", self.usage)
            target = "@" + handle_of(target, self.usage)
            if target == f"@{self.handle}":
                raise CommandError(
                    f"@{self.handle} cannot escalate to itself: use all or everyone", self.usage
                )
        set_field(self, "target", target)


@dataclass(frozen=True, slots=True)
class ClearEscalation(Setting):
    pass
