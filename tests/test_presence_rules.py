"""Presence precedence: which signal wins, when it stops winning, and what the verdict says.

Pure tests of `decide` (one record, one instant) and of `PresenceMonitor` driven by a
`ManualClock`: no database, no network, no sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import msgpack
import pytest

from core.clock import ManualClock
from core.presence.availability import UNKNOWN_VERDICT, Availability, Verdict
from core.presence.monitor import Change, PresenceMonitor
from core.presence.record import INF, WIRE_VERSION, Policy, PresenceRecord, decide
from core.presence.signals import (
    DND,
    IDLE,
    OFFLINE,
    ONLINE,
    Activity,
    ClearHours,
    DoNotDisturb,
    Huddle,
    Native,
    Override,
    Status,
    WorkingHours,
)
from core.presence.store import MemoryPresenceStore

A = Availability
BERLIN = "Europe/Berlin"
MON_FRI = frozenset(range(5))
POLICY = Policy()
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


def local(tz: str, y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    """Epoch seconds of a wall-clock time in a zone."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz)).timestamp()


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    return local("UTC", y, mo, d, h, mi)


NOW = utc(2024, 1, 15, 10)  # Monday 10:00 UTC, 11:00 in Berlin: inside ordinary office hours
OFFICE = WorkingHours(9 * 60, 17 * 60 + 30, MON_FRI, BERLIN)  # 09:00-17:30 Mon-Fri Berlin


def record(
    *,
    native: str | None = None,
    native_at: float = NOW - MINUTE,
    ttl: float | None = None,
    active_at: float = 0.0,
    dnd: tuple[float | None, float] | None = None,
    huddle: bool = False,
    status: Status | None = None,
    override: Override | None = None,
    override_at: float = NOW - HOUR,
    hours: WorkingHours | None = None,
    seen_at: float = NOW - 90,
) -> PresenceRecord:
    """A hand-built record holding exactly the signals named."""
    rec = PresenceRecord()
    if native is not None:
        rec.native = native
        rec.native_at = native_at
        rec.native_until = INF if ttl is None else native_at + ttl
    rec.active_at = active_at
    if dnd or huddle or status or override or hours:
        e = rec.ensure_extras()
        if dnd is not None:
            e.dnd_start, e.dnd_end = dnd
        e.huddle = huddle
        e.status = status
        if override is not None:
            e.override, e.override_at = override, override_at
        e.hours = hours
        e.seen_at = seen_at
    return rec


def verdict(rec: PresenceRecord, now: float = NOW, policy: Policy = POLICY) -> Verdict:
    return decide(rec, now, policy)[0]


def everything_else_says_otherwise() -> dict[str, object]:
    """Every lower-precedence signal at once, each pointing somewhere else."""
    return {
        "native": ONLINE,
        "active_at": NOW - MINUTE,
        "dnd": (NOW - HOUR, NOW + HOUR),
        "huddle": True,
        "status": Status("On vacation", ":palm_tree:"),
        "hours": WorkingHours(0, 60, frozenset({6}), BERLIN),  # Sunday 00:00-01:00 only
    }


# -- precedence ---------------------------------------------------------------------------


class TestPrecedence:
    def test_manual_override_beats_every_other_signal(self) -> None:
        rec = record(override=Override(A.AVAILABLE, NOW + HOUR), **everything_else_says_otherwise())  # type: ignore[arg-type]
        v = verdict(rec)
        assert v.availability is A.AVAILABLE
        assert v.source == "manual"
        assert v.reason == "set by hand"
        assert v.until == NOW + HOUR

    def test_an_override_note_is_part_of_the_reason(self) -> None:
        v = verdict(record(native=ONLINE, override=Override(A.BUSY, None, "writing the report")))
        assert (v.availability, v.source) == (A.BUSY, "manual")
        assert "writing the report" in v.reason

    def test_an_override_without_end_holds_indefinitely(self) -> None:
        rec = record(native=ONLINE, override=Override(A.OFFLINE))
        v, holds_until = decide(rec, NOW + 365 * DAY, POLICY)
        assert v.availability is A.OFFLINE
        assert holds_until == INF

    def test_do_not_disturb_beats_away_status_hours_and_native(self) -> None:
        rec = record(
            native=ONLINE,
            active_at=NOW - MINUTE,
            dnd=(NOW - HOUR, NOW + HOUR),
            status=Status("On vacation"),
            hours=WorkingHours(0, 60, frozenset({6}), BERLIN),
        )
        v = verdict(rec)
        assert (v.availability, v.source, v.reason) == (A.BUSY, "dnd", "do-not-disturb")
        assert v.until == NOW + HOUR

    def test_huddle_beats_away_status_hours_and_native(self) -> None:
        rec = record(
            native=ONLINE,
            huddle=True,
            status=Status("Out of office"),
            hours=WorkingHours(0, 60, frozenset({6}), BERLIN),
        )
        v = verdict(rec)
        assert (v.availability, v.source, v.reason) == (A.BUSY, "huddle", "in a huddle")

    def test_away_status_beats_working_hours(self) -> None:
        rec = record(
            native=ONLINE, status=Status("Sick"), hours=WorkingHours(0, 60, frozenset({6}), BERLIN)
        )
        v = verdict(rec)
        assert (v.availability, v.source) == (A.OFFLINE, "status")

    def test_away_status_beats_native_online_and_fresh_activity(self) -> None:
        rec = record(
            native=ONLINE, active_at=NOW - 5, status=Status("OOO until Monday", ":airplane:")
        )
        v = verdict(rec)
        assert (v.availability, v.source) == (A.OFFLINE, "status")
        assert "OOO until Monday" in v.reason

    def test_outside_working_hours_beats_native_online_and_activity(self) -> None:
        rec = record(
            native=ONLINE, active_at=NOW - 5, hours=WorkingHours(0, 60, frozenset({6}), BERLIN)
        )
        v = verdict(rec)
        assert (v.availability, v.source) == (A.OFFLINE, "hours")
        assert v.reason.startswith("outside working hours")
        assert BERLIN in v.reason

    def test_inside_working_hours_native_presence_decides(self) -> None:
        v = verdict(record(native=IDLE, hours=OFFICE))
        assert (v.availability, v.source) == (A.IDLE, "platform")

    def test_nothing_known_is_unknown(self) -> None:
        v = verdict(PresenceRecord())
        assert (v.availability, v.source, v.reason) == (A.UNKNOWN, "none", "no presence seen yet")

    def test_an_expired_override_no_longer_counts(self) -> None:
        rec = record(native=ONLINE, override=Override(A.OFFLINE, NOW - 1))
        assert verdict(rec).availability is A.AVAILABLE

    def test_a_future_dnd_window_has_not_started_yet(self) -> None:
        rec = record(native=ONLINE, dnd=(NOW + HOUR, NOW + 2 * HOUR))
        v, holds_until = decide(rec, NOW, POLICY)
        assert v.availability is A.AVAILABLE
        assert holds_until == NOW + HOUR  # re-decided when the window opens
        assert verdict(rec, NOW + HOUR).availability is A.BUSY
        assert verdict(rec, NOW + 2 * HOUR).availability is A.AVAILABLE


class TestStatusWords:
    @pytest.mark.parametrize(
        "text",
        ["On vacation", "Holiday!", "OOO", "Out of office", "sick today", "Away"],
    )
    def test_statuses_that_say_away_mean_offline(self, text: str) -> None:
        v = verdict(record(native=ONLINE, status=Status(text)))
        assert (v.availability, v.source) == (A.OFFLINE, "status")

    @pytest.mark.parametrize("text", ["In a meeting", "in a call", "Focus time"])
    def test_busy_words_mean_busy(self, text: str) -> None:
        v = verdict(record(native=ONLINE, status=Status(text)))
        assert (v.availability, v.source) == (A.BUSY, "status")

    def test_an_emoji_alone_can_say_away(self) -> None:
        v = verdict(record(native=ONLINE, status=Status("", ":away:")))
        assert v.availability is A.OFFLINE

    def test_other_statuses_leave_it_to_native_presence(self) -> None:
        v = verdict(record(native=ONLINE, status=Status("Lunch", ":sandwich:")))
        assert (v.availability, v.source) == (A.AVAILABLE, "platform")

    def test_an_expired_status_is_ignored(self) -> None:
        v = verdict(record(native=ONLINE, status=Status("On vacation", until=NOW)))
        assert v.availability is A.AVAILABLE

    def test_the_away_and_busy_words_are_configurable(self) -> None:
        policy = Policy(away_words=("parental leave",), busy_words=("heads down",))
        assert (
            verdict(
                record(native=ONLINE, status=Status("Parental leave")), policy=policy
            ).availability
            is A.OFFLINE
        )
        assert (
            verdict(record(native=ONLINE, status=Status("Heads down")), policy=policy).availability
            is A.BUSY
        )
        # the default words no longer count under this policy
        assert (
            verdict(record(native=ONLINE, status=Status("On vacation")), policy=policy).availability
            is A.AVAILABLE
        )


# -- working hours ------------------------------------------------------------------------


def hours_verdict(hours: WorkingHours, now: float) -> Availability:
    """What working hours alone make of someone who is online."""
    return verdict(record(native=ONLINE, native_at=now - MINUTE, hours=hours), now).availability


class TestWorkingHours:
    @pytest.mark.parametrize(
        ("when", "expected"),
        [
            (local(BERLIN, 2024, 1, 15, 8, 59), A.OFFLINE),  # Monday, before
            (local(BERLIN, 2024, 1, 15, 9, 0), A.AVAILABLE),  # Monday, start is inside
            (local(BERLIN, 2024, 1, 15, 17, 29), A.AVAILABLE),
            (local(BERLIN, 2024, 1, 15, 17, 30), A.OFFLINE),  # end is outside
            (local(BERLIN, 2024, 1, 19, 12, 0), A.AVAILABLE),  # Friday
            (local(BERLIN, 2024, 1, 20, 12, 0), A.OFFLINE),  # Saturday is not a working day
            (local(BERLIN, 2024, 1, 21, 12, 0), A.OFFLINE),  # nor Sunday
        ],
    )
    def test_office_hours_in_a_time_zone(self, when: float, expected: Availability) -> None:
        assert hours_verdict(OFFICE, when) is expected

    def test_hours_are_read_in_their_own_zone_not_utc(self) -> None:
        # 08:30 UTC on a Monday in January is 09:30 in Berlin (inside), 03:30 in New York (outside)
        when = utc(2024, 1, 15, 8, 30)
        assert hours_verdict(OFFICE, when) is A.AVAILABLE
        new_york = WorkingHours(9 * 60, 17 * 60 + 30, MON_FRI, "America/New_York")
        assert hours_verdict(new_york, when) is A.OFFLINE

    def test_outside_hours_says_when_they_start_again(self) -> None:
        friday_evening = local(BERLIN, 2024, 1, 19, 18, 0)
        v = verdict(record(native=ONLINE, hours=OFFICE), friday_evening)
        assert v.availability is A.OFFLINE
        assert v.until == local(BERLIN, 2024, 1, 22, 9, 0)  # Monday morning
        assert "09:00–17:30" in v.reason

    @pytest.mark.parametrize(
        ("when", "expected"),
        [
            # spring forward (Sunday 31 March 2024): Monday 09:30 CEST is 07:30 UTC
            (utc(2024, 4, 1, 7, 30), A.AVAILABLE),
            (utc(2024, 4, 1, 6, 30), A.OFFLINE),  # 08:30 CEST
            # the Friday before, 07:30 UTC was only 08:30 CET
            (utc(2024, 3, 29, 7, 30), A.OFFLINE),
            (utc(2024, 3, 29, 8, 30), A.AVAILABLE),
            # fall back (Sunday 27 October 2024): Monday 09:30 CET is 08:30 UTC
            (utc(2024, 10, 28, 8, 30), A.AVAILABLE),
            (utc(2024, 10, 28, 7, 30), A.OFFLINE),  # 08:30 CET, though 09:30 the week before
            (utc(2024, 10, 25, 7, 30), A.AVAILABLE),  # Friday before: 09:30 CEST
        ],
    )
    def test_daylight_saving_changes_keep_local_wall_clock_hours(
        self, when: float, expected: Availability
    ) -> None:
        assert hours_verdict(OFFICE, when) is expected

    @pytest.mark.parametrize(
        ("when", "expected"),
        [
            (utc(2024, 1, 15, 21, 59), A.OFFLINE),  # Monday before the shift
            (utc(2024, 1, 15, 22, 0), A.AVAILABLE),  # Monday's shift starts
            (utc(2024, 1, 16, 3, 0), A.AVAILABLE),  # ... and runs past midnight into Tuesday
            (utc(2024, 1, 16, 6, 0), A.OFFLINE),  # and ends at 06:00
            (utc(2024, 1, 16, 12, 0), A.OFFLINE),  # Tuesday midday
            (utc(2024, 1, 20, 3, 0), A.AVAILABLE),  # Saturday 03:00 is still Friday's shift
            (utc(2024, 1, 20, 23, 0), A.OFFLINE),  # no Saturday shift
            (utc(2024, 1, 21, 23, 0), A.OFFLINE),  # no Sunday shift
            (utc(2024, 1, 22, 3, 0), A.OFFLINE),  # so Monday 03:00 is off too
        ],
    )
    def test_a_night_shift_crosses_midnight(self, when: float, expected: Availability) -> None:
        night = WorkingHours(22 * 60, 6 * 60, MON_FRI, "UTC")
        assert hours_verdict(night, when) is expected

    def test_a_night_shift_across_a_dst_change_ends_at_local_0600(self) -> None:
        # Saturday 30 March 2024 22:00 CET; clocks jump 02:00→03:00 during the shift
        saturday_nights = WorkingHours(22 * 60, 6 * 60, frozenset({5}), BERLIN)
        assert hours_verdict(saturday_nights, local(BERLIN, 2024, 3, 30, 23, 0)) is A.AVAILABLE
        assert hours_verdict(saturday_nights, utc(2024, 3, 31, 3, 30)) is A.AVAILABLE  # 05:30 CEST
        assert hours_verdict(saturday_nights, utc(2024, 3, 31, 4, 30)) is A.OFFLINE  # 06:30 CEST

    def test_an_unknown_zone_falls_back_to_utc(self) -> None:
        hours = WorkingHours(9 * 60, 17 * 60, MON_FRI, "Not/AZone")
        assert hours_verdict(hours, utc(2024, 1, 15, 9, 30)) is A.AVAILABLE
        assert hours_verdict(hours, utc(2024, 1, 15, 17, 30)) is A.OFFLINE


# -- native presence and activity ---------------------------------------------------------


class TestNativeAndActivity:
    @pytest.mark.parametrize(
        ("state", "expected"),
        [(ONLINE, A.AVAILABLE), (IDLE, A.IDLE), (DND, A.BUSY), (OFFLINE, A.OFFLINE)],
    )
    def test_native_states(self, state: str, expected: Availability) -> None:
        v = verdict(record(native=state))
        assert (v.availability, v.source) == (expected, "platform")

    @pytest.mark.parametrize("state", [IDLE, OFFLINE])
    def test_recent_activity_makes_an_idle_or_away_person_available(self, state: str) -> None:
        went_idle = NOW - 2 * POLICY.activity_window
        active = NOW - POLICY.activity_window + 1
        v = verdict(record(native=state, native_at=went_idle, active_at=active))
        assert (v.availability, v.source, v.reason) == (A.AVAILABLE, "activity", "active just now")
        assert v.observed_at == active

    def test_activity_older_than_the_window_counts_for_nothing(self) -> None:
        rec = record(native=IDLE, native_at=NOW - HOUR, active_at=NOW - POLICY.activity_window)
        assert verdict(rec).availability is A.IDLE

    @pytest.mark.parametrize("state", [IDLE, OFFLINE])
    def test_going_idle_or_offline_after_the_activity_wins(self, state: str) -> None:
        # they wrote a message, then the platform saw them go: the later observation holds
        rec = record(native=state, native_at=NOW - 10, active_at=NOW - 20)
        assert verdict(rec).availability is A(state)

    def test_activity_alone_is_enough(self) -> None:
        assert verdict(record(active_at=NOW - 1)).availability is A.AVAILABLE

    def test_the_activity_window_is_configurable(self) -> None:
        rec = record(native=IDLE, native_at=NOW - 4 * HOUR, active_at=NOW - 2 * HOUR)
        assert verdict(rec, policy=Policy(activity_window=3 * HOUR)).availability is A.AVAILABLE
        assert verdict(rec, policy=Policy(activity_window=HOUR)).availability is A.IDLE

    def test_native_dnd_is_busy_even_with_activity(self) -> None:
        v = verdict(record(native=DND, active_at=NOW - 1))
        assert (v.availability, v.source) == (A.BUSY, "platform")

    @pytest.mark.parametrize("state", [ONLINE, IDLE, DND, OFFLINE])
    def test_stale_native_presence_is_unknown_never_available(self, state: str) -> None:
        rec = record(native=state, native_at=NOW - 301, ttl=300)
        v = verdict(rec)
        assert v.availability is A.UNKNOWN
        assert v.reason == "presence is stale"
        assert v.observed_at == NOW - 301
        assert v.age(NOW) == 301

    def test_native_presence_within_its_ttl_counts(self) -> None:
        rec = record(native=ONLINE, native_at=NOW - 299, ttl=300)
        v, holds_until = decide(rec, NOW, POLICY)
        assert v.availability is A.AVAILABLE
        assert holds_until == NOW + 1


class TestVerdictCarriesItsEvidence:
    @pytest.mark.parametrize(
        "rec",
        [
            record(override=Override(A.BUSY, NOW + HOUR)),
            record(dnd=(None, NOW + HOUR)),
            record(huddle=True),
            record(status=Status("vacation")),
            record(status=Status("in a meeting")),
            record(hours=WorkingHours(0, 60, frozenset({6}), BERLIN)),
            record(native=ONLINE),
            record(native=IDLE, active_at=NOW - 10),
            record(native=ONLINE, native_at=NOW - HOUR, ttl=60),
            PresenceRecord(),
        ],
        ids=[
            "override",
            "dnd",
            "huddle",
            "away-status",
            "busy-status",
            "hours",
            "native",
            "activity",
            "stale",
            "nothing",
        ],
    )
    def test_every_verdict_has_reason_source_and_age(self, rec: PresenceRecord) -> None:
        v = verdict(rec)
        assert v.reason
        assert v.source in {
            "manual",
            "dnd",
            "huddle",
            "status",
            "hours",
            "platform",
            "activity",
            "none",
        }
        assert v.observed_at <= NOW
        assert v.age(NOW) == NOW - v.observed_at >= 0

    def test_age_is_measured_from_the_observation(self) -> None:
        v = verdict(record(native=ONLINE, native_at=NOW - 42))
        assert v.observed_at == NOW - 42
        assert v.age(NOW) == 42
        assert v.age(NOW - 100) == 0  # never negative

    @pytest.mark.parametrize(
        "rec",
        [
            record(dnd=(None, NOW + HOUR), seen_at=NOW - 90),
            record(huddle=True, seen_at=NOW - 90),
            record(status=Status("sick"), seen_at=NOW - 90),
            record(hours=WorkingHours(0, 60, frozenset({6}), BERLIN), seen_at=NOW - 90),
        ],
        ids=["dnd", "huddle", "status", "hours"],
    )
    def test_rarer_signals_are_as_old_as_their_latest_report(self, rec: PresenceRecord) -> None:
        assert verdict(rec).age(NOW) == 90

    def test_an_override_is_observed_when_it_was_set(self) -> None:
        v = verdict(record(override=Override(A.BUSY), override_at=NOW - 30))
        assert v.age(NOW) == 30


# -- the monitor --------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def monitor(clock: ManualClock) -> PresenceMonitor:
    return PresenceMonitor(MemoryPresenceStore(), clock)


class TestMonitorChanges:
    def test_the_first_signal_is_a_change_from_unknown(self, monitor: PresenceMonitor) -> None:
        change = monitor.native("alice", ONLINE)
        assert change is not None
        assert (change.key, change.old, change.new.availability) == (
            "alice",
            A.UNKNOWN,
            A.AVAILABLE,
        )
        assert change.new.since == NOW
        assert monitor.availability("alice") is A.AVAILABLE

    def test_the_same_native_state_again_is_not_a_change(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        assert monitor.native("alice", ONLINE) is not None
        for _ in range(3):
            clock.advance(5)
            assert monitor.native("alice", ONLINE) is None
        assert monitor.observe("alice", Native(ONLINE)) is None

    def test_the_same_polled_state_again_is_not_a_change(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        assert monitor.native("alice", ONLINE, ttl=300) is not None
        clock.advance(100)
        assert monitor.native("alice", ONLINE, ttl=300) is None

    def test_a_signal_that_does_not_change_the_verdict_is_not_a_change(
        self, monitor: PresenceMonitor
    ) -> None:
        monitor.native("alice", ONLINE)
        assert monitor.observe("alice", Activity()) is None
        assert monitor.observe("alice", Status("Lunch")) is None

    def test_unknown_contacts_read_as_unknown(self, monitor: PresenceMonitor) -> None:
        assert monitor.availability("nobody") is A.UNKNOWN
        assert monitor.verdict("nobody") == UNKNOWN_VERDICT

    def test_listeners_hear_each_change_once_with_old_and_new(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        heard: list[Change] = []
        monitor.on_change(heard.append)
        monitor.native("alice", ONLINE)
        monitor.native("alice", ONLINE)  # same again: nothing
        clock.advance(60)
        monitor.observe("alice", DoNotDisturb(None, NOW + HOUR))
        monitor.observe("alice", Activity())  # no difference under DND
        clock.advance(HOUR)
        expired = monitor.expire()
        assert [(c.key, c.old, c.new.availability) for c in heard] == [
            ("alice", A.UNKNOWN, A.AVAILABLE),
            ("alice", A.AVAILABLE, A.BUSY),
            ("alice", A.BUSY, A.AVAILABLE),
        ]
        assert expired == heard[-1:]  # the expiry's change is reported once, not twice

    def test_every_listener_is_told(self, monitor: PresenceMonitor) -> None:
        first: list[Change] = []
        second: list[Change] = []
        monitor.on_change(first.append)
        monitor.on_change(second.append)
        change = monitor.native("bob", IDLE)
        assert first == second == [change]

    def test_clearing_an_override_returns_to_automatic(self, monitor: PresenceMonitor) -> None:
        monitor.native("alice", ONLINE)
        change = monitor.observe("alice", Override(A.OFFLINE, None, "gone fishing"))
        assert change is not None
        assert change.new.reason == "set by hand: gone fishing"
        change = monitor.observe("alice", Override(None))
        assert change is not None
        assert (change.old, change.new.availability, change.new.source) == (
            A.OFFLINE,
            A.AVAILABLE,
            "platform",
        )

    def test_hours_off_clears_working_hours(self, monitor: PresenceMonitor) -> None:
        monitor.native("alice", ONLINE)
        assert monitor.observe("alice", WorkingHours(0, 60, frozenset({6}), BERLIN)) is not None
        assert monitor.availability("alice") is A.OFFLINE
        change = monitor.observe("alice", ClearHours())
        assert change is not None
        assert change.new.availability is A.AVAILABLE

    def test_an_empty_status_clears_the_status(self, monitor: PresenceMonitor) -> None:
        monitor.native("alice", ONLINE)
        monitor.observe("alice", Status("On vacation"))
        assert monitor.availability("alice") is A.OFFLINE
        monitor.observe("alice", Status(""))
        assert monitor.availability("alice") is A.AVAILABLE

    def test_a_dnd_verdict_ages_from_when_it_was_reported(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        monitor.native("alice", ONLINE)
        monitor.observe("alice", DoNotDisturb(None, NOW + HOUR))
        clock.advance(10 * MINUTE)
        v = monitor.verdict("alice")
        assert (v.availability, v.source) == (A.BUSY, "dnd")
        assert v.age(clock.now()) == 10 * MINUTE

    def test_a_huddle_ends(self, monitor: PresenceMonitor) -> None:
        monitor.native("alice", ONLINE)
        assert monitor.observe("alice", Huddle(True)) is not None
        assert monitor.verdict("alice").source == "huddle"
        change = monitor.observe("alice", Huddle(False))
        assert change is not None
        assert change.new.availability is A.AVAILABLE


class TestGatewayHotPath:
    """`PresenceMonitor.pushed`: what the Discord adapter calls for every PRESENCE_UPDATE."""

    @staticmethod
    def tracked(*keys: str) -> Callable[[str], str | None]:
        return {k: k for k in keys}.get

    def test_people_in_no_community_are_ignored(self, monitor: PresenceMonitor) -> None:
        on_pushed = monitor.pushed(self.tracked("alice"))
        assert on_pushed("mallory", ONLINE) is None
        assert monitor.availability("mallory") is A.UNKNOWN
        assert len(monitor) == 0

    def test_a_change_is_told_and_a_repeat_is_not(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        heard: list[Change] = []
        monitor.on_change(heard.append)
        on_pushed = monitor.pushed(self.tracked("alice"))
        on_pushed("alice", ONLINE)
        clock.advance(MINUTE)
        assert on_pushed("alice", ONLINE) is None
        change = on_pushed("alice", DND)
        assert change is not None
        assert heard == [heard[0], change]
        assert (change.old, change.new.availability, change.new.since) == (
            A.AVAILABLE,
            A.BUSY,
            NOW + MINUTE,
        )
        assert change.new == monitor.verdict("alice")

    def test_the_key_kept_is_the_tracked_string(self, monitor: PresenceMonitor) -> None:
        shared = "discord:1:2"
        on_pushed = monitor.pushed(self.tracked(shared))
        on_pushed("discord:1:" + str(2), ONLINE)  # an equal string built per event
        [kept] = [k for k in monitor._records if k == shared]
        assert kept is shared

    def test_a_fuller_record_still_obeys_its_other_signals(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        on_pushed = monitor.pushed(self.tracked("alice"))
        on_pushed("alice", ONLINE)
        monitor.observe("alice", Override(A.BUSY, NOW + HOUR))
        assert on_pushed("alice", IDLE) is None  # the override still wins
        clock.advance(HOUR)
        change = on_pushed("alice", IDLE)  # the override ran out: this event re-decides
        assert change is not None
        assert (change.old, change.new.availability) == (A.BUSY, A.IDLE)
        assert monitor.expire() == []


@pytest.mark.parametrize(
    "signals",
    [
        [ONLINE, IDLE, IDLE, DND, OFFLINE, ONLINE],
        [ONLINE, Activity(), IDLE, Override(A.BUSY), ONLINE, Override(None), OFFLINE],
        [Native(ONLINE, ttl=300), IDLE, DND],
        [Status("vacation"), ONLINE, Status(""), IDLE],
    ],
    ids=["pushed-only", "override", "polled", "status"],
)
def test_a_pushed_only_record_and_a_full_one_tell_the_same_changes(
    signals: list[object], clock: ManualClock
) -> None:
    """Contacts with nothing but pushed presence are kept in a smaller record; every change
    and verdict must be what the full record would give."""
    small = PresenceMonitor(MemoryPresenceStore(), clock)
    full = PresenceMonitor(MemoryPresenceStore(), clock)
    full.observe("alice", Override(None))  # leaves a full record that holds nothing
    for signal in signals:
        clock.advance(MINUTE)
        got = [
            m.native("alice", signal) if isinstance(signal, str) else m.observe("alice", signal)  # type: ignore[arg-type]
            for m in (small, full)
        ]
        assert got[0] == got[1]
        assert small.verdict("alice") == full.verdict("alice")


class TestMonitorExpiry:
    def expire_after(
        self, monitor: PresenceMonitor, clock: ManualClock, seconds: float
    ) -> list[Change]:
        clock.advance(seconds - 1)
        assert monitor.expire() == []  # not a second early
        clock.advance(1)
        return monitor.expire()

    def test_an_override_expires(self, monitor: PresenceMonitor, clock: ManualClock) -> None:
        monitor.native("alice", ONLINE)
        monitor.observe("alice", Override(A.BUSY, NOW + HOUR, "deep work"))
        assert monitor.availability("alice") is A.BUSY
        [change] = self.expire_after(monitor, clock, HOUR)
        assert (change.key, change.old, change.new.availability) == ("alice", A.BUSY, A.AVAILABLE)
        assert change.new.source == "platform"
        assert change.new.since == NOW + HOUR

    def test_do_not_disturb_expires(self, monitor: PresenceMonitor, clock: ManualClock) -> None:
        monitor.native("alice", ONLINE)
        monitor.observe("alice", DoNotDisturb(NOW, NOW + 30 * MINUTE))
        [change] = self.expire_after(monitor, clock, 30 * MINUTE)
        assert (change.old, change.new.availability) == (A.BUSY, A.AVAILABLE)

    def test_scheduled_do_not_disturb_starts_on_time(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        monitor.native("alice", ONLINE)
        assert monitor.observe("alice", DoNotDisturb(NOW + HOUR, NOW + 2 * HOUR)) is None
        [started] = self.expire_after(monitor, clock, HOUR)
        assert (started.old, started.new.availability, started.new.source) == (
            A.AVAILABLE,
            A.BUSY,
            "dnd",
        )
        [ended] = self.expire_after(monitor, clock, HOUR)
        assert (ended.old, ended.new.availability) == (A.BUSY, A.AVAILABLE)

    def test_a_status_expires(self, monitor: PresenceMonitor, clock: ManualClock) -> None:
        monitor.native("alice", ONLINE)
        monitor.observe("alice", Status("On vacation", ":palm_tree:", NOW + 2 * DAY))
        assert monitor.availability("alice") is A.OFFLINE
        [change] = self.expire_after(monitor, clock, 2 * DAY)
        assert (change.old, change.new.availability) == (A.OFFLINE, A.AVAILABLE)

    def test_activity_wears_off(self, monitor: PresenceMonitor, clock: ManualClock) -> None:
        monitor.native("alice", IDLE)
        clock.advance(MINUTE)
        change = monitor.observe("alice", Activity())
        assert change is not None
        assert (change.old, change.new.availability) == (A.IDLE, A.AVAILABLE)
        [change] = self.expire_after(monitor, clock, POLICY.activity_window)
        assert (change.old, change.new.availability) == (A.AVAILABLE, A.IDLE)

    def test_stale_native_presence_becomes_unknown(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        monitor.native("alice", ONLINE, ttl=300)
        [change] = self.expire_after(monitor, clock, 300)
        assert (change.old, change.new.availability) == (A.AVAILABLE, A.UNKNOWN)
        assert change.new.reason == "presence is stale"
        assert change.new.age(clock.now()) == 300

    def test_working_hours_end_and_start(self) -> None:
        clock = ManualClock(local(BERLIN, 2024, 1, 19, 17, 0))  # Friday 17:00
        monitor = PresenceMonitor(MemoryPresenceStore(), clock)
        monitor.native("alice", ONLINE)
        monitor.observe("alice", OFFICE)
        assert monitor.availability("alice") is A.AVAILABLE
        [ended] = self.expire_after(monitor, clock, 30 * MINUTE)
        assert (ended.old, ended.new.availability, ended.new.source) == (
            A.AVAILABLE,
            A.OFFLINE,
            "hours",
        )
        clock.advance(DAY)
        assert monitor.expire() == []  # the weekend is off
        clock.advance(local(BERLIN, 2024, 1, 22, 9, 0) - clock.now())
        [started] = monitor.expire()
        assert (started.old, started.new.availability) == (A.OFFLINE, A.AVAILABLE)

    def test_a_later_signal_supersedes_a_pending_expiry(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        monitor.native("alice", ONLINE)
        monitor.observe("alice", Override(A.BUSY, NOW + HOUR))
        monitor.observe("alice", Override(A.BUSY, NOW + 3 * HOUR))
        clock.advance(HOUR)
        assert monitor.expire() == []
        assert monitor.availability("alice") is A.BUSY
        clock.advance(2 * HOUR)
        [change] = monitor.expire()
        assert change.new.availability is A.AVAILABLE

    def test_reads_never_serve_an_expired_verdict(
        self, monitor: PresenceMonitor, clock: ManualClock
    ) -> None:
        monitor.native("alice", ONLINE, ttl=300)
        clock.advance(301)
        # nobody called expire(): the read itself notices
        assert monitor.availability("alice") is A.UNKNOWN
        assert monitor.verdict("alice").availability is A.UNKNOWN

    def test_expire_with_nothing_due_is_empty(self, monitor: PresenceMonitor) -> None:
        monitor.native("alice", ONLINE)
        assert monitor.expire() == []


# -- the wire format ----------------------------------------------------------------------


def fields(rec: PresenceRecord) -> tuple[object, ...]:
    e = rec.extras
    extras = (
        None
        if e is None
        else (
            e.dnd_start,
            e.dnd_end,
            e.huddle,
            e.status,
            e.override,
            e.override_at,
            e.hours,
            e.seen_at,
        )
    )
    return (rec.native, rec.native_at, rec.native_until, rec.active_at, rec.since, extras)


FULL: dict[str, object] = {
    "native": IDLE,
    "native_at": NOW - 30,
    "ttl": 900.0,
    "active_at": NOW - 20,
    "dnd": (NOW + HOUR, NOW + 2 * HOUR),
    "huddle": True,
    "status": Status("On vacation", ":palm_tree:", NOW + DAY),
    "override": Override(A.BUSY, NOW + 3 * HOUR, "deep work — ünïcode"),
    "override_at": NOW - 10,
    "hours": WorkingHours(22 * 60, 6 * 60, frozenset({0, 2, 4}), BERLIN),
    "seen_at": NOW - 5,
}


class TestWire:
    @pytest.mark.parametrize(
        "rec",
        [
            PresenceRecord(),
            record(native=ONLINE),
            record(native=OFFLINE, ttl=300, active_at=NOW - 5),
            record(dnd=(None, NOW + HOUR)),
            record(huddle=True),
            record(status=Status("sick", "", None)),
            record(override=Override(A.AVAILABLE), override_at=NOW - 1),
            record(hours=OFFICE),
            record(**FULL),  # type: ignore[arg-type]
        ],
        ids=[
            "empty",
            "native",
            "native-ttl-activity",
            "dnd",
            "huddle",
            "status",
            "override",
            "hours",
            "everything",
        ],
    )
    def test_round_trip_keeps_every_field_and_the_verdict(self, rec: PresenceRecord) -> None:
        rec.since = NOW - 7
        back = PresenceRecord.from_wire(rec.to_wire())
        assert fields(back) == fields(rec)
        assert PresenceRecord.from_wire(back.to_wire()).to_wire() == rec.to_wire()
        for when in (NOW, NOW + HOUR + 1, NOW + 4 * HOUR, NOW + 2 * DAY, NOW + 30 * DAY):
            assert decide(back, when, POLICY) == decide(rec, when, POLICY)

    def test_the_wire_is_compact_and_versioned(self) -> None:
        rec = record(native=ONLINE)
        rec.since = rec.native_at  # the usual record: online since it was last seen
        wire = rec.to_wire()
        assert msgpack.unpackb(wire)[0] == WIRE_VERSION
        assert len(wire) <= 24  # the JSON it replaces took 52 bytes

    @pytest.mark.parametrize(
        ("old", "rec"),
        [
            ('["online",1705312740.0,null,0.0,1705312740.0,null]', record(native=ONLINE)),
            (
                '["idle",1705312770.0,1705313670.0,1705312780.0,1705312793.0,'
                '[1705316400.0,1705320000.0,true,["On vacation",":palm_tree:",1705399200.0],'
                '["busy",1705323600.0,"deep work — ünïcode",1705312790.0],'
                '[1320,360,[0,2,4],"Europe/Berlin"],1705312795.0]]',
                record(**FULL),  # type: ignore[arg-type]
            ),
        ],
        ids=["native", "everything"],
    )
    def test_records_already_in_redis_from_before_versioning_still_load(
        self, old: str, rec: PresenceRecord
    ) -> None:
        """The unversioned JSON list of six that the previous release wrote, verbatim."""
        rec.since = json.loads(old)[4]
        for raw in (old, old.encode()):
            assert fields(PresenceRecord.from_wire(raw)) == fields(rec)

    def test_a_newer_record_with_fields_this_code_does_not_know_still_loads(self) -> None:
        rec = record(**FULL)  # type: ignore[arg-type]
        rec.since = NOW - 7
        *known, extra = msgpack.unpackb(rec.to_wire())
        newer = msgpack.packb(
            [WIRE_VERSION + 1, *known[1:], [*extra, "a later signal"], {"later": 1}]
        )
        back = PresenceRecord.from_wire(newer)
        assert fields(back) == fields(rec)
        assert decide(back, NOW, POLICY) == decide(rec, NOW, POLICY)

    def test_something_that_is_not_a_record_is_refused(self) -> None:
        with pytest.raises(ValueError, match="not a presence record"):
            PresenceRecord.from_wire(msgpack.packb([WIRE_VERSION, ONLINE]))

    async def test_another_process_reaches_the_same_verdict(self) -> None:
        clock = ManualClock(NOW)
        store = MemoryPresenceStore()
        here = PresenceMonitor(store, clock)
        there = PresenceMonitor(MemoryPresenceStore(store.hub), clock)
        heard: list[Change] = []
        there.on_change(heard.append)
        here.native("alice", ONLINE)
        here.observe("alice", Override(A.BUSY, NOW + HOUR, "call"))
        here.observe("alice", WorkingHours(9 * 60, 17 * 60, MON_FRI, BERLIN))
        assert await here.flush() == 1
        await there.load(["alice"])
        assert there.verdict("alice") == here.verdict("alice")
        assert there.availability("alice") is A.BUSY
        assert heard == []  # adopting another process's record tells nobody again
        await store.close()


# -- activity outliving stale presence ----------------------------------------------------


def test_activity_after_stale_presence_holds_until_the_window_ends() -> None:
    rec = record(native=ONLINE, native_at=NOW - 400, ttl=300, active_at=NOW - 10)
    v, holds_until = decide(rec, NOW, POLICY)
    assert v.availability is A.AVAILABLE
    assert holds_until == NOW - 10 + POLICY.activity_window  # actually NOW - 100, in the past


def test_activity_after_stale_presence_wears_off_on_expire(
    monitor: PresenceMonitor, clock: ManualClock
) -> None:
    monitor.native("alice", ONLINE, ttl=300)
    clock.advance(300)
    [stale] = monitor.expire()
    assert stale.new.availability is A.UNKNOWN
    clock.advance(MINUTE)
    change = monitor.observe("alice", Activity())  # they wrote a message
    assert change is not None
    assert change.new.availability is A.AVAILABLE
    assert monitor.expire() == []  # the periodic tick runs; nothing is due yet
    clock.advance(POLICY.activity_window)
    # expected [Change(old=available, new=unknown)]; actually [] and the cache says available
    assert [(c.old, c.new.availability) for c in monitor.expire()] == [(A.AVAILABLE, A.UNKNOWN)]
