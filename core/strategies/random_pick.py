"""Random: a fresh draw for every request, reproducible with a seeded rng."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.domain import Strategy
from core.grouping import Member
from core.strategies.base import CONTACT, AfterAsk, draw, sorted_by


class RandomPick:
    """Members drawn from the contact-id order (so a seed gives one order wherever it is made)."""

    __slots__ = ()
    name = Strategy.RANDOM
    columns = (CONTACT,)
    ring = False
    drawn = True

    def order(
        self, members: Sequence[Member], *, cursor: int = 0, rng: random.Random | None = None
    ) -> list[Member]:
        out = sorted_by(members, self.columns)
        draw(out, rng or random.Random(), 0, len(out))
        return out

    def after_ask(self, asked: Sequence[Member]) -> AfterAsk:
        return AfterAsk()  # nothing to remember: every draw is fresh


RANDOM_PICK = RandomPick()
