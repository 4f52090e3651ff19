"""The command grammar: every command of the design, what it accepts, and how it refuses.

Wrong input always gets a specific message and the right usage line, and `parse` never
raises anything but CommandError, whatever text a platform hands it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import (
    COMMANDS,
    AddEscalationStep,
    AddMembers,
    Ask,
    CommandError,
    CommunityCommand,
    CreateCommunity,
    DeleteCommunity,
    Help,
    JoinCommunity,
    LeaveCommunity,
    LinkGroup,
    ListCommunities,
    MakeOwner,
    MyAsks,
    PinCommunity,
    RemoveMembers,
    SetAvailability,
    SetCapacity,
    SetHours,
    SetMentionMode,
    SetStrategy,
    ShowCommunity,
    Subscribe,
    Unsubscribe,
    UserRef,
    parse,
    set_availability,
    setting,
    working_hours,
)
from core.domain import Mode, Strategy
from core.presence.availability import Availability
from core.texts.help import USAGE
from core.timewords import parse_duration

A = Availability
MON_FRI = frozenset(range(5))


def refused(command: str, text: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse(command, text)
    err = info.value
    assert err.message
    assert str(err) == f"{err.message}\nTry: {err.usage}"
    return err


def assert_refused(command: str, text: str, message: str, usage_key: str) -> None:
    """Refused with a message matching `message` (a regex) and the usage line of `usage_key`."""
    err = refused(command, text)
    assert re.search(message, err.message), err.message
    assert err.usage == USAGE[usage_key]


# -- /ask-available -----------------------------------------------------------------------


class TestAsk:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("team can someone review #42?", Ask("team", Mode.ONE, 1, "can someone review #42?")),
            ("team --one need a hand", Ask("team", Mode.ONE, 1, "need a hand")),
            ("team --all standup in 5", Ask("team", Mode.AVAILABLE, 1, "standup in 5")),
            ("team --count 3 pair with me", Ask("team", Mode.SOME, 3, "pair with me")),
            ("team --count=3 pair with me", Ask("team", Mode.SOME, 3, "pair with me")),
            ("team --everyone release is out", Ask("team", Mode.EVERYONE, 1, "release is out")),
            ("@team hi", Ask("team", Mode.ONE, 1, "hi")),
            ("@On-Call_2 HELP", Ask("on-call_2", Mode.ONE, 1, "HELP")),
        ],
    )
    def test_valid_requests(self, text: str, expected: Ask) -> None:
        assert parse("/ask-available", text) == expected

    def test_the_command_name_may_come_with_or_without_slash_in_any_case(self) -> None:
        for name in ("ask-available", "/ask-available", " /ASK-Available "):
            assert parse(name, "team hi") == Ask("team", Mode.ONE, 1, "hi")

    def test_the_message_keeps_its_spacing_and_line_breaks(self) -> None:
        text = "team --count 2   first line\n\n  second   line\ttabbed  "
        assert parse("ask-available", text).text == "first line\n\n  second   line\ttabbed"  # type: ignore[union-attr]

    def test_the_message_keeps_its_spacing_when_the_handle_has_odd_spacing(self) -> None:
        assert parse("ask-available", "\n  team \n a  b").text == "a  b"  # type: ignore[union-attr]

    def test_words_that_look_like_flags_after_the_message_starts_are_message(self) -> None:
        assert parse("ask-available", "team --all use --one later").text == "use --one later"  # type: ignore[union-attr]

    @pytest.mark.parametrize("count", ["1", "100"])
    def test_count_bounds_are_inclusive(self, count: str) -> None:
        assert parse("ask-available", f"team --count {count} hi").count == int(count)  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", r"say which community to ask"),
            ("   \n ", r"say which community to ask"),
            ("team", r"the message is empty"),
            ("team --all", r"the message is empty"),
            ("team --count 3", r"the message is empty"),
            ("t hi", r"“t” is not a community handle \(2–32 of a-z, 0-9, - and _\)"),
            ("@ hi", r"“@” is not a community handle"),
            ("te.am hi", r"“te\.am” is not a community handle"),
            ("ünï hi", r"“ünï” is not a community handle"),
            ("a" * 33 + " hi", r"is not a community handle"),
            ("team --count 0 hi", r"--count takes a number from 1 to 100"),
            ("team --count 101 hi", r"--count takes a number from 1 to 100"),
            ("team --count -1 hi", r"--count takes a number from 1 to 100"),
            ("team --count three hi", r"--count takes a number from 1 to 100"),
            ("team --count", r"--count takes a number from 1 to 100"),
            ("team --count= hi", r"--count takes a number from 1 to 100"),
            ("team --al hi", r"unknown option --al"),
            ("team --urgent hi", r"unknown option --urgent"),
            (
                "team --one --all hi",
                r"give one of --one, --all, --count N or --everyone, not several",
            ),
            ("team --all --all hi", r"not several"),
            ("team --count 2 --everyone hi", r"not several"),
            (
                "team " + "x" * 10_001,
                r"the message is too long: 10,001 characters, and an ask holds at most 10,000",
            ),
        ],
    )
    def test_invalid_requests(self, text: str, message: str) -> None:
        assert_refused("ask-available", text, message, "ask-available")

    def test_a_message_of_exactly_the_limit_is_fine(self) -> None:
        assert len(parse("ask-available", "team " + "x" * 3000).text) == 3000  # type: ignore[union-attr]

    def test_a_very_long_bad_word_is_clipped_in_the_reply(self) -> None:
        err = refused("ask-available", "team --" + "z" * 5000 + " hi")
        assert len(err.message) < 80
        assert err.message.endswith("…")


# -- /community ---------------------------------------------------------------------------


class TestCommunity:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("create team", CreateCommunity("team")),
            (
                "create @Team Platform  team\tnight",
                CreateCommunity("team", title="Platform  team\tnight"),
            ),
            ("delete team", DeleteCommunity("team")),
            ("join @TEAM", JoinCommunity("team")),
            ("leave team", LeaveCommunity("team")),
            ("list", ListCommunities()),
            ("LIST", ListCommunities()),
            ("show team", ShowCommunity("team")),
            ("subscribe team", Subscribe("team")),
            ("subscribe team --once", Subscribe("team", once=True)),
            ("unsubscribe team", Unsubscribe("team")),
            ("pin team", PinCommunity("team")),
            (
                "set team strategy round-robin",
                SetStrategy("team", Strategy.ROUND_ROBIN),
            ),
            (
                "set team strategy Least-Recent",
                SetStrategy("team", Strategy.LEAST_RECENT),
            ),
            (
                "set team strategy random",
                SetStrategy("team", Strategy.RANDOM),
            ),
            (
                "set team strategy longest-idle",
                SetStrategy("team", Strategy.LONGEST_IDLE),
            ),
            (
                "set team mention everyone",
                SetMentionMode("team", Mode.EVERYONE),
            ),
            ("set team MENTION one", SetMentionMode("team", Mode.ONE)),
            ("set team capacity 3", SetCapacity("team", 3)),
            (
                "set team owner <@U9>",
                MakeOwner("team", UserRef(user_id="U9")),
            ),
            ("link team <group:S123>", LinkGroup("team", "S123")),
            (
                "link team <group:S123|platform-devs>",
                LinkGroup("team", "S123"),
            ),
        ],
    )
    def test_valid_actions(self, text: str, expected: CommunityCommand) -> None:
        assert parse("/community", text) == expected

    def test_add_names_people_by_id_or_by_name(self) -> None:
        got = parse("community", "add team <@U123|bob> @carol <@!4567> @Dave.Smith")
        assert got == AddMembers(
            "team",
            (
                UserRef(user_id="U123", name="bob"),  # the name Slack escaped it with
                UserRef(name="carol"),
                UserRef(user_id="4567"),
                UserRef(name="dave.smith"),
            ),
        )

    def test_remove_names_people_too(self) -> None:
        got = parse("community", "remove @team <@U1>")
        assert got == RemoveMembers("team", (UserRef(user_id="U1"),))

    def test_at_most_fifty_people_at_once(self) -> None:
        fifty = " ".join(f"<@U{i}>" for i in range(50))
        assert len(parse("community", f"add team {fifty}").users) == 50  # type: ignore[union-attr]
        assert_refused(
            "community", f"add team {fifty} <@U50>", r"at most 50 people", "community add"
        )

    @pytest.mark.parametrize(
        ("text", "message", "usage_key"),
        [
            ("", r"say what to do with communities", "community"),
            ("frobnicate team", r"unknown /community action “frobnicate”", "community"),
            ("list team", r"/community list takes nothing more", "community list"),
            ("create", r"say which community", "community create"),
            ("create x", r"“x” is not a community handle", "community create"),
            (
                "create team " + "t" * 129,
                r"the title is too long \(at most 128 characters\)",
                "community create",
            ),
            ("delete team now", r"/community delete takes only a handle", "community delete"),
            ("join", r"say which community", "community join"),
            ("leave team please", r"/community leave takes only a handle", "community leave"),
            ("show Bad!Handle", r"“Bad!Handle” is not a community handle", "community show"),
            ("pin team extra", r"/community pin takes only a handle", "community pin"),
            ("subscribe team --twice", r"optionally --once", "community subscribe"),
            ("subscribe team --once --once", r"optionally --once", "community subscribe"),
            ("unsubscribe", r"say which community", "community unsubscribe"),
            ("add team", r"name at least one person", "community add"),
            ("add team bob", r"“bob” is not a person \(mention them with @\)", "community add"),
            ("add team <@U1> <#C1>", r"“<#C1>” is not a person", "community add"),
            ("remove team", r"name at least one person", "community remove"),
            ("link team", r"name one user group \(Slack\) or role \(Discord\)", "community link"),
            ("link team @devs", r"name one user group", "community link"),
            ("link team <group:S1> <group:S2>", r"name one user group", "community link"),
            (
                "set team",
                r"say what to set: strategy, mention, capacity, owner or escalate",
                "community set",
            ),
            ("set team colour blue", r"say what to set", "community set"),
            ("set team strategy", r"say what to set", "community set"),
            (
                "set team strategy fastest",
                r"strategy is one of least-recent, round-robin, random, longest-idle",
                "community set",
            ),
            (
                "set team mention nobody",
                r"mention is one of one, available, everyone",
                "community set",
            ),
            ("set team capacity 0", r"capacity is a number from 1 to 100", "community set"),
            ("set team capacity 101", r"capacity is a number from 1 to 100", "community set"),
            ("set team capacity many", r"capacity is a number from 1 to 100", "community set"),
            ("set team owner carol", r"“carol” is not a person", "community set"),
        ],
    )
    def test_invalid_actions(self, text: str, message: str, usage_key: str) -> None:
        assert_refused("community", text, message, usage_key)


# -- /available, /away, /busy -------------------------------------------------------------


class TestAvailability:
    @pytest.mark.parametrize(
        ("command", "text", "expected"),
        [
            ("available", "", SetAvailability(None, None, "")),
            ("available", "2h", SetAvailability(A.AVAILABLE, 7200.0, "")),
            ("away", "", SetAvailability(A.OFFLINE, None, "")),
            ("away", "1h30m lunch", SetAvailability(A.OFFLINE, 5400.0, "lunch")),
            ("away", "2d", SetAvailability(A.OFFLINE, 172800.0, "")),
            (
                "away",
                "1w conference in Lisbon",
                SetAvailability(A.OFFLINE, 604800.0, "conference in Lisbon"),
            ),
            ("away", "back   after lunch", SetAvailability(A.OFFLINE, None, "back after lunch")),
            ("away", "1m", SetAvailability(A.OFFLINE, 60.0, "")),
            ("away", "90d", SetAvailability(A.OFFLINE, 90 * 86400.0, "")),
            ("away", "60s", SetAvailability(A.OFFLINE, 60.0, "")),
            ("away", "90s", SetAvailability(A.OFFLINE, 90.0, "")),  # a minute and a half
            ("busy", "45m focus", SetAvailability(A.BUSY, 2700.0, "focus")),
            ("busy", "in the zone", SetAvailability(A.BUSY, None, "in the zone")),
            ("BUSY", "1H", SetAvailability(A.BUSY, 3600.0, "")),
            ("away", "1.5h", SetAvailability(A.OFFLINE, 5400.0, "")),
            ("away", "90m", SetAvailability(A.OFFLINE, 5400.0, "")),
            ("away", "2 hours lunch", SetAvailability(A.OFFLINE, 7200.0, "lunch")),
            ("busy", "for 45 mins focus", SetAvailability(A.BUSY, 2700.0, "focus")),
            ("available", "1 hour", SetAvailability(A.AVAILABLE, 3600.0, "")),
        ],
    )
    def test_valid(self, command: str, text: str, expected: SetAvailability) -> None:
        assert parse(command, text) == expected

    @pytest.mark.parametrize(
        ("command", "text", "message"),
        [
            ("away", "30s", r"a duration is between 1m and 90d"),
            ("away", "0m", r"a duration is between 1m and 90d"),
            ("busy", "91d", r"a duration is between 1m and 90d"),
            ("available", "59s", r"a duration is between 1m and 90d"),
            ("available", "now please", r"/available takes only an optional duration such as 2h"),
            ("available", "2h later", r"/available takes only an optional duration"),
            ("away", "n" * 101, r"the note is too long \(at most 100 characters\)"),
            ("busy", "1h " + "n" * 101, r"the note is too long"),
            ("away", "tomorrow", r"“tomorrow” is a time, not a duration: /away takes a duration"),
            ("away", "until 17:00", r"“until 17:00” is a time, not a duration: /away takes"),
            ("busy", "tonight call", r"“tonight” is a time, not a duration: /busy takes"),
            ("away", "-1h", r"“-1h” is not a duration: say 30m, 1.5h, 2 hours or 3d"),
            ("busy", "+2h lunch", r"“\+2h” is not a duration"),
            ("away", "−.5h", r"“−.5h” is not a duration"),
            ("busy", "3pm call", r"“3pm” is not a duration: say 30m, 1.5h, 2 hours or 3d"),
            ("away", "for lunch", r"“lunch” is not a duration"),
        ],
    )
    def test_invalid(self, command: str, text: str, message: str) -> None:
        assert_refused(command, text, message, command)

    def test_durations_under_a_minute_are_refused(self) -> None:
        assert parse("away", "60s").duration == 60.0  # type: ignore[union-attr]
        assert_refused("away", "59s", r"between 1m and 90d", "away")
        assert_refused("away", "30s lunch", r"between 1m and 90d", "away")

    @pytest.mark.parametrize(
        ("word", "seconds"),
        [
            ("90s", 90.0),
            ("30m", 1800.0),
            ("2h", 7200.0),
            ("1h30m", 5400.0),
            ("2d", 172800.0),
            ("1W", 604800.0),
            ("1d2h3m4s", 93784.0),
            ("1.5h", 5400.0),
            ("0.5d", 43200.0),
        ],
    )
    def test_durations(self, word: str, seconds: float) -> None:
        assert parse_duration(word) == seconds

    @pytest.mark.parametrize(
        "word", ["", "h", "2", "2x", "h2", "1h30", "-1h", "1.5", ".5h", "soon"]
    )
    def test_words_that_are_not_durations(self, word: str) -> None:
        assert parse_duration(word) is None


# -- /hours -------------------------------------------------------------------------------


class TestHours:
    @pytest.mark.parametrize(
        ("text", "label"),
        [
            ("09:00-17:00 Sun-Thu", "Sun-Thu"),
            ("09:00-17:00 sat,sun", "Sat,Sun"),
            ("09:00-17:00", "Mon-Fri"),
        ],
    )
    def test_days_are_kept_as_written(self, text: str, label: str) -> None:
        assert parse("hours", text).label == label  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("09:00-17:30 Mon-Fri Europe/Berlin", SetHours(540, 1050, MON_FRI, "Europe/Berlin")),
            ("09:00-17:30", SetHours(540, 1050, MON_FRI, None)),
            ("22:00-06:00", SetHours(1320, 360, MON_FRI, None)),
            ("9:00-17:00 America/New_York", SetHours(540, 1020, MON_FRI, "America/New_York")),
            ("08:00-12:00 Sat,Sun", SetHours(480, 720, frozenset({5, 6}), None)),
            ("08:00-12:00 mon", SetHours(480, 720, frozenset({0}), None)),
            ("08:00-12:00 Fri-Mon UTC", SetHours(480, 720, frozenset({4, 5, 6, 0}), "UTC")),
            (
                "08:00-12:00 Asia/Kolkata Tue-Thu",
                SetHours(480, 720, frozenset({1, 2, 3}), "Asia/Kolkata"),
            ),
            ("13:00-24:00", SetHours(780, 0, MON_FRI, None)),
            ("00:00-24:00 Mon-Sun", SetHours(0, 0, frozenset(range(7)), None)),
            ("off", SetHours(None)),
            ("09:00-17:00 europe/berlin", SetHours(540, 1020, MON_FRI, "Europe/Berlin")),
        ],
    )
    def test_valid(self, text: str, expected: SetHours) -> None:
        assert parse("hours", text) == expected

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", r"give your hours like 09:00-17:30"),
            ("09:00-17:00 Mon-Fri UTC extra", r"give your hours like 09:00-17:30"),
            ("off now", r"“off” is not a time range like 09:00-17:30"),
            ("9-5", r"“9-5” is not a time range like 09:00-17:30"),
            ("09:00–17:00", r"is not a time range"),  # an en dash
            ("25:00-26:00", r"hours run from 00:00 to 24:00"),
            ("24:00-08:00", r"hours run from 00:00 to 24:00"),
            ("09:60-17:00", r"hours run from 00:00 to 24:00"),
            ("09:00-24:30", r"hours run from 00:00 to 24:00"),
            ("09:00-09:00", r"the start and end of working hours are the same"),
            (
                "00:00-24:00 Mon-Sun Mars/Olympus",
                r"“Mars/Olympus” is neither days like Mon-Fri nor a time zone like Europe/Berlin",
            ),
            ("09:00-17:00 Funday", r"“Funday” is neither days"),
            ("09:00-17:00 Mon,,Tue", r"“Mon,,Tue” is neither days"),
        ],
    )
    def test_invalid(self, text: str, message: str) -> None:
        assert_refused("hours", text, message, "hours")


class TestUnknownCommands:
    @pytest.mark.parametrize("name", ["", "/", "/ask", "communities", "hours off"])
    def test_unknown_commands_are_refused_with_the_list_of_commands(self, name: str) -> None:
        err = refused(name, "anything")
        assert err.message.startswith("unknown command /")
        assert err.usage == (
            "/ask-available · /community · /available · /away · /busy · /hours · /asks · /help"
        )

    @pytest.mark.parametrize(
        ("name", "near"), [("communities", "/community"), ("awya", "/away"), ("hlep", "/help")]
    )
    def test_a_near_miss_names_the_command_meant(self, name: str, near: str) -> None:
        assert refused(name, "x").message.endswith(f"Did you mean {near}?")

    def test_help_is_a_command_everywhere(self) -> None:
        assert parse("help", "") == Help()
        assert parse("community", "help") == Help("community")


# -- typed commands: what Discord's options (and the API) build without any text ----------


class TestTypedCommands:
    """A command value that exists is valid: the same rules as the text, checked when built."""

    def test_a_handle_is_folded_and_a_message_kept_as_given(self) -> None:
        assert Ask("@Team", Mode.ONE, 1, "  --all please ") == Ask(
            "team", Mode.ONE, 1, "--all please"
        )
        assert JoinCommunity("@TEAM") == parse("community", "join team")

    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (lambda: Ask("Front End", Mode.ONE, 1, "hi"), r"“Front End” is not a community handle"),
            (lambda: Ask("team", Mode.ONE, 1, "  "), r"the message is empty"),
            (lambda: Ask("team", Mode.SOME, 0, "hi"), r"--count takes a number from 1 to 100"),
            (lambda: Ask("team", Mode.ONE, 3, "hi"), r"a number of people goes with --count"),
            (lambda: Ask("team", Mode.ONE, 1, "x" * 10_001), r"the message is too long"),
            (lambda: CreateCommunity("team", "t" * 129), r"the title is too long"),
            (lambda: AddMembers("team", ()), r"name at least one person"),
            (lambda: SetCapacity("team", 0), r"capacity is a number from 1 to 100"),
            (lambda: SetMentionMode("team", Mode.SOME), r"mention is one of"),
            (lambda: LinkGroup("team", ""), r"name one user group"),
            (lambda: AddEscalationStep("team", 30, "all"), r"a wait is between 1m and 7d"),
            (lambda: AddEscalationStep("team", 600, "@team"), r"cannot escalate to itself"),
            (lambda: SetAvailability(A.AVAILABLE, 3600, "x"), r"/available takes only"),
            (lambda: SetAvailability(A.BUSY, 10, ""), r"a duration is between 1m and 90d"),
        ],
    )
    def test_bad_values_are_refused_while_built(
        self, build: Callable[[], object], message: str
    ) -> None:
        with pytest.raises(CommandError, match=message):
            build()

    def test_a_note_given_apart_is_never_read_as_a_duration(self) -> None:
        assert set_availability("away", "", "2h lunch") == SetAvailability(
            A.OFFLINE, None, "2h lunch"
        )
        assert set_availability("busy", "45 mins", "focus") == SetAvailability(
            A.BUSY, 2700.0, "focus"
        )
        with pytest.raises(CommandError, match="“2h lunch” is not a duration"):
            set_availability("away", "2h lunch", "")

    def test_hours_from_parts(self) -> None:
        assert working_hours("09:00-17:30", "sun-thu", "europe/berlin") == SetHours(
            540, 1050, frozenset({6, 0, 1, 2, 3}), "Europe/Berlin"
        )
        assert working_hours("OFF") == SetHours(None)
        with pytest.raises(CommandError, match="“Mars” is not a time zone"):
            working_hours("09:00-17:00", "", "Mars")

    def test_a_setting_from_parts_reads_its_value_like_the_text(self) -> None:
        assert setting("team", "strategy", "Random") == SetStrategy("team", Strategy.RANDOM)
        assert setting("team", "owner", "<@U9>") == parse("community", "set team owner <@U9>")
        with pytest.raises(CommandError, match="capacity is a number"):
            setting("team", "capacity", "lots")

    def test_every_command_has_a_usage_line_and_no_usage_line_lacks_a_command(self) -> None:
        assert tuple(k for k in USAGE if " " not in k) == COMMANDS


# -- hostile numerals: refused, never a crash --------------------------------------------


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("ask-available", "team --count ² hi"),
        ("ask-available", "team --count=³ hi"),
        ("ask-available", "team --count " + "1" * 5000 + " hi"),
        ("community", "set team capacity ²"),
        ("community", "set team capacity " + "9" * 5000),
    ],
    ids=[
        "count-superscript",
        "count-inline-superscript",
        "count-5000-digits",
        "capacity-superscript",
        "capacity-5000-digits",
    ],
)
def test_odd_numerals_are_refused_not_crashed(command: str, text: str) -> None:
    refused(command, text)


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("away", "1" + "0" * 400 + "s"),
        ("busy", "9" * 5000 + "m back later"),
        ("available", "1" + "0" * 320 + "d"),
    ],
    ids=["away-400-digits", "busy-5000-digits", "available-320-digits"],
)
def test_enormous_durations_are_refused_not_crashed(command: str, text: str) -> None:
    assert_refused(command, text, r"a duration is between 1m and 90d", command)


def test_asks_takes_no_words() -> None:
    assert parse("asks", "  ") == MyAsks()
    with pytest.raises(CommandError, match="/asks takes nothing after it"):
        parse("asks", "open")


# -- properties ---------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec=None), max_size=60),
    st.text(
        alphabet=st.characters(categories=["Cc", "Zs", "Zl", "Zp", "Nd", "No", "Pd"]), max_size=60
    ),
    st.lists(
        st.sampled_from(
            [
                "<!channel>",
                "<!here>",
                "<@U1>",
                "@",
                "--",
                "--count",
                "\x00",
                "\u202e",
                "\u2028",
                "\r\n",
                " ",
                "🙂",
                "İ",
                "ß",
            ]
        ),
        max_size=20,
    ).map("".join),
    st.integers(1, 20_000).map(lambda n: "x" * n),
)


def parses_or_refuses(command: str, text: str) -> None:
    """A command comes back, or a CommandError with a message and a usage line; nothing else."""
    error: CommandError | None = None
    try:
        result = parse(command, text)
    except CommandError as err:
        error = err
    if error is not None:
        assert error.message
        assert error.usage
    else:
        assert isinstance(
            result, Ask | CommunityCommand | SetAvailability | SetHours | MyAsks | Help
        )


@settings(max_examples=200, deadline=None)
@given(command=st.sampled_from(COMMANDS), text=hostile_text)
def test_any_text_to_any_command_parses_or_is_refused(command: str, text: str) -> None:
    parses_or_refuses(command, text)


@settings(max_examples=200, deadline=None)
@given(
    command=st.one_of(
        st.text(max_size=40), st.sampled_from(COMMANDS).map(lambda c: f" /{c.upper()} ")
    ),
    text=hostile_text,
)
def test_any_command_name_parses_or_is_refused(command: str, text: str) -> None:
    parses_or_refuses(command, text)


handles = st.one_of(
    st.from_regex(r"@?[a-z0-9_-]{2,32}", fullmatch=True),
    st.from_regex(r"@?[A-Za-z0-9_.!-]{0,40}", fullmatch=True),
    st.text(max_size=10),
)
numbers = st.one_of(
    st.integers(-5, 200).map(str),
    st.integers(0, 10**30).map(str),
    st.sampled_from(["", "1.5", "1e3", "0x10", "one"]),
)
durations = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10**12), st.sampled_from("wdhmsWDHMSx")),
    st.lists(
        st.builds(lambda n, u: f"{n}{u}", st.integers(0, 999), st.sampled_from("wdhms")),
        min_size=1,
        max_size=4,
    ).map("".join),
)
mentions = st.one_of(
    st.builds(
        lambda i, n: f"<@{i}{n}>",
        st.from_regex(r"!?[A-Za-z0-9]{0,12}", fullmatch=True),
        st.sampled_from(["", "|bob", "|", "|<x>"]),
    ),
    st.from_regex(r"@[A-Za-z0-9._-]{0,70}", fullmatch=True),
    st.builds(lambda i: f"<group:{i}>", st.from_regex(r"[A-Za-z0-9|]{0,12}", fullmatch=True)),
    st.sampled_from(["<!channel>", "<!subteam^S1|@devs>", "<@&123>", "<#C1|general>"]),
)
times = st.builds(
    lambda h1, m1, h2, m2, sep: f"{h1}:{m1:02d}{sep}{h2}:{m2:02d}",
    st.integers(0, 30),
    st.integers(0, 70),
    st.integers(0, 30),
    st.integers(0, 70),
    st.sampled_from(["-", "–", "--", ""]),
)
days = st.one_of(
    st.lists(
        st.sampled_from(["Mon", "tue", "WED", "thursday", "Fri", "sat", "Sun", "xyz", ""]),
        min_size=1,
        max_size=3,
    ).map(lambda ds: st_join(ds)),
)
zones = st.sampled_from(
    ["Europe/Berlin", "UTC", "America/New_York", "utc", "Mars/Olympus", "Etc/GMT+5", "/", ".."]
)
flags = st.sampled_from(
    ["--one", "--all", "--everyone", "--count", "--count=", "--once", "--", "--x"]
)
keywords = st.sampled_from(
    [
        "create", "delete", "join", "leave", "add", "remove", "list", "show", "subscribe",
        "unsubscribe", "set", "link", "pin", "strategy", "mention", "capacity", "owner",
        "round-robin", "random", "longest-idle", "least-recent", "one", "available",
        "everyone", "off",
    ]
)  # fmt: skip
separators = st.sampled_from([" ", "  ", "\n", "\t", " \n "])


def st_join(parts: list[str]) -> str:
    return ",".join(parts) if len(parts) != 2 else "-".join(parts)


tokens = st.one_of(
    handles, numbers, durations, mentions, times, days, zones, flags, keywords, st.text(max_size=8)
)


@st.composite
def near_valid_lines(draw: st.DrawFn) -> tuple[str, str]:
    command = draw(st.sampled_from(COMMANDS))
    words = draw(st.lists(tokens, max_size=8))
    if command == "community" and draw(st.booleans()):
        words = [draw(keywords), draw(handles), *words]
    elif command == "ask-available" and draw(st.booleans()):
        words = [draw(handles), draw(flags), draw(numbers), *words]
    elif command == "hours" and draw(st.booleans()):
        words = [draw(times), draw(days), draw(zones)][: draw(st.integers(1, 4))] + words[:1]
    sep = draw(separators)
    return command, sep.join(words)


@settings(max_examples=200, deadline=None)
@given(line=near_valid_lines())
def test_near_valid_command_lines_parse_or_are_refused(line: tuple[str, str]) -> None:
    parses_or_refuses(*line)


@settings(max_examples=200, deadline=None)
@given(
    handle=st.from_regex(r"[a-z0-9_-]{2,32}", fullmatch=True),
    at=st.booleans(),
    upper=st.booleans(),
    flag=st.sampled_from(
        [
            ("", Mode.ONE, 1),
            ("--one", Mode.ONE, 1),
            ("--all", Mode.AVAILABLE, 1),
            ("--everyone", Mode.EVERYONE, 1),
            ("--count 7", Mode.SOME, 7),
        ]
    ),
    message=st.text(min_size=1, max_size=100).filter(  # a NUL is refused: test_awkward_text
        lambda s: s.strip() and not s.split()[0].startswith("--") and "\x00" not in s
    ),
)
def test_a_valid_request_always_parses_to_what_was_written(
    handle: str, at: bool, upper: bool, flag: tuple[str, Mode, int], message: str
) -> None:
    written = ("@" if at else "") + (handle.upper() if upper else handle)
    got = parse("ask-available", f"{written} {flag[0]} {message}")
    assert got == Ask(handle, flag[1], flag[2], message.strip())
