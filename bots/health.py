"""/healthz (alive), /readyz (database, Redis, platform auth) and /metrics, for every process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from core import metrics
from core.engine import Engine
from core.store.db import ping

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0


class Health:
    """What a load balancer or an orchestrator asks of a running process."""

    def __init__(
        self, engine: Engine, database_url: str, platform: Callable[[], str | None] = lambda: None
    ) -> None:
        self.engine = engine
        self.database_url = database_url
        self.platform = platform  # why the platform connection is not ready, or None

    def instrument(self) -> None:
        """Count presence changes and time every DM the platform takes."""
        self.engine.monitor.on_change(lambda _change: metrics.PRESENCE_EVENTS.inc())
        platform = self.engine.platform
        platform.send_direct = metrics.timed(platform.send_direct)  # type: ignore[method-assign,assignment]

    async def problems(self) -> list[str]:
        """Each dependency that is not answering, in one phrase; empty when ready."""
        out: list[str] = []
        try:
            await asyncio.wait_for(ping(self.database_url), CHECK_TIMEOUT)
        except Exception as exc:
            out.append(f"database: {type(exc).__name__}: {exc}"[:200])
        store = self.engine.monitor.store
        if hasattr(store, "ping"):
            try:
                await asyncio.wait_for(_twice(store.ping), CHECK_TIMEOUT)
            except Exception as exc:
                out.append(f"redis: {type(exc).__name__}: {exc}"[:200])
        if (problem := self.platform()) is not None:
            out.append(problem)
        return out

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        return web.json_response(
            {"ok": not problems, "problems": problems}, status=503 if problems else 200
        )

    async def metrics(self, request: web.Request) -> web.Response:
        body = await metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


async def _twice(call: Callable[[], Awaitable[None]]) -> None:
    """A pooled connection that died while the service was away fails once; ask again."""
    try:
        await call()
    except Exception:
        await call()


async def serve(health: Health, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """A small server of its own (Socket Mode, Discord) on HEALTH_PORT; the caller cleans it up."""
    app = web.Application()
    health.routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on :%s (/healthz, /readyz, /metrics)", port)
    return runner
