"""What is outside our process in production stays outside it in the benchmarks: Slack's Web
API (the stand-in) and Slack's HTTP client each run in a process of their own.

In a thread of ours they would share our GIL: the stand-in's limiter would timestamp calls
late whenever our loop held the interpreter (refusing the next call as early), and a client
thread's work would be timed as our acknowledgement latency.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import re
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

from tests.standins.slack_api import SlackStandin

# ----------------------------------------------------------------------------- the stand-in


def _add_users(slack: SlackStandin, users: list[tuple[str, str]]) -> None:
    for uid, name in users:
        slack.add_user(uid, name, tz="UTC")


def _clear(slack: SlackStandin) -> None:
    slack.calls.clear()
    slack.ephemeral.clear()


def _posts(slack: SlackStandin) -> list[tuple[float, int, str, str]]:
    """chat.postMessage calls as (wall time, status, the user whose DM it was or the channel,
    text), in arrival order."""
    return [
        (
            c.at,
            c.status,
            slack.channels.get(str(c.args.get("channel")), ""),
            str(c.args.get("text")),
        )
        for c in slack.calls_to("chat.postMessage")
    ]


def _delivered(slack: SlackStandin) -> dict[str, int]:
    """Messages the stand-in stored, per DM partner (or channel)."""
    return dict(Counter(slack.channels.get(ch, "") for (ch, _ts) in list(slack.messages)))


def _first_posts(slack: SlackStandin, pattern: str) -> dict[str, float]:
    """The wall time of the first stored chat.postMessage whose arguments match each distinct
    match of `pattern` (a marker an ask's text carries into its DM)."""
    found = re.compile(pattern)
    first: dict[str, float] = {}
    for call in slack.calls_to("chat.postMessage"):
        if call.status == 200 and (m := found.search(str(call.args))):
            first.setdefault(m.group(0), call.at)
    return first


def _refusals(slack: SlackStandin, method: str) -> tuple[int, int]:
    return slack.rate_limited[method], slack.max_rate_limited_streak[method]


OPS: dict[str, Callable[..., Any]] = {
    "add_users": _add_users,
    "add_channel": SlackStandin.add_channel,
    "limit": lambda slack, method, rate, burst: slack.limit(method, rate, burst=burst),
    "clear": _clear,
    "messages": lambda slack: len(slack.messages),
    "posts": _posts,
    "delivered": _delivered,
    "refusals": _refusals,
    "first_posts": _first_posts,
    "calls": lambda slack, method: len(slack.calls_to(method)),
}


async def _serve(conn: Connection) -> None:
    slack = SlackStandin()
    await slack.start()
    conn.send(slack.url)
    stopped = asyncio.Event()

    def readable() -> None:
        while conn.poll():
            op, args = conn.recv()
            if op == "stop":
                stopped.set()
                return
            try:
                conn.send((True, OPS[op](slack, *args)))
            except Exception as exc:  # handed back and raised in the benchmark's process
                conn.send((False, f"{type(exc).__name__}: {exc}"))

    asyncio.get_running_loop().add_reader(conn.fileno(), readable)
    await stopped.wait()
    await slack.close()
    conn.send((True, None))


def _standin_main(conn: Connection) -> None:
    # Slack's limiter does not pause for our stand-in's garbage collection: a gen-2 pass over
    # the calls it keeps (~100 ms late in a run) would hold replies back and then let calls
    # through bunched, refused as early. A run lives a minute; its garbage can wait.
    gc.disable()
    asyncio.run(_serve(conn))


class RemoteSlack:
    """A SlackStandin in its own process, set up and read through a pipe (`do`)."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.get_context("spawn").Pipe()
        self._child = child
        self._process = multiprocessing.get_context("spawn").Process(
            target=_standin_main, args=(child,), name="slack-standin", daemon=True
        )
        self._lock = asyncio.Lock()
        self.url = ""

    async def __aenter__(self) -> Self:
        self._process.start()
        self.url = await asyncio.to_thread(self._conn.recv)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with self._lock:
            self._conn.send(("stop", ()))
            await asyncio.to_thread(self._conn.recv)
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()

    async def do(self, op: str, *args: Any) -> Any:
        """Run one of `OPS` in the stand-in's process and return its (picklable) result.

        The answer is awaited on the loop, not on a thread: a thread taking the GIL back while
        paced calls are due would delay them by up to the 5 ms switch interval."""
        async with self._lock:
            self._conn.send((op, args))
            loop = asyncio.get_running_loop()
            readable: asyncio.Future[None] = loop.create_future()
            fd = self._conn.fileno()
            loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
            try:
                await readable
            finally:
                loop.remove_reader(fd)
            ok, got = self._conn.recv()
        if not ok:
            raise RuntimeError(f"stand-in {op}: {got}")
        return got


# ----------------------------------------------------------------------------- the client


def http_request(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 POST as bytes, built before the clock starts."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _burst(port: int, requests: list[bytes]) -> list[tuple[int, float, float]]:
    """Connect once per request (Slack keeps connections open), then send every request at
    once; (status, seconds to the full response, wall time sent) for each."""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]
    sent: list[tuple[float, float]] = []
    for (_, writer), raw in zip(conns, requests, strict=True):
        sent.append((time.perf_counter(), time.time()))
        writer.write(raw)  # a fresh socket's send buffer takes it whole, at once

    async def one(i: int) -> tuple[int, float, float]:
        status = await _response(conns[i][0])
        return status, time.perf_counter() - sent[i][0], sent[i][1]

    got = await asyncio.gather(*(one(i) for i in range(len(requests))))
    for _, writer in conns:
        writer.close()
    return list(got)


def burst(port: int, requests: list[bytes]) -> list[tuple[int, float, float]]:
    """Entry point of the client's process."""
    return asyncio.run(_burst(port, requests))


class Client:
    """Slack's side of the HTTP conversation, in its own process."""

    def __init__(self) -> None:
        self._pool = multiprocessing.get_context("spawn").Pool(1)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool.close()
        self._pool.join()

    async def burst(self, port: int, requests: list[bytes]) -> list[tuple[int, float, float]]:
        """All `requests` at once from the client's process; waits without blocking our loop."""
        pending = self._pool.apply_async(burst, (port, requests))
        got: list[tuple[int, float, float]] = await asyncio.to_thread(pending.get, 120)
        return got
