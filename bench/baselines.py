"""Baseline figures that our own presence code is compared against, in the same process.

* what discord.py does per ``PRESENCE_UPDATE`` when it keeps the member cache,
* how many bytes each cached ``discord.Member`` costs,
* what a local Redis sustains for pipelined ``SET`` (``redis-benchmark``).

Functions return :class:`Figure` values and print nothing; ``python -m bench.baselines``
prints them as a Markdown table. Nothing here touches the network except 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import gc
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from bench.payloads import (
    Payload,
    guild_create,
    guild_members,
    iter_guild_members,
    presence_updates,
)

# discord.py imports the stdlib ``audioop`` (deprecated in 3.11) for voice; we never use voice,
# and the warning would be an error under pytest's ``filterwarnings = error``.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    import discord
    from discord.http import HTTPClient
    from discord.state import ChunkRequest, ConnectionState

__all__ = [
    "BENCH_GUILD_ID",
    "BENCH_SEED",
    "Figure",
    "discordpy_guild",
    "discordpy_member_memory",
    "discordpy_presence_parse",
    "discordpy_state",
    "events_per_second",
    "main",
    "markdown_table",
    "ns_per_event",
    "percentile",
    "redis_benchmark_set",
]

BENCH_GUILD_ID = 81_384_788_765_712_384
"""A real-looking guild snowflake (2015) shared by every benchmark, ours and the baselines."""

BENCH_SEED = 20_240_610
"""Default seed: baselines and our code must parse byte-identical payloads."""

REDIS_HOST = "127.0.0.1"
"""The only host a benchmark may talk to."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number with its unit, so baselines and ours print side by side."""

    name: str
    value: float | None  # None when the measurement was skipped; ``note`` says why
    unit: str
    note: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)  # secondary stats, e.g. p99

    @property
    def skipped(self) -> bool:
        """Whether there is no value, so tables and comparisons can show a dash instead."""
        return self.value is None


def ns_per_event(total_ns: int, events: int) -> float:
    """Average cost of one event, the unit every presence figure is compared in."""
    if events <= 0:
        raise ValueError("events must be positive")
    return total_ns / events


def events_per_second(ns_each: float) -> float:
    """Throughput implied by a per-event cost, for readers who think in events/s."""
    return 1e9 / ns_each if ns_each > 0 else float("inf")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation), so p99 is always a value that occurred."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within [0, 100]")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least the first value
    return float(ordered[int(rank) - 1])


def _ignore_dispatch(event: str, /, *args: Any, **kwargs: Any) -> None:
    """Stand in for ``Client.dispatch``: the baseline measures parsing, not user listeners."""


def discordpy_state() -> ConnectionState[discord.Client]:
    """A real ConnectionState as ``discord.Client.__init__`` builds it before login, no network."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.presences = True
    # Client passes HTTPClient(self.loop) while its loop is still MISSING; no socket is opened
    # until login, and nothing on the parse paths measured here touches ``state.http``.
    return ConnectionState(
        dispatch=_ignore_dispatch,
        handlers={},
        hooks={},
        http=HTTPClient(discord.utils.MISSING),
        intents=intents,
    )


def discordpy_guild(
    state: ConnectionState[discord.Client],
    guild_id: int,
    members: Sequence[Payload],
    seed: int = BENCH_SEED,
    *,
    member_count: int | None = None,
) -> discord.Guild:
    """Cache a Guild holding ``members`` through discord.py's own GUILD_CREATE data path."""
    data: Any = guild_create(guild_id, members, seed)  # raw JSON, as the gateway hands it over
    if member_count is not None:  # a large guild whose members will arrive in chunks
        data |= {"member_count": member_count, "large": member_count >= 250}
    return state._add_guild_from_data(data)


def _fresh_copies(payloads: Sequence[Payload]) -> list[Any]:
    """Decode the payloads anew, as the gateway does: discord.py pops keys from custom statuses."""
    copies: list[Any] = json.loads(json.dumps(payloads))
    return copies


def _timer_overhead_ns(samples: int = 2_000) -> int:
    """Smallest back-to-back ``perf_counter_ns`` gap, subtracted from per-event timings."""
    clock = time.perf_counter_ns
    best = 1 << 62
    for _ in range(samples):
        start = clock()
        best = min(best, clock() - start)
    return best


def discordpy_presence_parse(
    payloads: Sequence[Payload],
    members_cached: int,
    *,
    rounds: int = 7,
    seed: int = BENCH_SEED,
) -> Figure:
    """ns per PRESENCE_UPDATE through ``ConnectionState.parse_presence_update`` with a warm cache.

    The guild caches ``members_cached`` members from ``guild_members(members_cached, guild, seed)``;
    generate ``payloads`` from the same members so every event hits a cached member.
    """
    if not payloads:
        raise ValueError("payloads must not be empty")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    guild_id = int(payloads[0]["guild_id"])
    state = discordpy_state()
    guild = discordpy_guild(state, guild_id, guild_members(members_cached, guild_id, seed), seed)
    cached = len(guild.members)
    hits = sum(guild.get_member(int(p["user"]["id"])) is not None for p in payloads)
    parse = state.parse_presence_update
    events = len(payloads)

    # A warm-up round (not reported), then whole-round timings: one clock pair per round keeps
    # the clock's own cost out of the headline figure. Each round parses freshly decoded copies.
    round_ns: list[float] = []
    for round_index in range(rounds + 1):
        batch = _fresh_copies(payloads)
        gc.collect()
        start = time.perf_counter_ns()
        for payload in batch:
            parse(payload)
        elapsed = time.perf_counter_ns() - start
        if round_index:
            round_ns.append(ns_per_event(elapsed, events))

    # One instrumented round for the per-event latency distribution (tail events matter
    # for a bot: a slow parse delays every event queued behind it on the gateway).
    overhead = _timer_overhead_ns()
    batch = _fresh_copies(payloads)
    gc.collect()
    clock = time.perf_counter_ns
    samples: list[float] = []
    append = samples.append
    for payload in batch:
        start = clock()
        parse(payload)
        append(max(0, clock() - start - overhead))

    median = percentile(round_ns, 50)
    notes = [
        f"{events:,} events x {rounds} rounds, {cached:,} cached members, no-op dispatch",
        "value = median of per-round means",
    ]
    if hits < events:
        notes.append(f"only {hits:,}/{events:,} events hit a cached member")
    return Figure(
        name="discord.py parse_presence_update",
        value=median,
        unit="ns/event",
        note="; ".join(notes),
        extra={
            "p99_round_ns_per_event": percentile(round_ns, 99),
            "events_per_s": events_per_second(median),
            "event_p50_ns": percentile(samples, 50),
            "event_p99_ns": percentile(samples, 99),
            "cached_members": float(cached),
        },
    )


def _rss_bytes() -> int:
    """Resident set size from /proc/self/statm (Linux), avoiding a psutil dependency."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _chunks(members: Iterator[Payload], size: int) -> Iterator[list[Payload]]:
    """Batch members like GUILD_MEMBERS_CHUNK (Discord sends at most 1000 per chunk)."""
    while batch := list(itertools.islice(members, size)):
        yield batch


def _chunking_guild(
    n: int, seed: int
) -> tuple[ConnectionState[discord.Client], discord.Guild, ChunkRequest]:
    """A large guild with a pending ChunkRequest, as ``ConnectionState.chunk_guild`` leaves it."""
    state = discordpy_state()
    guild = discordpy_guild(state, BENCH_GUILD_ID, [], seed, member_count=n)
    # The loop is only used for waiters' futures, and nobody waits here.
    request = ChunkRequest(guild.id, guild.shard_id, discord.utils.MISSING, state._get_guild)
    state._chunk_requests[guild.id] = request
    return state, guild, request


def _chunk_event(guild_id: int, chunk: list[Payload], index: int, count: int, nonce: str) -> Any:
    """A GUILD_MEMBERS_CHUNK ``d`` answering the request identified by ``nonce``."""
    return {
        "guild_id": str(guild_id),
        "members": chunk,
        "chunk_index": index,
        "chunk_count": count,
        "not_found": [],
        "nonce": nonce,
    }


def _rss_per_member(n: int, seed: int, chunk_size: int) -> tuple[float, float]:
    """RSS growth per member while discord.py ingests ``n`` members, untraced; and seconds."""
    state, guild, request = _chunking_guild(n, seed)
    count = -(-n // chunk_size)
    gc.collect()
    before = _rss_bytes()
    started = time.perf_counter()
    members = iter_guild_members(n, guild.id, seed)
    for index, chunk in enumerate(_chunks(members, chunk_size)):
        state.parse_guild_members_chunk(_chunk_event(guild.id, chunk, index, count, request.nonce))
    elapsed = time.perf_counter() - started
    gc.collect()
    grown = _rss_bytes() - before
    if len(guild.members) != n:
        raise RuntimeError(f"discord.py cached {len(guild.members):,} members, expected {n:,}")
    return grown / n, elapsed


def _traced_per_member(n: int, seed: int, chunk_size: int) -> float:
    """Bytes per member still allocated (tracemalloc) after discord.py ingests ``n`` members.

    Chunks are serialised before tracing and JSON-decoded inside it, like gateway frames:
    strings the Member keeps from its payload are counted, generator temporaries are not.
    """
    state, guild, request = _chunking_guild(n, seed)
    count = -(-n // chunk_size)
    members = iter_guild_members(n, guild.id, seed)
    frames = [
        json.dumps(_chunk_event(guild.id, chunk, index, count, request.nonce))
        for index, chunk in enumerate(_chunks(members, chunk_size))
    ]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for frame in frames:
            state.parse_guild_members_chunk(json.loads(frame))
        gc.collect()
        # The traced total is what a full snapshot diff sums to, without materialising
        # millions of trace records (a snapshot at this size costs more than the run).
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    if len(guild.members) != n:
        raise RuntimeError(f"discord.py cached {len(guild.members):,} members, expected {n:,}")
    return grown / n


TRACE_LIMIT = 100_000
"""Most members traced: tracemalloc slows allocation ~3-10x, so 1M traced would take minutes."""


def discordpy_member_memory(
    n: int, *, seed: int = BENCH_SEED, chunk_size: int = 1_000, trace_limit: int = TRACE_LIMIT
) -> Figure:
    """Bytes per cached ``discord.Member`` after discord.py ingests ``n`` members by chunking.

    Members arrive as GUILD_MEMBERS_CHUNK events for a registered ChunkRequest, exactly how
    ``Guild.chunk()`` / ``chunk_guilds_at_startup`` fill a large guild's cache. The value is
    the tracemalloc delta per member (at most ``trace_limit`` members); ``extra`` holds the
    RSS delta per member measured untraced at the full ``n``.
    """
    if n < 1:
        raise ValueError("n must be positive")
    if chunk_size < 1 or trace_limit < 1:
        raise ValueError("chunk_size and trace_limit must be positive")
    rss_each, ingest_s = _rss_per_member(n, seed, chunk_size)  # first: no freed arenas to reuse
    gc.collect()
    traced_n = min(n, trace_limit)
    traced_each = _traced_per_member(traced_n, seed, chunk_size)
    note = f"tracemalloc delta / n at n={traced_n:,}"
    if traced_n < n:
        note += f" (tracing {n:,} is too slow: tracemalloc slows allocation ~3-10x)"
    note += f"; RSS delta at n={n:,}; members arrive as GUILD_MEMBERS_CHUNK of {chunk_size:,}"
    return Figure(
        name=f"discord.py bytes per cached Member (n={n:,})",
        value=traced_each,
        unit="B/member",
        note=note,
        extra={
            "rss_bytes_per_member": rss_each,
            "ingest_us_per_member": ingest_s * 1e6 / n,
            "traced_members": float(traced_n),
        },
    )


def _parse_redis_benchmark_csv(output: str) -> tuple[float, dict[str, float]] | None:
    """Pull SET requests/s (and latency columns when present) out of ``--csv`` output."""
    header: list[str] | None = None
    for row in csv.reader(output.splitlines()):
        if not row:
            continue
        if row[0] == "test":
            header = row
            continue
        if row[0] != "SET" or len(row) < 2:
            continue
        extra: dict[str, float] = {}
        if header is not None:
            for key, cell in zip(header[2:], row[2:], strict=False):
                try:
                    extra[key] = float(cell)
                except ValueError:
                    continue
        return float(row[1]), extra
    return None


def redis_benchmark_set(
    pipeline: int = 16,
    requests: int = 200_000,
    *,
    port: int = 6379,
    db: int = 0,
    timeout_s: float = 120.0,
) -> Figure:
    """Pipelined SETs/s a local Redis sustains: the ceiling any Redis-backed path can reach."""
    name = f"redis-benchmark SET -P {pipeline}"
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return Figure(name, None, "SET/s", note="skipped: redis-benchmark not found")
    command = [binary, "-h", REDIS_HOST, "-p", str(port), "-t", "set", "-P", str(pipeline)]
    command += ["-n", str(requests), "-q", "--csv", "--dbnum", str(db)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return Figure(
            name, None, "SET/s", note=f"skipped: redis-benchmark exceeded {timeout_s:g} s"
        )
    finally:
        _remove_benchmark_key(port, db)
    parsed = _parse_redis_benchmark_csv(done.stdout)
    if done.returncode != 0 or parsed is None:
        reason = (done.stderr or done.stdout).strip().splitlines()
        detail = reason[-1] if reason else f"exit status {done.returncode}"
        return Figure(name, None, "SET/s", note=f"skipped: redis-benchmark failed: {detail}")
    rate, latencies = parsed
    return Figure(
        name,
        rate,
        "SET/s",
        note=f"{requests:,} requests, 50 clients (default), {REDIS_HOST}:{port} db {db}",
        extra=latencies,
    )


def _remove_benchmark_key(port: int, db: int) -> None:
    """Delete the one key redis-benchmark writes, so it cannot surprise other tests' asserts."""
    try:
        client = redis.Redis(
            host=REDIS_HOST, port=port, db=db, socket_timeout=2, socket_connect_timeout=2
        )
        try:
            client.delete("key:__rand_int__")
        finally:
            client.close()
    except redis.RedisError:
        pass


def _format_number(value: float) -> str:
    """Thousands separators for big numbers, a few digits for small ones, for eyeballing."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def markdown_table(figures: Sequence[Figure]) -> str:
    """Render figures as a Markdown table: one row each, secondary stats in their own column."""
    lines = ["| Baseline | Value | Unit | Details | Note |", "|---|---:|---|---|---|"]
    for figure in figures:
        value = "—" if figure.value is None else _format_number(figure.value)
        details = ", ".join(f"{key}={_format_number(v)}" for key, v in figure.extra.items())
        lines.append(f"| {figure.name} | {value} | {figure.unit} | {details} | {figure.note} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every baseline at a moderate size (or ``--full``) and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.baselines", description=__doc__)
    parser.add_argument("--full", action="store_true", help="member memory at 1,000,000")
    parser.add_argument("--payloads", type=int, default=20_000, help="PRESENCE_UPDATE events")
    parser.add_argument("--members", type=int, default=10_000, help="members cached for parsing")
    parser.add_argument("--memory-members", type=int, default=None, help="members for memory")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds for parsing")
    parser.add_argument("--seed", type=int, default=BENCH_SEED)
    args = parser.parse_args(argv)
    memory_members = args.memory_members or (1_000_000 if args.full else 100_000)

    # Memory first: RSS deltas are only honest before earlier runs leave freed arenas behind.
    memory = discordpy_member_memory(memory_members, seed=args.seed)
    members = guild_members(args.members, BENCH_GUILD_ID, args.seed)
    user_ids = [int(member["user"]["id"]) for member in members]
    del members
    payloads = presence_updates(args.payloads, BENCH_GUILD_ID, user_ids, args.seed)
    parse = discordpy_presence_parse(payloads, args.members, rounds=args.rounds, seed=args.seed)
    figures = [parse, memory, redis_benchmark_set()]
    print(
        f"Baselines: discord.py {discord.__version__}, Python {sys.version.split()[0]}, seed {args.seed}\n"
    )
    print(markdown_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
