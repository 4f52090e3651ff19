"""Degraded, not down: Redis cut and restored, PostgreSQL cut under load, start-up without a database."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bots.shell.testing import Workspace
from core import keys
from core.presence.availability import Availability
from core.presence.monitor import PresenceMonitor
from core.presence.redis_store import RedisPresenceStore
from core.presence.signals import ONLINE, Activity
from core.presence.store import PresenceStore
from tests.conftest import POSTGRES, REDIS
from tests.faults.processes import Process, environment
from tests.faults.proxy import Proxy

UNREACHABLE = "presence store unreachable"


def via(url: str, proxy: Proxy) -> str:
    """The same service URL, through the proxy's port."""
    parts = urlsplit(url)
    return parts._replace(
        netloc=parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    ).geturl()


async def until(check: object, within: float) -> float:
    start = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - start > within:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_redis_cut_requests_resolve_one_warning_then_rejoin(
    db: str, presence_store: PresenceStore, caplog: pytest.LogCaptureFixture
) -> None:
    if not isinstance(presence_store, RedisPresenceStore):
        pytest.skip("a Redis fault")
    target = urlsplit(REDIS)
    proxy = await Proxy(target.hostname or "127.0.0.1", target.port or 6379).start()
    store = RedisPresenceStore(via(REDIS, proxy), namespace=presence_store.namespace)
    ws = await Workspace(store=store).start()
    follow = asyncio.create_task(ws.engine.monitor.follow())
    caplog.set_level(logging.WARNING)
    try:
        await ws.engine.tick()
        await proxy.cut()
        sent = resolved = 0
        for i in range(20):
            t = await ws.run(f"/ask-available frontend --all outage drill {i}", ":advance 1s")
            sent += 1
            resolved += sorted(t.asked()) == ["bob", "dave"]
        warnings = [r for r in caplog.records if UNREACHABLE in r.getMessage()]
        print(f"\nFAULT redis-cut: requests={sent}, resolved={resolved}, warnings={len(warnings)}")
        assert resolved == sent
        assert len(warnings) == 1

        await proxy.restore()
        ws.engine.monitor.native(keys.encode("shell", "local", "erin"), ONLINE)
        await ws.engine.tick()  # the write-behind flush succeeds again
        assert any("reachable again" in r.getMessage() for r in caplog.records)
        # Rejoined: another process's write arrives through the feed again.
        writer = PresenceMonitor(presence_store, ws.clock)
        zed = keys.encode("shell", "local", "zed")
        writer.native(zed, ONLINE)
        start = time.monotonic()
        while ws.engine.monitor.availability(zed) is not Availability.AVAILABLE:
            writer.observe(zed, Activity())  # written again (same availability) until resubscribed
            await writer.flush()
            assert time.monotonic() - start < 5, "the feed never came back"
            await asyncio.sleep(0.05)
        print(f"  rejoined: feed delivering again {time.monotonic() - start:.2f}s after restore")
    finally:
        follow.cancel()
        await store.close()
        await proxy.close()


async def test_postgres_cut_under_load_recovers_without_restart(db: str, tmp_path: Path) -> None:
    if not db.startswith("postgres"):
        pytest.skip("a PostgreSQL fault")
    target = urlsplit(POSTGRES)
    proxy = await Proxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    env = environment(DATABASE_URL=via(POSTGRES, proxy))
    proc = Process.module("tests.faults.load", env, tmp_path)
    try:
        oks = lambda lines: sum('"ok": true' in line for line in lines)  # noqa: E731
        fails = lambda lines: sum('"ok": false' in line for line in lines)  # noqa: E731
        assert await asyncio.to_thread(
            proc.read_until, lambda ls: oks(ls) >= 20, time.monotonic() + 30
        ), proc.stderr()
        await proxy.cut()
        assert await asyncio.to_thread(
            proc.read_until, lambda ls: fails(ls) >= 3, time.monotonic() + 15
        ), proc.stderr()
        await proxy.restore()
        code = await asyncio.to_thread(proc.wait, 30)
        err = proc.stderr()
    finally:
        proc.close()
        await proxy.close()
    results = [json.loads(line) for line in proc.lines if line.startswith("{")]
    ok = sum(r["ok"] for r in results)
    print(
        f"\nFAULT postgres-cut: requests={len(results)}, succeeded={ok}, failed during the cut={len(results) - ok}"
    )
    assert code == 0, err[-2000:]
    assert results[-1]["ok"], "serving again in the same process"


def test_startup_without_its_database_says_one_line(tmp_path: Path) -> None:
    env = environment(DATABASE_URL="postgres://postgres:s3cret@127.0.0.1:1/groupcast")
    proc = Process(["migrate"], env, tmp_path)
    try:
        code = proc.wait(30)
        err = proc.stderr().strip()
    finally:
        proc.close()
    print(f"\nFAULT no-database: exit {code}: {err}")
    assert code != 0
    assert len(err.splitlines()) == 1, err
    assert "DATABASE_URL" in err and "Traceback" not in err
    assert "s3cret" not in err
