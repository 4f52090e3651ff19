"""Memory per tracked contact: a PresenceMonitor holding n contacts vs discord.py's Members.

Ours is measured first, in a process that has not yet freed anything (an RSS delta is only
honest before freed arenas can be reused), then discord.py's baseline for the same n.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

from bench.baselines import BENCH_GUILD_ID, discordpy_member_memory
from bench.common import Row, print_rows, rss_bytes
from core import keys
from core.clock import SystemClock
from core.presence.monitor import PresenceMonitor

TARGET = 0.25
"""Ours must take at most this fraction of discord.py's bytes per cached Member."""

_STATUSES = (b'"online"', b'"idle"', b'"dnd"', b'"offline"')


class DiscardStore:
    """A presence store that keeps nothing, so a flush empties the dirty set without a copy."""

    origin = "bench"

    async def save(self, records: Mapping[str, bytes]) -> None:
        """Drop the batch: the shared store's memory is not the monitor's."""

    async def settle(self) -> None:
        """Nothing is ever pending."""

    async def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Nothing is shared, so nothing loads."""
        return {}

    async def feed(self) -> AsyncIterator[tuple[str, bytes]]:
        """No other process writes."""
        return
        yield

    async def claim(self, token: str, ttl: float) -> bool:
        """Every claim succeeds: there is nobody to race."""
        return True

    async def forget(self, keys: Iterable[str]) -> None:
        """Nothing is kept, so nothing to forget."""

    async def close(self) -> None:
        """Nothing to release."""


def track(n: int) -> PresenceMonitor:
    """Feed n contacts through the adapter's mapping, with strings as fresh as a gateway's.

    Keys are built per event and the status comes out of a JSON decode, so whatever the
    monitor keeps is counted as it would be in the bot (not shared literals).
    """
    monitor = PresenceMonitor(DiscardStore(), SystemClock())
    guild = str(BENCH_GUILD_ID)
    native = monitor.native
    base = 1_000_000_000_000_000_000
    # The cyclic collector would rescan the growing heap over and over (minutes at 1M); it
    # frees nothing here, so pausing it changes the time taken, not the memory kept.
    gc.disable()
    try:
        for i in range(n):
            native(keys.encode("discord", guild, str(base + i)), json.loads(_STATUSES[i % 4]))
    finally:
        gc.enable()
    return monitor


def written(monitor: PresenceMonitor) -> None:
    """Leave the monitor as a successful flush does (nothing dirty) without serialising.

    A real flush would spend minutes encoding a million wire strings that the store then
    owns; what stays in the monitor afterwards is exactly an empty dirty set.
    """
    monitor._dirty.clear()


def measure_ours(n: int) -> dict[str, float]:
    """Bytes per contact: RSS delta untraced, then tracemalloc delta, before and after a flush."""
    gc.collect()
    before = rss_bytes()
    monitor = track(n)
    written(monitor)
    gc.collect()
    rss_each = (rss_bytes() - before) / n
    del monitor
    gc.collect()

    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        monitor = track(n)
        gc.collect()
        dirty_each = (tracemalloc.get_traced_memory()[0] - start) / n
        written(monitor)
        gc.collect()
        traced_each = (tracemalloc.get_traced_memory()[0] - start) / n
    finally:
        tracemalloc.stop()
    if len(monitor) != n:
        raise RuntimeError(f"monitor tracks {len(monitor):,} contacts, expected {n:,}")
    return {"traced": traced_each, "dirty": dirty_each, "rss": rss_each}


def run(n: int = 1_000_000) -> list[Row]:
    """Ours at n, then discord.py's Member at n; rows for RESULTS.md."""
    ours = measure_ours(n)
    gc.collect()
    theirs = discordpy_member_memory(n)
    assert theirs.value is not None
    their_rss = theirs.extra["rss_bytes_per_member"]
    r = ours["traced"] / theirs.value
    return [
        Row(
            f"memory per tracked contact (n={n:,}, tracemalloc)",
            f"{ours['traced']:.0f} B",
            f"{theirs.value:.0f} B (discord.py Member)",
            f"{r:.3f}×",
            f"≤ {TARGET:.2f}×",
            r <= TARGET,
            f"key + record + dict slot, after write-behind flushed; {ours['dirty']:.0f} B while "
            f"every contact is still dirty (unflushed); discord.py traced at "
            f"n={theirs.extra['traced_members']:,.0f}",
        ),
        Row(
            f"memory per tracked contact (n={n:,}, RSS)",
            f"{ours['rss']:.0f} B",
            f"{their_rss:.0f} B",
            f"{ours['rss'] / their_rss:.3f}×",
            f"≤ {TARGET:.2f}×",
            ours["rss"] / their_rss <= TARGET,
            "RSS delta / n, untraced, both at full n",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the memory comparison (``--ours-only`` skips discord.py's slow 1M ingest)."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--ours-only", action="store_true")
    args = parser.parse_args(argv)
    if args.ours_only:
        print(json.dumps(measure_ours(args.n)))
        return 0
    print_rows("Memory per tracked contact", run(args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
