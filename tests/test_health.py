"""/healthz, /readyz and /metrics on a real aiohttp server: counters after an ask, 503 while Redis is cut."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlparse

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bots.health import Health
from bots.shell.testing import Workspace
from core.presence.redis_store import RedisPresenceStore
from tests.conftest import REDIS, _redis_ready


class Cable:
    """A TCP proxy in front of a service that a test can cut and mend."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def mend(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.links):
            w.close()
        await self.server.wait_closed()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection(*self.target)
        self.links |= {writer, up_w}

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


async def test_metrics_count_asks_deliveries_and_presence(workspace: Workspace) -> None:
    health = Health(workspace.engine, workspace.settings.database_url)
    health.instrument()
    await workspace.run("/ask-available frontend --all anyone?", ":presence bob busy")
    app = web.Application()
    health.routes(app)
    async with TestClient(TestServer(app)) as http:
        assert (await http.get("/healthz")).status == 200
        text = await (await http.get("/metrics")).text()
    assert 'groupcast_asks{mode="available"} 1.0' in text
    assert 'groupcast_deliveries{state="sent"} 2.0' in text
    assert "groupcast_send_seconds_count" in text
    assert "groupcast_presence_changes_total" in text
    assert "groupcast_outbox_depth" in text


async def test_readyz_answers_503_while_redis_is_cut_and_200_after(db: str) -> None:
    if why := await _redis_ready():
        pytest.skip(f"Redis is not reachable: {why}")
    url = urlparse(REDIS)
    cable = Cable(url.hostname or "127.0.0.1", url.port or 6379)
    await cable.mend()
    store = RedisPresenceStore(f"redis://127.0.0.1:{cable.port}{url.path}", namespace="health:")
    ws = await Workspace(store=store).start()
    app = web.Application()
    Health(ws.engine, db).routes(app)
    try:
        async with TestClient(TestServer(app)) as http:
            first = await http.get("/readyz")
            assert first.status == 200, await first.text()
            await cable.cut()
            cut = await http.get("/readyz")
            assert cut.status == 503
            assert any(p.startswith("redis:") for p in (await cut.json())["problems"])
            await cable.mend()
            assert (await http.get("/readyz")).status == 200
    finally:
        await store.close()
        await cable.cut()
