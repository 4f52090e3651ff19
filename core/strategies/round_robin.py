"""Round robin: a fixed ring by contact id, continued after the last one asked."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.domain import Strategy
from core.grouping import Member
from core.strategies.base import CONTACT, AfterAsk, sorted_by, turned


class RoundRobin:
    """The ring ignores how recently anyone was asked; only the community's cursor turns it."""

    __slots__ = ()
    name = Strategy.ROUND_ROBIN
    columns = (CONTACT,)
    ring = True
    drawn = False

    def order(
        self, members: Sequence[Member], *, cursor: int = 0, rng: random.Random | None = None
    ) -> list[Member]:
        return turned(sorted_by(members, self.columns), CONTACT, cursor)

    def after_ask(self, asked: Sequence[Member]) -> AfterAsk:
        return AfterAsk(cursor=asked[-1].contact_id)  # the next ask starts after the last one


ROUND_ROBIN = RoundRobin()
