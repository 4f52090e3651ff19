"""Counting at the wire, so figures hold for bots in other processes and on a shared server.

`Tap` is a TCP proxy on 127.0.0.1 that counts the requests clients send through it: SQL
statements for PostgreSQL (each simple Query or extended-protocol Execute message, BEGIN and
COMMIT included, and asyncpg's connection reset counted apart) and commands for Redis (each
RESP array). Redis's own INFO commandstats counts
every client of the server, other benchmarks' and test runs' included; this counts only ours.
`cpu_seconds` and `rss` read another process's usage from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

Feed = Callable[[bytes], None]

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104
PG_STATEMENTS = frozenset(b"QE")  # Query (simple protocol), Execute (extended)
PG_RESET = b"SELECT pg_advisory_unlock_all()"  # how asyncpg's Connection.reset() begins


class Tap:
    """Forwards a local port to a service and counts what clients send (`count`)."""

    def __init__(self, url: str, counter: Callable[[Tap], Feed]) -> None:
        parts = urlsplit(url)
        self.url = url
        self.target = (parts.hostname or "127.0.0.1", parts.port or 0)
        self.counter = counter
        self.count = 0
        self.resets = 0  # of `count`: asyncpg's reset of a connection going back to its pool
        self.log: list[str] | None = (
            None  # set to a list to keep each statement's text (PostgreSQL)
        )
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def postgres(cls, url: str) -> Tap:
        return cls(url, _pg_feed)

    @classmethod
    def redis(cls, url: str) -> Tap:
        return cls(url, _redis_feed)

    @property
    def proxied(self) -> str:
        """The service's URL with this tap's port in place of the service's."""
        parts = urlsplit(self.url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return urlunsplit(
            parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host)
        )

    async def start(self) -> Tap:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        for src, dst, feed in (
            (reader, up_writer, self.counter(self)),
            (up_reader, writer, None),
        ):
            task = asyncio.create_task(_pipe(src, dst, feed))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, feed: Feed | None) -> None:
    try:
        while data := await src.read(65536):
            if feed is not None:
                feed(data)
            dst.write(data)
            await dst.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            dst.close()


def _pg_feed(tap: Tap) -> Feed:
    """PostgreSQL's frontend stream: untyped start-up messages, then type byte + length."""
    buf = bytearray()
    started = False
    named: dict[bytes, str] = {}  # prepared statement → its text, for `log`
    bound = b""

    def feed(data: bytes) -> None:
        nonlocal started, bound
        buf.extend(data)
        at = 0
        while True:
            if not started:
                if len(buf) - at < 8:
                    break
                length = int.from_bytes(buf[at : at + 4], "big")
                if len(buf) - at < length:
                    break
                code = int.from_bytes(buf[at + 4 : at + 8], "big")
                started = code not in (SSL_REQUEST, GSSENC_REQUEST)
                at += length
            else:
                if len(buf) - at < 5:
                    break
                length = int.from_bytes(buf[at + 1 : at + 5], "big")
                if len(buf) - at < 1 + length:
                    break
                kind = buf[at]
                if kind in PG_STATEMENTS:
                    tap.count += 1
                    if kind == ord("Q") and buf.startswith(PG_RESET, at + 5):
                        tap.resets += 1
                if kind == ord("P"):  # always: a statement is prepared once, used later
                    name, query = bytes(buf[at + 5 : at + 1 + length]).split(b"\0")[:2]
                    named[name] = query.decode(errors="replace")
                elif tap.log is not None:
                    body = bytes(buf[at + 5 : at + 1 + length])
                    if kind == ord("B"):
                        bound = body.split(b"\0", 2)[1]
                    elif kind == ord("E"):
                        tap.log.append(named.get(bound, "?"))
                    elif kind == ord("Q"):
                        tap.log.append(body.rstrip(b"\0").decode(errors="replace"))
                at += 1 + length
        del buf[:at]

    return feed


def _redis_feed(tap: Tap) -> Feed:
    """RESP from a client: each command is an array of bulk strings (`*n`, then `$len` + data)."""
    buf = bytearray()
    elements = 0  # bulk strings still to read in the current command
    skip = 0  # bytes of the current bulk string (and its CRLF) still to pass over

    def feed(data: bytes) -> None:
        nonlocal elements, skip
        buf.extend(data)
        at = 0
        while at < len(buf):
            if skip:
                step = min(skip, len(buf) - at)
                skip -= step
                at += step
                continue
            end = buf.find(b"\r\n", at)
            if end < 0:
                break
            line = bytes(buf[at:end])
            at = end + 2
            if elements:
                elements -= 1
                skip = int(line[1:]) + 2 if line[:1] == b"$" else 0
            elif line[:1] == b"*":
                tap.count += 1
                elements = int(line[1:])
            elif line.strip():
                tap.count += 1  # an inline command
        del buf[:at]

    return feed


TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss(pid: int) -> int:
    """A process's resident set size in bytes."""
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * PAGE
