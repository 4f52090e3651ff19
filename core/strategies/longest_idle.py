"""Longest idle: whoever accepted longest ago goes first (never accepted first of all), ties
broken by who was asked longest ago, then the oldest member."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.domain import Strategy
from core.grouping import Member
from core.strategies.base import ACCEPTED, ASKED, CONTACT, JOINED, AfterAsk, sorted_by


class LongestIdle:
    """Sorted on when each member last accepted, then last asked (counters every ask moves)."""

    __slots__ = ()
    name = Strategy.LONGEST_IDLE
    columns = (ACCEPTED, ASKED, JOINED, CONTACT)
    ring = False
    drawn = False

    def order(
        self, members: Sequence[Member], *, cursor: int = 0, rng: random.Random | None = None
    ) -> list[Member]:
        return sorted_by(members, self.columns)

    def after_ask(self, asked: Sequence[Member]) -> AfterAsk:
        return AfterAsk()  # last asked and last accepted are counters every strategy keeps


LONGEST_IDLE = LongestIdle()
