"""The ack path does only the ack: a slash command is verified and answered 200 at once, and
its work runs on a few workers behind a bounded queue, so a burst never delays the acks.

Measured under a burst of 200 (bench/ack.py), what delayed acks was not the ack itself but
what shared its loop: bolt parsing the form twice per request, and workers starting the
commands already acknowledged between one ack and the next. So the ack reads no form (a look
at the field names is enough to know a command), the form is parsed on the worker, and a
worker starts a new command only once the web loop has had no request for `QUIET` seconds,
never holding one back longer than `MAX_DEFER`.

Everything else (events, buttons, views, whose ack may carry an answer) goes through bolt as
before. The workers dispatch through a bolt app that processes before it responds, and a
worker is busy for as long as its command's own work takes: the listener says when that is
done (`WORKED`), and its reply, which may wait seconds for its turn under chat.postEphemeral's
limit, goes on without holding the worker. With OAuth installs the intake reads the
command's workspace (one field, by pattern), queues it only if that workspace is installed
(bolt answers the others with its reinstall line), and the worker serves it in that
workspace's scope, so every call it makes goes out with that workspace's token.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bots.slack.bot import WORKED
from bots.slack.workspaces import team_scope
from core.ratelimit import Monotonic, Sleep

log = logging.getLogger(__name__)

WORKERS = 32
"""Commands worked on at once; the rest wait in the queue (their acks are already sent)."""
QUEUE = 10_000
"""Commands waiting at most; past that a command is worked on before its ack (back-pressure)."""
QUIET = 0.005
"""A worker starts a new command once no request has reached the web loop for this long."""
MAX_DEFER = 0.25
"""…but never holds a queued command back longer than this, however busy the loop stays."""

FORM = "application/x-www-form-urlencoded"
# In a form body `&` and `=` inside values are percent-encoded, so these match field names only.
_COMMAND = re.compile(r"(?:^|&)command=(?:%2F|/)", re.IGNORECASE)
_PAYLOAD = re.compile(r"(?:^|&)payload=")
_TEAM = re.compile(r"(?:^|&)team_id=([^&]*)")

Installed = Callable[[str], Awaitable[bool]]


def is_slash_command(content_type: str, body: str) -> bool:
    """A slash command's form (not an interactivity payload, not a JSON event), unparsed."""
    return content_type == FORM and _COMMAND.search(body) is not None and not _PAYLOAD.search(body)


@dataclass(frozen=True, slots=True)
class Queued:
    """A verified command as it arrived; bolt parses it on the worker, not on the ack path."""

    body: str
    headers: dict[str, str | Sequence[str]]
    at: float
    team: str = ""  # the workspace whose token its calls carry (OAuth installs)


class CommandIntake:
    """Verified slash commands onto a queue; `start()` runs the workers that drain it."""

    def __init__(
        self,
        app: AsyncApp,
        worker: AsyncApp,
        signing_secret: str,
        *,
        installed: Installed | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.app = app  # the ack path for everything that is not a slash command
        self.worker = worker  # process_before_response=True: dispatch returns when work is done
        self.verifier = SignatureVerifier(signing_secret)
        self.installed = installed  # OAuth installs: is this workspace installed? (None: one token)
        self.queue: asyncio.Queue[Queued] = asyncio.Queue(QUEUE)
        self.monotonic = monotonic
        self.sleep = sleep
        self.last_request = float("-inf")  # when a request last reached the web loop
        self._workers: list[asyncio.Task[None]] = []
        self._replying: set[asyncio.Task[None]] = set()  # worked on; their replies still pacing

    async def handle(self, request: web.Request) -> web.Response:
        self.last_request = self.monotonic()
        body = await request.text()
        if not is_slash_command(request.content_type, body) or not self._signed(request, body):
            return await self._through_bolt(request)
        found = _TEAM.search(body)
        team = unquote_plus(found.group(1)) if found else ""
        if self.installed is not None and not await self.installed(team):
            return await self._through_bolt(request)  # bolt's answer: install the app first
        headers: dict[str, str | Sequence[str]] = dict(request.headers.items())
        queued = Queued(body, headers, self.last_request, team)
        try:
            self.queue.put_nowait(queued)
        except asyncio.QueueFull:
            await self._dispatch(queued)
        self.last_request = self.monotonic()
        return web.Response(status=200, text="")

    async def _through_bolt(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await self.app.async_dispatch(await to_bolt_request(request))
        )

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
            queued = await self.queue.get()
            try:
                await self._quiet(queued.at)
                worked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                task = asyncio.ensure_future(self._dispatch(queued, worked))
                self._replying.add(task)
                task.add_done_callback(self._finished)
                await asyncio.wait((worked, task), return_when=asyncio.FIRST_COMPLETED)
            finally:
                self.queue.task_done()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._replying.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slash command failed after its ack", exc_info=task.exception())

    async def _quiet(self, since: float) -> None:
        """Wait while requests are still arriving (acks first), at most MAX_DEFER from `since`."""
        while True:
            wait = min(self.last_request + QUIET, since + MAX_DEFER) - self.monotonic()
            if wait < 1e-6:  # (not <= 0: float sums like 1000.0 + 0.005 fall a hair short)
                return
            await self.sleep(wait)

    async def _dispatch(self, queued: Queued, worked: asyncio.Future[None] | None = None) -> None:
        context = {WORKED: worked} if worked is not None else None
        request = AsyncBoltRequest(body=queued.body, headers=queued.headers, context=context)
        with team_scope(queued.team):  # its Web API calls carry its own workspace's token
            await self.worker.async_dispatch(request)

    async def join(self) -> None:
        """Wait until every queued command has been worked on and answered."""
        await self.queue.join()
        while self._replying:
            await asyncio.wait(list(self._replying))

    async def stop(self) -> None:
        tasks = [*self._workers, *self._replying]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers = []
