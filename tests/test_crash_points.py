"""The crash-point matrix: a real `groupcast shell` process is SIGKILLed at each moment a
transition can be interrupted (GROUPCAST_CRASH_AT), a second process carries on, and then:
the request ends or keeps going, nobody is asked twice, the requester is told exactly once,
and `groupcast doctor` finds nothing wrong.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.doctor import check
from core.faults import VARIABLE
from core.store.models import Request, RequestState
from tests.faults.processes import Process, asks, environment

NOW = "2026-01-05T09:00:00+00:00"
ASK = "/ask-available frontend can someone review #12?"


@dataclass(frozen=True)
class Scenario:
    point: str
    first: str  # lines the killed process runs; it dies at `point` on the way
    then: str  # lines a fresh process runs afterwards, ending the request where it can
    outcome: RequestState | None  # None: the crash came before the request existed
    told: str = "accepted your ask"  # what the requester's one outcome notice says
    told_as: str = "dm"  # how: a DM, or the command's own reply (`ephemeral`: a cancel)


SCENARIOS = [
    Scenario("ask.before-commit", ASK, "", None),
    Scenario("ask.after-commit", ASK, ":as bob\n:accept", RequestState.FULFILLED),
    Scenario("delivery.sent", ASK, ":advance 2m\n:as bob\n:accept", RequestState.FULFILLED),
    Scenario(
        "decline.before-commit",
        f"{ASK}\n:as bob\n:decline",
        ":as bob\n:decline\n:as dave\n:accept",
        RequestState.FULFILLED,
    ),
    Scenario(
        "decline.after-commit",
        f"{ASK}\n:as bob\n:decline",
        ":as dave\n:accept",
        RequestState.FULFILLED,
    ),
    Scenario(
        "accept.before-commit",
        f"{ASK}\n:as bob\n:accept",
        ":as bob\n:accept",
        RequestState.FULFILLED,
    ),
    Scenario("accept.after-commit", f"{ASK}\n:as bob\n:accept", "", RequestState.FULFILLED),
    Scenario(
        "timeout.before-commit",
        f"{ASK}\n:advance 6m",
        ":advance 6m\n:advance 6m",
        RequestState.EXHAUSTED,
        "Nobody else in @frontend is available",
    ),
    Scenario(
        "timeout.after-commit",
        f"{ASK}\n:advance 6m",
        ":advance 6m",
        RequestState.EXHAUSTED,
        "Nobody else in @frontend is available",
    ),
    Scenario(
        "escalate.before-commit",
        f"/community set frontend escalate 3m everyone\n{ASK}\n:advance 3m",
        ":advance 3m\n:as dave\n:accept",
        RequestState.FULFILLED,
    ),
    Scenario(
        "escalate.after-commit",
        f"/community set frontend escalate 3m everyone\n{ASK}\n:advance 3m",
        ":as dave\n:accept",
        RequestState.FULFILLED,
    ),
    Scenario(
        "cancel.before-commit",
        f"{ASK}\n/ask-available cancel",
        "/ask-available cancel",
        RequestState.CANCELLED,
        "Cancelled your ask",
        "ephemeral",
    ),
    Scenario(
        "cancel.after-commit",  # the reply died with the process; `why` reads how it ended
        f"{ASK}\n/ask-available cancel",
        "/ask-available why",
        RequestState.CANCELLED,
        ": cancelled.",
        "ephemeral",
    ),
    Scenario(
        "tell.sent",
        f"{ASK}\n:as bob\n:accept",
        ":advance 2m",
        RequestState.FULFILLED,
    ),
    Scenario(
        "edit.sent",
        f"{ASK}\n:as bob\n:accept",
        ":advance 2m",
        RequestState.FULFILLED,
    ),
    Scenario(
        "dm.sent",
        ":as erin\n/community subscribe frontend\n:presence bob offline",
        ":advance 2m",
        None,
    ),
]


def shell(db: str, cwd: Path, script: str, crash_at: str | None = None) -> Process:
    extra = {VARIABLE: crash_at} if crash_at else {}
    env = environment(RANDOM_SEED="7", **extra)
    args = ["shell", "--script", "-", "--json", "--now", NOW, "--database", db]
    return Process(args, env, cwd, script + "\n")


def run(db: str, cwd: Path, script: str, crash_at: str | None = None) -> tuple[int, list[str]]:
    p = shell(db, cwd, script, crash_at)
    try:
        code = p.wait(60)
        return code, p.lines
    finally:
        p.close()


def messages(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.mark.parametrize("s", SCENARIOS, ids=[s.point for s in SCENARIOS])
async def test_a_crash_at_each_point_leaves_nothing_lost_doubled_or_untold(
    db: str, tmp_path: Path, s: Scenario
) -> None:
    code, before = run(db, tmp_path, s.first, crash_at=s.point)
    assert code == -signal.SIGKILL, f"{s.point} was never reached"
    code, after = run(db, tmp_path, s.then)
    assert code == 0
    out = messages(before + after)

    per_target = Counter(asks(before + after))
    assert all(n == 1 for n in per_target.values()), per_target
    to_alice = [str(m["text"]) for m in out if m["to"] == "alice" and m["kind"] == s.told_as]
    to_erin = [str(m["text"]) for m in out if m["to"] == "erin" and m["kind"] == "dm"]
    # An edit replaces a message whole: one repeated after a crash is invisible, but two
    # different edits of one DM would mean two outcomes for one ask.
    edits: dict[str, set[str]] = {}
    for m in out:
        if m["kind"] == "edit":
            edits.setdefault(str(m["ref"]), set()).add(str(m["text"]))
    assert all(len(texts) == 1 for texts in edits.values()), edits

    requests = await Request.all()
    if s.outcome is None:
        assert all(r.state is RequestState.OPEN for r in requests) or not requests
    else:
        (request,) = requests
        assert request.state is s.outcome
        assert sum(s.told in t for t in to_alice) == 1, to_alice
    if s.point == "dm.sent":
        assert len(to_erin) == 1, to_erin  # the push, once, though it was cut off unrecorded
    assert await check() == []
    print(
        f"\nCRASH {s.point}: outcome={s.outcome.value if s.outcome else '-'}, "
        f"told={len(to_alice) if s.outcome else 0}, dms per target={dict(per_target)}"
    )


async def test_doctor_names_a_stranded_request_and_exits_one(db: str, tmp_path: Path) -> None:
    code, _ = run(db, tmp_path, ASK)
    assert code == 0
    await Request.all().update(state=RequestState.FULFILLED)  # closed, but never told
    p = Process(["doctor"], environment(DATABASE_URL=db), tmp_path)
    try:
        assert p.wait(30) == 1
        assert any("ended fulfilled but its requester was told 0 times" in x for x in p.lines)
    finally:
        p.close()
