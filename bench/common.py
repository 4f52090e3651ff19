"""Shared pieces of our benchmarks: result rows, machine facts and the RESULTS.md writer."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
"""Where ``python -m bench`` writes its table; each run rewrites it whole."""


@dataclass(frozen=True, slots=True)
class Row:
    """One figure compared with its baseline and target, as RESULTS.md shows it."""

    figure: str
    ours: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None  # None: nothing to judge (informational row or not measured)
    note: str = ""

    def cells(self) -> list[str]:
        """Markdown cells in table order, so the writer and the printer agree."""
        met = "—" if self.met is None else ("yes" if self.met else "**no**")
        return [self.figure, self.ours, self.baseline, self.ratio, self.target, met]


def table(rows: Sequence[Row]) -> str:
    """The RESULTS table: figure | ours | baseline | ratio | target | met?"""
    lines = ["| figure | ours | baseline | ratio | target | met? |", "|---|---:|---:|---:|---|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def print_rows(title: str, rows: Sequence[Row]) -> None:
    """Print one benchmark's rows with notes, for ``python -m bench.<name>``."""
    print(f"\n## {title}\n")
    print(table(rows))
    for row in rows:
        if row.note:
            print(f"- {row.figure}: {row.note}")


def cpu_model() -> str:
    """The CPU model line from /proc/cpuinfo, because absolute figures depend on it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One paragraph naming the machine a run happened on."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now}; CPU {cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]} "
        f"({platform.python_implementation()}); {platform.system()} {platform.release()}"
    )


def us(ns: float) -> str:
    """Nanoseconds shown as microseconds, the unit most of our figures read best in."""
    return f"{ns / 1000:.2f} µs"


def ratio(ours: float, baseline: float) -> str:
    """Ours over the baseline, the number targets are stated in."""
    return f"{ours / baseline:.3f}×" if baseline else "—"


def rss_bytes() -> int:
    """Resident set size from /proc/self/statm, as the discord.py baseline measures it."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


Bench = Callable[[], list[Row]]
"""Every benchmark module exposes ``run() -> list[Row]`` of this shape."""


def run_module(name: str) -> list[Row]:
    """Import bench.<name> and return its rows; lives here so a spawned worker can import it."""
    module = importlib.import_module(f"bench.{name}")
    rows: list[Row] = module.run()
    return rows
