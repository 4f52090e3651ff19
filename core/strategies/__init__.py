"""The strategy registry: every `--one` strategy by its name, one module each; an unknown name
is an error, never a fallback.

A new strategy: its name in `core.domain.Strategy`, a module here defining its one object, a
line in `_ALL` below, and its own tests in `tests/test_strategies.py` (which already runs every
registered strategy on SQLite, PostgreSQL and in memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from core.domain import Strategy
from core.strategies.base import AfterAsk, Column, StrategyRules, check
from core.strategies.least_recent import LEAST_RECENT
from core.strategies.longest_idle import LONGEST_IDLE
from core.strategies.random_pick import RANDOM_PICK
from core.strategies.round_robin import ROUND_ROBIN

__all__ = [
    "NAMES",
    "REGISTRY",
    "AfterAsk",
    "Column",
    "StrategyRules",
    "UnknownStrategy",
    "strategy_for",
]

_ALL: tuple[StrategyRules, ...] = (LEAST_RECENT, ROUND_ROBIN, RANDOM_PICK, LONGEST_IDLE)


class UnknownStrategy(ValueError):
    """A strategy name nothing implements."""


def _registry(rules: tuple[StrategyRules, ...]) -> Mapping[Strategy, StrategyRules]:
    """Every name implemented exactly once, and every implementation one the walk can follow."""
    out: dict[Strategy, StrategyRules] = {}
    for r in rules:
        check(r)
        if r.name in out:
            raise ValueError(f"strategy {r.name} is implemented twice")
        out[r.name] = r
    missing = [s.value for s in Strategy if s not in out]
    if missing:
        raise UnknownStrategy(f"no implementation in core/strategies for: {', '.join(missing)}")
    return MappingProxyType(out)


REGISTRY: Mapping[Strategy, StrategyRules] = _registry(_ALL)
NAMES = tuple(s.value for s in REGISTRY)
"""The names a command accepts, in the order they are listed."""


def strategy_for(name: Strategy | str) -> StrategyRules:
    """The strategy a community names; an unknown name raises `UnknownStrategy` saying what is."""
    try:
        return REGISTRY[Strategy(name)]
    except (ValueError, KeyError):
        raise UnknownStrategy(
            f"unknown strategy {str(name)!r}: one of {', '.join(NAMES)}"
        ) from None
