"""Crash recovery with real processes: SIGKILL mid fan-out, restart completes it; SIGTERM drains."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

from core.doctor import check
from core.store.models import Delivery, DeliveryState
from tests.faults.processes import Process, asks, environment
from tests.faults.seed import crowd

FANOUT = 500
KILL_AFTER = 150  # asks the test has read when it strikes: well inside the fan-out
ASK = "/ask-available crowd --everyone fault drill: who can hear me?\n"


def figures(fault: str, targets: list[str], sent: list[str]) -> dict[str, int]:
    """Sent, delivered, duplicated, lost for one fault, printed for the closing note."""
    seen = Counter(sent)
    got = {
        "requests": len(targets),
        "sent": len(sent),
        "delivered": len(set(sent) & set(targets)),
        "duplicated": sum(n - 1 for n in seen.values() if n > 1),
        "lost": len(set(targets) - set(sent)),
    }
    print(f"\nFAULT {fault}: " + ", ".join(f"{k}={v}" for k, v in got.items()))
    return got


async def in_flight() -> set[str]:
    """Targets whose delivery a worker had claimed (sending) but not yet recorded as sent."""
    rows = await Delivery.filter(state=DeliveryState.PENDING, claimed_by__not_isnull=True)
    return {
        str(u)
        for u in await Delivery.filter(id__in=[r.id for r in rows]).values_list(
            "target__user_id", flat=True
        )
    }


async def states() -> Counter[str]:
    rows = await Delivery.all().values_list("state", "claimed_by")
    return Counter(f"{state}{'+claimed' if claimed else ''}" for state, claimed in rows)


def start(db: str, cwd: Path, script: str) -> Process:
    return Process(
        ["shell", "--script", "-", "--json", "--database", db], environment(), cwd, script
    )


async def test_sigkill_mid_fanout_then_restart_completes_it(db: str, tmp_path: Path) -> None:
    targets = await crowd(FANOUT)
    first = start(db, tmp_path, ASK)
    try:
        assert first.read_until(
            lambda lines: len(asks(lines)) >= KILL_AFTER, time.monotonic() + 30
        ), first.stderr()
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
        first.read_to_end(time.monotonic() + 5)  # what it wrote into the pipe was sent
    finally:
        first.close()
    before = asks(first.lines)
    after_kill = await states()
    claimed = await in_flight()
    assert 0 < len(before) < FANOUT, "the kill must land mid fan-out"

    second = start(db, tmp_path, ":advance 2m\n")  # past the dead worker's lease
    try:
        assert second.wait(30) == 0, second.stderr()
    finally:
        second.close()
    again = asks(second.lines)
    got = figures("sigkill", targets, before + again)
    print(f"  after kill: {dict(after_kill)}; first {len(before)}, restart {len(again)}")
    assert got["lost"] == 0
    assert got["delivered"] == FANOUT
    # "At most the in-flight message": every repeat was claimed by the killed worker, and the
    # Outbox sends one at a time per fan-out: at most the one in-flight message repeats.
    repeated = {t for t, n in Counter(before + again).items() if n > 1}
    assert repeated <= claimed, repeated - claimed
    assert got["duplicated"] <= 1, "only a message cut off mid-print can show again"
    assert (await states()) == Counter({DeliveryState.SENT.value: FANOUT})
    assert await check() == []


async def test_sigterm_drains_hands_back_and_exits_zero(db: str, tmp_path: Path) -> None:
    targets = await crowd(FANOUT)
    first = start(db, tmp_path, ASK)
    try:
        assert first.read_until(
            lambda lines: len(asks(lines)) >= KILL_AFTER, time.monotonic() + 30
        ), first.stderr()
        first.proc.send_signal(signal.SIGTERM)
        code = first.wait(30)
        err = first.stderr()
    finally:
        first.close()
    before = asks(first.lines)
    after_term = await states()
    assert code == 0, err
    assert "Traceback" not in err, err
    assert len(before) < FANOUT, "SIGTERM stops taking work"
    assert not any(s.endswith("+claimed") for s in after_term), "in-flight work is handed back"

    second = start(db, tmp_path, "")  # start() alone resumes: nothing is left under a lease
    try:
        assert second.wait(30) == 0, second.stderr()
    finally:
        second.close()
    got = figures("sigterm", targets, before + asks(second.lines))
    print(f"  after SIGTERM: {dict(after_term)}")
    assert got["lost"] == 0
    assert got["duplicated"] == 0
    assert (await states()) == Counter({DeliveryState.SENT.value: FANOUT})
    assert await check() == []
