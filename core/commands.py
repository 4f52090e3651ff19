"""The command grammar, parsed once for every platform: text in, a command or a specific error out."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from core.domain import Mode, Strategy
from core.ports import Message
from core.presence.availability import Availability
from core.timewords import (
    HOURS_RE,
    MAX_DURATION,
    NOT_YET,
    NUMBER_RE,
    UNIT_OF,
    days_label,
    parse_days,
    parse_duration,
    zones,
)

# The longest ask passed on, in neutral characters: a page of text. The ask DM carries it
# whole, split over sections on Slack (3,000 each, well inside 40,000 a message) and over
# content, embeds and follow-on messages on Discord (buttons on the last); longer is
# refused on every path with this number in the reply.
MAX_MESSAGE = 10_000
USAGE = {
    "ask-available": "/ask-available <handle> [--one | --all | --count N | --everyone] <message>",
    "ask-available why": "/ask-available why [ask number]",
    "ask-available cancel": "/ask-available cancel [ask number]",
    "community": "/community create|delete|join|leave|add|remove|list|show|stats|subscribe|unsubscribe|set|link|pin|token|help …",
    "community create": "/community create <handle> [title]",
    "community delete": "/community delete <handle>",
    "community join": "/community join <handle>",
    "community leave": "/community leave <handle>",
    "community add": "/community add <handle> @user...",
    "community remove": "/community remove <handle> @user...",
    "community list": "/community list",
    "community show": "/community show <handle>",
    "community subscribe": "/community subscribe <handle> [--once]",
    "community unsubscribe": "/community unsubscribe <handle>",
    "community set": "/community set <handle> strategy|mention|capacity|owner <value>   |   escalate <duration> <@other-handle | all | everyone>   |   escalate off",
    "community stats": "/community stats <handle> [7d | 30d | 90d]",
    "community token": "/community token <handle> [revoke]",
    "community link": "/community link <handle> <@usergroup | @role>",
    "community pin": "/community pin <handle>",
    "available": "/available [duration]",
    "away": "/away [duration] [note]",
    "busy": "/busy [duration] [note]",
    "hours": "/hours <HH:MM-HH:MM> [Mon-Fri] [time zone]   |   /hours off",
    "asks": "/asks",
    "help": "/help   |   /community help",
}
COMMANDS = ("ask-available", "community", "available", "away", "busy", "hours", "asks", "help")
SLASH_COMMANDS = COMMANDS
COMMUNITY_ACTIONS = (*(k.split()[1] for k in USAGE if k.startswith("community ")), "help")
FLAGS = ("--one", "--all", "--count", "--everyone")

HANDLE_RE = re.compile(r"^[a-z0-9_-]{2,32}$")
USER_RE = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|([^>]*))?>$|^@([A-Za-z0-9._-]{1,64})$")
GROUP_RE = re.compile(r"^<group:([A-Za-z0-9]+)(?:\|[^>]*)?>$")
SMALL_NUMBER_RE = re.compile(r"[0-9]{1,3}")
SET_KEYS = {
    "strategy": [s.value for s in Strategy],
    "mention": ["one", "available", "everyone"],
    "capacity": ["<N>"],
    "owner": ["@user"],
    "escalate": ["<duration> <@other-handle | all | everyone>", "off"],
}
STATS_WINDOWS = {"7d": 7, "30d": 30, "90d": 90}
MAX_STEPS = 5


class CommandError(Exception):
    """What was wrong, and the usage line to show with it."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.message}\nTry: {self.usage}"

    def reply(self) -> Message:
        """The refusal as a reply: what was wrong, then the shape that works."""
        return Message((str(self),), failed=True)


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person named in a command: a platform id (`<@U1>`, with the name Slack escapes it
    with in `<@U1|alice>`) or a display name (`@alice`)."""

    user_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    handle: str
    mode: Mode
    count: int
    text: str


@dataclass(frozen=True, slots=True)
class CommunityCommand:
    """`/community <action> …`; fields unused by an action stay empty."""

    action: str
    handle: str = ""
    title: str = ""
    users: tuple[UserRef, ...] = ()
    key: str = ""
    value: str = ""
    once: bool = False


@dataclass(frozen=True, slots=True)
class SetAvailability:
    """`/available`, `/away`, `/busy`; availability None means back to automatic."""

    availability: Availability | None
    duration: float | None
    note: str


@dataclass(frozen=True, slots=True)
class SetHours:
    """`/hours`; start None means `/hours off`."""

    start_minute: int | None
    end_minute: int = 0
    days: frozenset[int] = frozenset()
    tz: str | None = None
    label: str = field(default="Mon-Fri", compare=False)  # the days as the user wrote them


@dataclass(frozen=True, slots=True)
class Why:
    """`/ask-available why [N]`: the stored audit of an ask (None: the caller's latest)."""

    request_id: int | None


@dataclass(frozen=True, slots=True)
class Cancel:
    """`/ask-available cancel [N]`: the caller calls off ask N (None: their latest open one)."""

    request_id: int | None


@dataclass(frozen=True, slots=True)
class Help:
    """`/help` or `/community help`: what can be typed, in full."""

    topic: str = ""


@dataclass(frozen=True, slots=True)
class MyAsks:
    """`/asks`: the caller's open asks and where each stands."""


Command = Ask | Why | Cancel | MyAsks | CommunityCommand | SetAvailability | SetHours | Help


def help_text(topic: str = "") -> str:
    """Every command's shape; `/community help` lists only the community actions."""
    keys = (
        [k for k in USAGE if k.startswith("community ")]
        if topic == "community"
        else [k for k in USAGE if k != "community"]
    )
    head = "Community actions:" if topic == "community" else "What you can type:"
    return "\n".join([head, *(f"  {USAGE[k]}" for k in keys if k != "help")])


def did_you_mean(word: str, options: list[str] | tuple[str, ...], prefix: str = "") -> str:
    """` Did you mean /community?` for a near miss, else nothing."""
    near = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return f" Did you mean {prefix}{near[0]}?" if near else ""


def parse(command: str, text: str) -> Command:
    """Parse `/command text`. Raises CommandError, never anything else."""
    name = command.strip().lstrip("/").lower()
    words = text.split()
    if name == "ask-available":
        if words and words[0].lower() == "why" and len(words) <= 2:
            return _why(words[1:])
        if words and words[0].lower() == "cancel" and len(words) <= 2:
            return _cancel(words[1:])
        return _ask(words, text)
    if name == "community":
        return _community(words, text)
    if name in ("available", "away", "busy"):
        return _availability(name, words)
    if name == "hours":
        return _hours(words)
    if name == "help":
        return Help()
    if name == "asks":
        if words:
            raise CommandError(
                f"/asks takes nothing after it (got “{_clip(words[0])}”); "
                "/ask-available why <number> reads one ask",
                USAGE["asks"],
            )
        return MyAsks()
    raise CommandError(
        f"unknown command /{_clip(name)}.{did_you_mean(name, COMMANDS, '/')}",
        " · ".join(f"/{c}" for c in COMMANDS),
    )


def handle_of(word: str, usage: str) -> str:
    """A community handle, with or without `@`, folded to lower case."""
    h = word.removeprefix("@").lower()
    if not HANDLE_RE.match(h):
        raise CommandError(
            f"“{_clip(word)}” is not a community handle (2–32 of a-z, 0-9, - and _)", usage
        )
    return h


def leading_duration(words: list[str], usage: str) -> tuple[float | None, list[str]]:
    """A duration at the start (`2h`, `1.5h`, `2 hours`, `for 90m`) and the words after it.

    What looks like a time but is not one we understand is refused in words, never
    swallowed into the note.
    """
    rest = words[1:] if words and words[0].lower() == "for" and len(words) > 1 else words
    if not rest:
        return None, words
    first = rest[0].lower()
    if len(rest) > 1 and NUMBER_RE.fullmatch(first) and rest[1].lower() in UNIT_OF:
        return parse_duration(first + UNIT_OF[rest[1].lower()]), rest[2:]
    if (seconds := parse_duration(first)) is not None:
        return seconds, rest[1:]
    if first in NOT_YET:
        raise CommandError(
            f"“{_clip(' '.join(rest[:2]))}” is a time of day, and I take only how long: "
            "say 2h, 90m or 1.5h",
            usage,
        )
    if first[:1].isdigit() or rest is not words:
        raise CommandError(
            f"“{_clip(rest[0])}” is not a duration: say 30m, 1.5h, 2 hours or 3d", usage
        )
    return None, words


def _why(words: list[str]) -> Why:
    """`why` alone, or `why 12` / `why #12` (a community called `why` is asked with a message)."""
    if not words:
        return Why(None)
    raw = words[0].removeprefix("#")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", raw):
        raise CommandError(f"“{_clip(words[0])}” is not an ask number", USAGE["ask-available why"])
    return Why(int(raw))


def _cancel(words: list[str]) -> Cancel:
    """`cancel` alone, or `cancel 12` / `cancel #12` (the numbers `/asks` shows)."""
    if not words:
        return Cancel(None)
    raw = words[0].removeprefix("#")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", raw):
        raise CommandError(
            f"“{_clip(words[0])}” is not an ask number (/asks shows your open asks' numbers)",
            USAGE["ask-available cancel"],
        )
    return Cancel(int(raw))


def _ask(words: list[str], text: str) -> Ask:
    usage = USAGE["ask-available"]
    if not words:
        raise CommandError("say which community to ask, and what", usage)
    handle = handle_of(words[0], usage)
    mode, count = Mode.ONE, 1
    rest = words[1:]
    seen_mode = False
    while rest and rest[0].startswith("--"):
        flag, _, inline = rest.pop(0).partition("=")
        if seen_mode:
            raise CommandError(
                "give one of --one, --all, --count N or --everyone, not several", usage
            )
        seen_mode = True
        if flag == "--one":
            mode = Mode.ONE
        elif flag == "--all":
            mode = Mode.AVAILABLE
        elif flag == "--everyone":
            mode = Mode.EVERYONE
        elif flag == "--count":
            raw = inline or (rest.pop(0) if rest else "")
            if not SMALL_NUMBER_RE.fullmatch(raw) or not 1 <= int(raw) <= 100:
                raise CommandError("--count takes a number from 1 to 100", usage)
            mode, count = Mode.SOME, int(raw)
        else:
            raise CommandError(f"unknown option {_clip(flag)}", usage)
    message = _rest_of(text, len(words) - len(rest))
    if not message:
        raise CommandError("the message is empty: say what you need", usage)
    refused = too_long(message)
    if refused:
        raise CommandError(refused, usage)
    return Ask(handle, mode, count, message)


def too_long(message: str) -> str | None:
    """Why a message is too long to pass on (naming the limit), or None if it fits."""
    n = len(message.strip())
    if n <= MAX_MESSAGE:
        return None
    return f"the message is too long: {n:,} characters, and an ask holds at most {MAX_MESSAGE:,}"


def _rest_of(text: str, skip_words: int) -> str:
    """The original text after `skip_words` words, spacing and line breaks kept."""
    rest = text.strip()
    for _ in range(skip_words):
        parts = rest.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()


def _community(words: list[str], text: str) -> CommunityCommand | Help:
    if not words:
        raise CommandError("say what to do with communities", USAGE["community"])
    action = words[0].lower()
    if action == "help" and len(words) == 1:
        return Help("community")
    key = f"community {action}"
    if key not in USAGE:
        hint = did_you_mean(action, COMMUNITY_ACTIONS)
        raise CommandError(
            f"unknown /community action “{_clip(words[0])}”.{hint}", USAGE["community"]
        )
    usage = USAGE[key]
    args = words[1:]
    if action == "list":
        if args:
            raise CommandError("/community list takes nothing more", usage)
        return CommunityCommand("list")
    if not args:
        raise CommandError("say which community", usage)
    handle = handle_of(args[0], usage)
    more = args[1:]
    if action == "create":
        title = _rest_of(text, 2)
        if len(title) > 128:
            raise CommandError("the title is too long (at most 128 characters)", usage)
        return CommunityCommand("create", handle, title=title)
    if action == "stats":
        if len(more) > 1 or (more and more[0].lower() not in STATS_WINDOWS):
            raise CommandError("the period is one of 7d, 30d, 90d (default 30d)", usage)
        return CommunityCommand("stats", handle, value=more[0].lower() if more else "30d")
    if action == "token":
        if more not in ([], ["revoke"]):
            raise CommandError("/community token takes a handle and optionally revoke", usage)
        return CommunityCommand("token", handle, value="revoke" if more else "")
    if action in ("delete", "join", "leave", "show", "unsubscribe", "pin"):
        if more:
            raise CommandError(f"/community {action} takes only a handle", usage)
        return CommunityCommand(action, handle)
    if action == "subscribe":
        if more not in ([], ["--once"]):
            raise CommandError("/community subscribe takes a handle and optionally --once", usage)
        return CommunityCommand("subscribe", handle, once=bool(more))
    if action in ("add", "remove"):
        if not more:
            raise CommandError("name at least one person", usage)
        if len(more) > 50:
            raise CommandError("at most 50 people at once", usage)
        return CommunityCommand(action, handle, users=tuple(_user(w, usage) for w in more))
    if action == "link":
        if len(more) != 1 or not GROUP_RE.match(more[0]):
            raise CommandError("name one user group (Slack) or role (Discord) to link", usage)
        m = GROUP_RE.match(more[0])
        assert m is not None
        return CommunityCommand("link", handle, value=m.group(1))
    # set
    if more and more[0].lower() == "escalate":
        return _escalate(handle, more[1:], usage)
    if len(more) != 2 or more[0].lower() not in SET_KEYS:
        raise CommandError(
            "say what to set: strategy, mention, capacity, owner or escalate, and the value", usage
        )
    setting, value = more[0].lower(), more[1]
    if setting == "strategy" and value.lower() not in SET_KEYS["strategy"]:
        raise CommandError(f"strategy is one of {', '.join(SET_KEYS['strategy'])}", usage)
    if setting == "mention" and value.lower() not in SET_KEYS["mention"]:
        raise CommandError("mention is one of one, available, everyone", usage)
    if setting == "capacity" and (
        not SMALL_NUMBER_RE.fullmatch(value) or not 1 <= int(value) <= 100
    ):
        raise CommandError("capacity is a number from 1 to 100", usage)
    if setting == "owner":
        ref = _user(value, usage)
        return CommunityCommand("set", handle, key="owner", users=(ref,))
    return CommunityCommand("set", handle, key=setting, value=value.lower())


def _escalate(handle: str, args: list[str], usage: str) -> CommunityCommand:
    """`escalate 10m @other`, `escalate 30m all`, `escalate 1h everyone`, `escalate off`."""
    if [a.lower() for a in args] == ["off"]:
        return CommunityCommand("set", handle, key="escalate", value="off")
    if len(args) != 2:
        raise CommandError("give a wait and whom to widen to, e.g. escalate 10m @on-call-db", usage)
    seconds = parse_duration(args[0])
    if seconds is None or not 60 <= seconds <= 7 * 86400:
        raise CommandError(f"“{_clip(args[0])}” is not a wait between 1m and 7d", usage)
    target = args[1].lower()
    if target not in ("all", "everyone"):
        if not target.startswith("@"):
            raise CommandError("widen to @another-community, all or everyone", usage)
        target = "@" + handle_of(target, usage)
        if target == f"@{handle}":
            raise CommandError(f"@{handle} cannot escalate to itself: use all or everyone", usage)
    return CommunityCommand("set", handle, key="escalate", value=f"{int(seconds)} {target}")


def _user(word: str, usage: str) -> UserRef:
    m = USER_RE.match(word)
    if not m:
        raise CommandError(f"“{_clip(word)}” is not a person (mention them with @)", usage)
    if m.group(1):
        label = (m.group(2) or "").strip()[:64]
        return UserRef(user_id=m.group(1), name=label or None)
    return UserRef(name=m.group(3).lower())


def _availability(name: str, words: list[str]) -> SetAvailability:
    usage = USAGE[name]
    duration, words = leading_duration(words, usage)
    if duration is not None and not 60 <= duration <= MAX_DURATION:
        raise CommandError("a duration is between 1m and 90d", usage)
    note = " ".join(words)
    if name == "available":
        if note:
            raise CommandError("/available takes only an optional duration such as 2h", usage)
        return SetAvailability(Availability.AVAILABLE if duration else None, duration, "")
    if len(note) > 100:
        raise CommandError("the note is too long (at most 100 characters)", usage)
    availability = Availability.OFFLINE if name == "away" else Availability.BUSY
    return SetAvailability(availability, duration, note)


def _hours(words: list[str]) -> SetHours:
    usage = USAGE["hours"]
    if words == ["off"]:
        return SetHours(None)
    if not words or len(words) > 3:
        raise CommandError("give your hours like 09:00-17:30", usage)
    m = HOURS_RE.match(words[0])
    if not m:
        raise CommandError(f"“{_clip(words[0])}” is not a time range like 09:00-17:30", usage)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise CommandError("hours run from 00:00 to 24:00", usage)
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise CommandError("the start and end of working hours are the same", usage)
    days, tz, label = frozenset(range(5)), None, "Mon-Fri"
    for word in words[1:]:
        parsed = parse_days(word)
        if parsed is not None:
            days, label = parsed, days_label(word)
        elif word.lower() in zones():
            tz = zones()[word.lower()]
        else:
            raise CommandError(
                f"“{_clip(word)}” is neither days like Mon-Fri nor a time zone like Europe/Berlin",
                usage,
            )
    return SetHours(start, end % 1440, days, tz, label)


def _clip(word: str, limit: int = 40) -> str:
    """Echo user input back short, so an error never becomes a wall of text."""
    return word if len(word) <= limit else word[: limit - 1] + "…"
