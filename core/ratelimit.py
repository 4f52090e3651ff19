"""One rate limiter for every platform call we pace: token buckets, Retry-After holds, and the
limiter's real shape learned from the rate-limit headers a platform sends.

A bucket is kept as one number (GCRA's "theoretical arrival time"): a call may go at
`max(now, tat - burst/rate + 1/rate)`, and taking it moves `tat` on by `1/rate`. That is a
token bucket with FIFO reservations (waiters never stampede), a debt (a budget spent into the
negative), a hold (nobody goes before Retry-After) and a refund (a refused call's slot
goes back) in a few lines. Time and sleeping are injected so tests need no real waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]

SPIN = 0.0015
"""The last stretch of a wait spent yielding to the loop instead of in a timer (see `punctual`)."""


async def punctual(seconds: float) -> None:
    """Sleep until just short of the moment, then yield to the loop until it comes.

    asyncio's timers wake up to a millisecond late (epoll's resolution, rounded up), a 2.5 %
    error at 25 calls a second: paced calls drift later by that much, and against a limiter
    with no burst a late call followed by a punctual one is refused. Yielding costs the loop
    nothing it needs (other work runs in between) and ends within microseconds of the moment.
    """
    deadline = time.monotonic() + seconds
    if seconds > SPIN:
        await asyncio.sleep(seconds - SPIN)
    while time.monotonic() < deadline:  # noqa: ASYNC110 - a moment, not an event, is awaited
        await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Shape:
    """What a platform's rate-limit headers say about the limiter that answered."""

    limit: float  # the burst: calls the bucket holds when full
    remaining: float  # calls left now
    reset_after: float  # seconds until the bucket is full again


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header by case-insensitive name (slack_sdk gives lists, aiohttp/discord.py strings)."""
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def retry_after(headers: Mapping[str, Any], default: float = 1.0) -> float:
    """Seconds to hold after a 429: the precise reset when the limiter sent one, else Retry-After."""
    precise = _number(_header(headers, "x-ratelimit-reset-after"))
    remaining = _number(_header(headers, "x-ratelimit-remaining"))
    if precise is not None and remaining is not None and remaining < 1:
        limit = max(1.0, _number(_header(headers, "x-ratelimit-limit")) or 1.0)
        # reset-after is time to *full* (limit - remaining calls away); one call needs only its
        # share of it: with no burst (limit 1) that is all of it
        return max(0.0, precise * (1 - remaining) / (limit - remaining))
    got = _number(_header(headers, "retry-after"))
    return default if got is None or got < 0 else got


def shape(headers: Mapping[str, Any]) -> Shape | None:
    """The limiter's shape from X-RateLimit-Limit / -Remaining / -Reset-After, if all are sent."""
    limit = _number(_header(headers, "x-ratelimit-limit"))
    remaining = _number(_header(headers, "x-ratelimit-remaining"))
    reset = _number(_header(headers, "x-ratelimit-reset-after"))
    if limit is None or remaining is None or reset is None or limit < 1:
        return None
    return Shape(limit, max(0.0, remaining), max(0.0, reset))


class Bucket:
    """A token bucket of `burst` calls refilling at `rate` a second (GCRA form).

    Two clocks of it are kept: `tat` over the slots handed out (a waiter sleeps until its
    slot) and `sent` over the calls that actually went. They differ when a waiter wakes late
    or a refused call goes again: the platform's limiter sees only what went, so a waiter that
    wakes on time behind one that went late waits the difference (`ready`), and a refused call
    may go again as soon as the platform's reset allows, ahead of the line.
    """

    __slots__ = ("burst", "held_until", "learned", "rate", "sent", "tat")

    def __init__(self, rate: float, burst: float = 1.0, *, full_at: float = 0.0) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.tat = full_at  # the bucket is full from this moment on
        self.sent = full_at  # likewise, counting only the calls that went
        self.held_until = 0.0
        self.learned = False

    def available(self, now: float) -> float:
        """Calls that may go now (negative while a spent-ahead budget is paid back); rounded, so
        one spent of 50 leaves 49, not the 48.99999996 that epoch-sized floats give and a caller
        would truncate to 48."""
        return min(self.burst, round((now - self.tat) * self.rate + self.burst, 4))

    def spend(self, n: float, now: float) -> None:
        """Take `n` calls now, into debt if need be (the caller decided they must go)."""
        self.tat = max(self.tat, now) + n / self.rate

    def slot(self, now: float) -> float:
        """When the next call may go; nothing is taken."""
        return max(now, self.tat - self.burst / self.rate + 1 / self.rate, self.held_until)

    def take(self, at: float) -> None:
        """Reserve the slot at `at` (from `slot`)."""
        self.tat = max(self.tat, at) + 1 / self.rate

    def late(self, woke: float) -> None:
        """A slot used late (slow wake-up): the call happened at `woke`, so count it from there."""
        self.tat = max(self.tat, woke + 1 / self.rate)

    def ready(self, now: float) -> float:
        """When the next call may go, by the calls that actually went (and any hold)."""
        return max(now, self.sent - self.burst / self.rate + 1 / self.rate, self.held_until)

    def went(self, at: float) -> None:
        """A call went at `at`."""
        self.sent = max(self.sent, at) + 1 / self.rate

    def refund(self, now: float) -> None:
        """The platform refused the call: it did not use up a token there. Its slot goes back
        only if no later call holds a slot already: given back under those, it would be
        handed out again at the end of the line, where a later call already waits to go."""
        self.sent -= 1 / self.rate
        if self.tat - now <= 1 / self.rate + 1e-9:
            self.tat -= 1 / self.rate

    def hold(self, until: float) -> None:
        """Nobody goes before `until` (a 429's reset)."""
        self.held_until = max(self.held_until, until)

    def learn(self, got: Shape, now: float, margin: float = 0.0) -> None:
        """Adopt the limiter's own burst and refill (`margin` under it: a call's trip varies by
        a few ms); the first time, also start from what it has left.

        Only the first answer resets the count: later ones are read a reply's trip after the
        limiter wrote them, and waiting from there (measured: 1 ms a call on this machine,
        more under load) costs more than the rare early call it would spare (a precise hold
        and one retry, ahead of the line)."""
        missing = got.limit - got.remaining
        if missing <= 0 or got.reset_after <= 0:
            return
        if not self.learned:  # the limiter is full at now + reset_after: start from its count,
            # not the guess's (one call under a guessed 5/s would hold the next for 0.2 s)
            self.tat = self.sent = now + got.reset_after
        self.rate = missing / got.reset_after * (1 - margin)
        self.burst = got.limit
        self.learned = True


class Limiter:
    """Named buckets (per method, per channel) that calls wait in, in FIFO order."""

    def __init__(
        self,
        rates: Mapping[str, tuple[float, float]] | None = None,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = punctual,
        margin: float = 0.0,
        max_keys: int = 10_000,
    ) -> None:
        self.rates = dict(rates or {})
        self.monotonic = monotonic
        self.sleep = sleep
        self.margin = margin  # pace this much under a configured (guessed) rate
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}

    def bucket(self, key: str, default: tuple[float, float] | None = None) -> Bucket | None:
        """The key's bucket, made from its configured (or the given) rate on first use."""
        got = self._buckets.get(key)
        if got is None:
            rate_burst = self.rates.get(key, default)
            if rate_burst is None:
                return None
            if len(self._buckets) >= self.max_keys:  # idle buckets are full anyway
                self._buckets = {k: b for k, b in self._buckets.items() if k in self.rates}
            rate, burst = rate_burst
            got = self._buckets[key] = Bucket(rate * (1 - self.margin), burst)
        return got

    async def acquire(self, buckets: Iterable[Bucket], *, again: bool = False) -> None:
        """Wait for one call's turn in every one of `buckets` at once.

        `again`: a refused call going again, whose slot was taken already (its refusal
        `hold`s it back): it goes as soon as the platform allows, ahead of the line."""
        chosen = list(buckets)
        if not chosen:
            return
        now = self.monotonic()
        if not again:
            at = max(b.slot(now) for b in chosen)
            for b in chosen:
                b.take(at)
            if at > now:
                await self.sleep(at - now)
                now = self.monotonic()
                if now > at:
                    for b in chosen:
                        b.late(now)
        while (ready := max(b.ready(now) for b in chosen)) - now >= 1e-6:  # one ahead went late
            await self.sleep(ready - now)
            now = self.monotonic()
        for b in chosen:
            b.went(now)

    def take_now(self, buckets: Iterable[Bucket]) -> bool:
        """Take one call's turn in every one of `buckets` only if it is now (no waiting, no
        queueing behind others); False, and nothing taken, if the call would have to wait."""
        chosen = list(buckets)
        now = self.monotonic()
        if any(max(b.slot(now), b.ready(now)) > now for b in chosen):
            return False
        for b in chosen:
            b.take(now)
            b.went(now)
        return True

    def hold(self, key: str, seconds: float, *, refund: bool = False) -> None:
        """The platform said 429: nobody calls `key` again for `seconds`; with `refund`, the
        refused call's slot goes back (its retry takes the first slot after the hold)."""
        bucket = self.bucket(key, (1.0, 1.0))
        assert bucket is not None
        now = self.monotonic()
        if refund:
            bucket.refund(now)
        bucket.hold(now + max(0.0, seconds))

    def learn(self, key: str, headers: Mapping[str, Any]) -> None:
        """Pace `key` to the shape the platform's rate-limit headers describe, if it sent them."""
        got = shape(headers)
        if got is not None:
            bucket = self.bucket(key, (1.0, 1.0))
            assert bucket is not None
            bucket.learn(got, self.monotonic(), self.margin)


class Pacer:
    """One bucket behind `wait()`: at most `rate` calls a second after a burst of `burst`."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limiter = Limiter({"": (rate, burst)}, monotonic=clock, sleep=sleep)
        self._bucket = self.limiter.bucket("")
        assert self._bucket is not None
        self._bucket.tat = clock()

    async def wait(self) -> None:
        """Take one call's slot, sleeping until it comes."""
        assert self._bucket is not None
        await self.limiter.acquire((self._bucket,))
