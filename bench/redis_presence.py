"""Redis presence: the same signals through the Redis store and the in-process store.

Signals go to `monitor.native` on many keys and `monitor.flush()` writes each batch, which
is how the bots share presence: with Redis, one write of the batch's HSET and one PUBLISH;
in process, the same encoded records into the hub. Rounds alternate between the two, so
a neighbour's burst on a shared machine lands on both; the figure is the median of the
per-round ratios. redis-benchmark's pipelined SET/s stays beside it as the server's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis

from bench.baselines import redis_benchmark_set
from bench.common import Row, print_rows
from core import keys
from core.clock import SystemClock
from core.presence.monitor import PresenceMonitor
from core.presence.redis_store import HASH, RedisPresenceStore
from core.presence.store import MemoryPresenceStore, PresenceStore

URL = "redis://127.0.0.1:6379/0"
TARGET = 0.7
"""Sharing presence through Redis must keep at least this fraction of in-process speed."""
STATES = ("online", "idle", "dnd", "offline")


async def signals_per_second(
    store: PresenceStore, signals: int, contacts: int, batch: int
) -> float:
    """Feed `signals` status changes over `contacts` contacts, flushing every `batch` signals."""
    monitor = PresenceMonitor(store, SystemClock())
    names = [keys.encode("discord", "81384788765712384", str(10**17 + i)) for i in range(contacts)]
    native, flush = monitor.native, monitor.flush
    gc.collect()
    start = time.perf_counter()
    for i in range(signals):
        native(names[i % contacts], STATES[(i // contacts) % 4])  # every signal is a real change
        if (i + 1) % batch == 0:
            await flush()
    await flush()
    await store.settle()  # counted: every batch is applied when the clock stops
    return signals / (time.perf_counter() - start)


async def through_redis(signals: int, contacts: int, batch: int) -> float:
    namespace = f"bench{uuid.uuid4().hex[:8]}:"
    store = RedisPresenceStore(URL, namespace=namespace)
    try:
        return await signals_per_second(store, signals, contacts, batch)
    finally:
        client: Redis = Redis.from_url(URL)
        try:
            await client.delete(namespace + HASH)
        finally:
            await client.aclose()
        await store.close()


async def in_process(signals: int, contacts: int, batch: int) -> float:
    store = MemoryPresenceStore()
    try:
        return await signals_per_second(store, signals, contacts, batch)
    finally:
        await store.close()


async def compare(signals: int, contacts: int, batch: int, rounds: int) -> dict[str, float]:
    """Alternate the two stores round by round (order swapped each round); round 0 warms up."""
    redis_rates: list[float] = []
    memory_rates: list[float] = []
    for index in range(rounds + 1):
        if index % 2:
            memory = await in_process(signals, contacts, batch)
            redis = await through_redis(signals, contacts, batch)
        else:
            redis = await through_redis(signals, contacts, batch)
            memory = await in_process(signals, contacts, batch)
        if index:
            redis_rates.append(redis)
            memory_rates.append(memory)
    ratios = [r / m for r, m in zip(redis_rates, memory_rates, strict=True)]
    return {
        "redis": statistics.median(redis_rates),
        "memory": statistics.median(memory_rates),
        "ratio": statistics.median(ratios),
        "worst": min(ratios),
    }


def run(
    signals: int = 200_000, contacts: int = 50_000, batch: int = 1_000, rounds: int = 5
) -> list[Row]:
    """Ours through Redis ÷ ours in process (the target), then against redis-benchmark."""
    got = asyncio.run(compare(signals, contacts, batch, rounds))
    shape = (
        f"{signals:,} status changes over {contacts:,} contacts, flush every {batch:,}; "
        f"{rounds} alternating rounds, median of per-round ratios (worst {got['worst']:.3f}×)"
    )
    rows = [
        Row(
            "Redis presence: signals/s through the Redis store ÷ the in-process store",
            f"{got['redis']:,.0f}/s",
            f"{got['memory']:,.0f}/s (in-process store, same events)",
            f"{got['ratio']:.3f}×",
            f"≥ {TARGET}×",
            got["ratio"] >= TARGET,
            shape,
        )
    ]
    base = redis_benchmark_set(pipeline=16)
    if base.value is None:
        rows.append(Row("Redis presence vs the server's ceiling", "—", note=base.note))
    else:
        rows.append(
            Row(
                "Redis presence vs the server's ceiling",
                f"{got['redis']:,.0f}/s",
                f"{base.value:,.0f} SET/s (redis-benchmark -P 16)",
                f"{got['redis'] / base.value:.3f}×",
                note="informational: what the server alone answers, one SET per request",
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the Redis comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench.redis_presence", description=__doc__)
    parser.add_argument("--signals", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print_rows("Redis presence", run(args.signals, batch=args.batch, rounds=args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
