"""Redis presence: signals/s through RedisPresenceStore with write-behind vs redis-benchmark.

Signals go to `monitor.native` on many keys and `monitor.flush()` writes each batch in one
pipeline (HSET of the batch + PUBLISH), which is how the bots share presence.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis

from bench.baselines import redis_benchmark_set
from bench.common import Row, print_rows
from core.clock import SystemClock
from core.presence.monitor import PresenceMonitor
from core.presence.redis_store import RedisPresenceStore

URL = "redis://127.0.0.1:6379/0"
TARGET = 0.5
STATES = ("online", "idle", "dnd", "offline")


async def signals_per_second(signals: int, keys: int, batch: int) -> float:
    """Feed `signals` status changes over `keys` contacts, flushing every `batch` signals."""
    namespace = f"bench{uuid.uuid4().hex[:8]}:"
    store = RedisPresenceStore(URL, namespace=namespace)
    monitor = PresenceMonitor(store, SystemClock())
    names = [f"discord:81384788765712384:{100_000_000_000_000_000 + i}" for i in range(keys)]
    native, flush = monitor.native, monitor.flush
    try:
        start = time.perf_counter()
        for i in range(signals):
            native(names[i % keys], STATES[(i // keys) % 4])  # every signal is a real change
            if (i + 1) % batch == 0:
                await flush()
        await flush()
        elapsed = time.perf_counter() - start
    finally:
        client: Redis = Redis.from_url(URL)
        try:
            await client.delete(namespace + "groupcast:presence")
        finally:
            await client.aclose()
        await store.close()
    return signals / elapsed


def run(signals: int = 200_000, keys: int = 50_000, batch: int = 1_000) -> list[Row]:
    """Ours, then redis-benchmark SET -P 16 on the same Redis."""
    ours = asyncio.run(signals_per_second(signals, keys, batch))
    base = redis_benchmark_set(pipeline=16)
    if base.value is None:
        return [Row("Redis presence signals/s", f"{ours:,.0f}/s", note=base.note)]
    r = ours / base.value
    return [
        Row(
            "Redis presence, signals/s (write-behind)",
            f"{ours:,.0f}/s",
            f"{base.value:,.0f} SET/s (redis-benchmark -P 16)",
            f"{r:.3f}×",
            f"≥ {TARGET}×",
            r >= TARGET,
            f"{signals:,} status changes over {keys:,} contacts, flush every {batch:,}",
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the Redis comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench.redis_presence", description=__doc__)
    parser.add_argument("--signals", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args(argv)
    print_rows("Redis presence", run(args.signals, batch=args.batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
