"""The one rate limiter: token buckets, Retry-After holds, and shapes learned from headers."""

from __future__ import annotations

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
