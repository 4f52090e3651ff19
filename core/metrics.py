"""Prometheus metrics: counters kept in process, and totals read from the database at scrape time.

Asks by mode, deliveries by state and the notices outbox are read from the database when
scraped, so they agree across processes and survive restarts; send latency, 429s and
presence events are counted by the process that saw them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from tortoise.functions import Count

from core.domain import DeliveryState, Mode, NoticeState
from core.store.models import Delivery, Notice, Request

CONTENT_TYPE = CONTENT_TYPE_LATEST
REGISTRY = CollectorRegistry()
ASKS = Gauge("groupcast_asks", "Asks recorded, by mode", ["mode"], registry=REGISTRY)
DELIVERIES = Gauge("groupcast_deliveries", "Deliveries, by state", ["state"], registry=REGISTRY)
OUTBOX = Gauge("groupcast_outbox_depth", "Notices waiting to be sent", registry=REGISTRY)
SEND_SECONDS = Histogram(
    "groupcast_send_seconds", "Time the platform took to take a DM", registry=REGISTRY
)
RATE_LIMITED = Counter(
    "groupcast_rate_limited", "HTTP 429 answers, by API method", ["method"], registry=REGISTRY
)
PRESENCE_EVENTS = Counter(
    "groupcast_presence_changes", "Availability changes seen by this process", registry=REGISTRY
)


async def refresh() -> None:
    """Read the database-backed totals (one grouped query each)."""
    by_mode = await _counts(Request, "mode")
    for mode in Mode:
        ASKS.labels(mode.value).set(by_mode.get(mode.value, 0))
    by_state = await _counts(Delivery, "state")
    for state in DeliveryState:
        DELIVERIES.labels(state.value).set(by_state.get(state.value, 0))
    OUTBOX.set(await Notice.filter(state=NoticeState.PENDING).count())


async def _counts(model: type[Request] | type[Delivery], column: str) -> dict[str, int]:
    rows = await model.all().annotate(n=Count("id")).group_by(column).values_list(column, "n")
    return {str(getattr(k, "value", k)): int(n) for k, n in rows}


async def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    await refresh()
    return generate_latest(REGISTRY)


def timed(send: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """A platform's send_direct that records how long each took."""

    async def wrapper(*args: Any, **kwargs: Any) -> str:
        start = time.perf_counter()
        try:
            return await send(*args, **kwargs)
        finally:
            SEND_SECONDS.observe(time.perf_counter() - start)

    return wrapper
