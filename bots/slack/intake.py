"""The ack path does only the ack: a slash command is verified and answered 200 at once, and
its work runs on a few workers behind a bounded queue, so a burst never delays the acks.

Everything else (events, buttons, views, whose ack may carry an answer) goes through bolt as
before. The workers dispatch through a bolt app that processes before it responds, so a
worker is busy for exactly as long as its command's work takes. With OAuth installs the
intake reads the command's workspace, queues it only if that workspace is installed (bolt
answers the others with its reinstall line), and the worker serves it in that workspace's
scope, so every call it makes goes out with that workspace's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bots.slack.workspaces import team_scope

log = logging.getLogger(__name__)

WORKERS = 32
"""Commands worked on at once; the rest wait in the queue (their acks are already sent). A
worker mostly waits on paced replies (chat.postEphemeral is about one a second per channel), so
a few workers would hold a burst's requests back from being recorded (4 took 108 s for 200)."""
QUEUE = 10_000
"""Commands waiting at most; past that a command is worked on before its ack (back-pressure)."""

Installed = Callable[[str], Awaitable[bool]]
Queued = tuple[str, AsyncBoltRequest]  # the workspace, and the verified request


class CommandIntake:
    """Verified slash commands onto a queue; `start()` runs the workers that drain it."""

    def __init__(
        self,
        app: AsyncApp,
        worker: AsyncApp,
        signing_secret: str,
        *,
        installed: Installed | None = None,
    ) -> None:
        self.app = app  # the ack path for everything that is not a slash command
        self.worker = worker  # process_before_response=True: dispatch returns when work is done
        self.verifier = SignatureVerifier(signing_secret)
        self.installed = installed  # OAuth installs: is this workspace installed? (None: one token)
        self.queue: asyncio.Queue[Queued] = asyncio.Queue(QUEUE)
        self._workers: list[asyncio.Task[None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        form = (
            parse_qs(body) if body.startswith(("command=", "token=")) or "&command=" in body else {}
        )
        if not form.get("command") or "payload" in form or not self._signed(request, body):
            return await self._through_bolt(request)
        team = form.get("team_id", [""])[0]
        if self.installed is not None and not await self.installed(team):
            return await self._through_bolt(request)  # bolt's answer: install the app first
        bolt = AsyncBoltRequest(body=body, headers=dict(request.headers.items()))
        try:
            self.queue.put_nowait((team, bolt))
        except asyncio.QueueFull:
            await self._serve(team, bolt)
        return web.Response(status=200, text="")

    async def _through_bolt(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await self.app.async_dispatch(await to_bolt_request(request))
        )

    async def _serve(self, team: str, bolt: AsyncBoltRequest) -> None:
        """One command's work, its Web API calls made with its own workspace's token."""
        with team_scope(team):
            await self.worker.async_dispatch(bolt)

    def _signed(self, request: web.Request, body: str) -> bool:
        return self.verifier.is_valid(
            body,
            request.headers.get("X-Slack-Request-Timestamp", ""),
            request.headers.get("X-Slack-Signature", ""),
        )

    def start(self, workers: int = WORKERS) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def _work(self) -> None:
        while True:
            team, bolt = await self.queue.get()
            try:
                await self._serve(team, bolt)
            except Exception:
                log.exception("slash command failed after its ack")
            finally:
                self.queue.task_done()

    async def join(self) -> None:
        """Wait until every queued command has been worked on."""
        await self.queue.join()

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
