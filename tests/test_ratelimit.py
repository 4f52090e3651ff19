"""The one rate limiter: token buckets, Retry-After holds, and shapes learned from headers."""

from __future__ import annotations

import asyncio

from core.ratelimit import Bucket, Limiter, Pacer, retry_after, shape


class VirtualTime:
    """A monotonic clock that sleeping advances."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.t += seconds


async def test_calls_go_at_once_up_to_the_burst_then_one_per_interval() -> None:
    vt = VirtualTime()
    pacer = Pacer(2.0, 3, clock=vt.now, sleep=vt.sleep)
    for _ in range(5):
        await pacer.wait()
    assert vt.slept == [0.5, 0.5]


async def test_a_429_holds_everyone_and_gives_the_refused_slot_back() -> None:
    vt = VirtualTime()
    limiter = Limiter({"post": (10.0, 1.0)}, monotonic=vt.now, sleep=vt.sleep)
    bucket = limiter.bucket("post")
    assert bucket is not None
    await limiter.acquire([bucket])  # at 0
    limiter.hold("post", 0.03, refund=True)  # refused: its token was never used there
    await limiter.acquire([bucket])
    assert vt.t == 0.03, "the retry goes when the limiter said, not a whole interval later"
    await limiter.acquire([bucket])
    assert round(vt.t, 6) == 0.13


async def test_the_shape_in_the_headers_replaces_the_configured_guess() -> None:
    vt = VirtualTime()
    limiter = Limiter({"post": (5.0, 10.0)}, monotonic=vt.now, sleep=vt.sleep)
    limiter.learn(
        "post",
        {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset-After": "0.04"},
    )
    bucket = limiter.bucket("post")
    assert bucket is not None and bucket.learned
    assert (bucket.rate, bucket.burst) == (25.0, 2.0)
    limiter.learn("other", {"Retry-After": "1"})
    assert limiter.bucket("other") is None, "no shape without all three headers"


def test_retry_after_prefers_the_precise_reset_and_falls_back_to_whole_seconds() -> None:
    precise = {
        "x-ratelimit-limit": "1",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": "0.012",
        "Retry-After": "1",
    }
    assert retry_after(precise) == 0.012
    early = {**precise, "x-ratelimit-remaining": "0.75", "x-ratelimit-reset-after": "0.01"}
    assert retry_after(early) == 0.01, "with no burst, the next call needs all of the reset"
    burst = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "1"}
    assert retry_after(burst) == 0.2, "with a burst of 5, one call needs a fifth of the refill"
    assert retry_after({"Retry-After": ["3"]}) == 3.0
    assert retry_after({"Retry-After": "soon"}) == 1.0
    assert shape({"X-RateLimit-Limit": "x"}) is None


def test_a_budget_can_be_spent_into_debt_and_refills_with_time() -> None:
    budget = Bucket(1.0, 60.0, full_at=100.0)
    assert budget.available(100.0) == 60.0
    for _ in range(61):
        budget.spend(1, 100.0)
    assert budget.available(100.0) == -1.0
    assert budget.available(130.0) == 29.0
    assert budget.available(1_000.0) == 60.0


async def test_a_refused_call_goes_again_at_the_reset_ahead_of_those_already_waiting() -> None:
    vt = VirtualTime()
    limiter = Limiter({"post": (10.0, 1.0)}, monotonic=vt.now, sleep=vt.sleep)
    bucket = limiter.bucket("post")
    assert bucket is not None
    await limiter.acquire([bucket])  # the first call goes at 0 ...
    waiting = [bucket.slot(vt.t)]  # ... a second has its slot at 0.1 already
    bucket.take(waiting[0])
    limiter.hold("post", 0.003, refund=True)  # the first was refused, 3 ms early
    await limiter.acquire([bucket], again=True)
    assert vt.t == 0.003, "the retry goes at the reset, not after the one already waiting"
    vt.t = waiting[0]  # the second wakes at its slot ...
    while (ready := bucket.ready(vt.t)) > vt.t:
        await vt.sleep(ready - vt.t)
    assert round(vt.t, 6) == 0.103, "... and waits until a whole interval after the retry"


async def test_a_call_behind_one_that_went_late_keeps_the_interval() -> None:
    """Slots are handed out ahead; a platform with no burst sees only when calls went."""
    vt = VirtualTime()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        late = 0.0 if sleeps else 0.03  # the first sleeper wakes 30 ms late (a busy loop)
        sleeps.append(seconds)
        target = vt.t + seconds + late
        await asyncio.sleep(0)  # the others take their slots meanwhile
        vt.t = max(vt.t, target)

    limiter = Limiter({"post": (10.0, 1.0)}, monotonic=vt.now, sleep=sleep)
    bucket = limiter.bucket("post")
    assert bucket is not None
    went: list[float] = []

    async def call() -> None:
        await limiter.acquire([bucket])
        went.append(round(vt.t, 6))

    await call()
    await asyncio.gather(call(), call())  # their slots: 0.1 and 0.2
    assert went == [0.0, 0.13, 0.23], "the third waits out the second's lateness"


async def test_the_first_shape_learned_replaces_the_guessed_interval() -> None:
    vt = VirtualTime()
    limiter = Limiter({"post": (5.0, 10.0)}, monotonic=vt.now, sleep=vt.sleep)
    bucket = limiter.bucket("post")
    assert bucket is not None
    await limiter.acquire([bucket])  # under the guess: the next would wait 0.2 s to refill
    headers = {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}
    limiter.learn("post", {**headers, "X-RateLimit-Reset-After": "0.04"})
    await limiter.acquire([bucket])
    assert vt.t == 0.04, "the limiter said when it is full again; the guess's count is gone"


async def test_a_call_that_must_not_wait_is_taken_only_when_its_turn_is_now() -> None:
    vt = VirtualTime()
    limiter = Limiter({"probe": (1.0, 2.0)}, monotonic=vt.now, sleep=vt.sleep)
    bucket = limiter.bucket("probe")
    assert bucket is not None
    assert limiter.take_now([bucket]) and limiter.take_now([bucket])
    assert not limiter.take_now([bucket]), "the burst is spent: it would have to wait"
    limiter.hold("probe", 5.0)
    vt.t = 2.0
    assert not limiter.take_now([bucket]), "held after a 429"
    vt.t = 5.0
    assert limiter.take_now([bucket]) and vt.slept == []
