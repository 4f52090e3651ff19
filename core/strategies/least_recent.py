"""Least recent (the default): whoever was asked longest ago goes first; never asked first of
all, the oldest member first among equals."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.domain import Strategy
from core.grouping import Member
from core.strategies.base import ASKED, CONTACT, JOINED, AfterAsk, sorted_by


class LeastRecent:
    """Sorted on when each member was last asked (a counter every ask moves)."""

    __slots__ = ()
    name = Strategy.LEAST_RECENT
    columns = (ASKED, JOINED, CONTACT)
    ring = False
    drawn = False

    def order(
        self, members: Sequence[Member], *, cursor: int = 0, rng: random.Random | None = None
    ) -> list[Member]:
        return sorted_by(members, self.columns)

    def after_ask(self, asked: Sequence[Member]) -> AfterAsk:
        return AfterAsk()  # last asked is a counter every strategy keeps


LEAST_RECENT = LeastRecent()
