"""`/community <action> …` as text: the sub-grammar, one typed command per action.

`setting` also serves Discord, whose `/community set` hands over the setting and its value
apart: both paths read a value the same way.
"""

from __future__ import annotations

import re

from core.commands.actions import Help
from core.commands.community_actions import (
    COMMUNITY_ACTIONS,
    AddEscalationStep,
    AddMembers,
    ClearEscalation,
    CommunityCommand,
    CommunityStats,
    CommunityToken,
    CreateCommunity,
    DeleteCommunity,
    JoinCommunity,
    LeaveCommunity,
    LinkGroup,
    ListCommunities,
    MakeOwner,
    OnCommunity,
    PinCommunity,
    RemoveMembers,
    SetCapacity,
    SetMentionMode,
    SetStrategy,
    ShowCommunity,
    Subscribe,
    Unsubscribe,
    UserRef,
)
from core.commands.rules import (
    MAX_COUNT,
    MAX_PEOPLE,
    MAX_WAIT,
    MIN_WAIT,
    CommandError,
    clip,
    did_you_mean,
    handle_of,
)
from core.domain import Mode, Strategy
from core.texts.help import USAGE
from core.timewords import parse_duration

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
HANDLE_ONLY: dict[str, type[OnCommunity]] = {
    "delete": DeleteCommunity,
    "join": JoinCommunity,
    "leave": LeaveCommunity,
    "show": ShowCommunity,
    "unsubscribe": Unsubscribe,
    "pin": PinCommunity,
}


def community(words: list[str], text: str) -> CommunityCommand | Help:
    """The words after `/community` (and the text they came from, for a title's spacing)."""
    if not words:
        raise CommandError("say what to do with communities", USAGE["community"])
    action = words[0].lower()
    if action == "help" and len(words) == 1:
        return Help("community")
    key = f"community {action}"
    if key not in USAGE:
        hint = did_you_mean(action, COMMUNITY_ACTIONS)
        raise CommandError(
            f"unknown /community action “{clip(words[0])}”.{hint}", USAGE["community"]
        )
    usage = USAGE[key]
    args = words[1:]
    if action == "list":
        if args:
            raise CommandError("/community list takes nothing more", usage)
        return ListCommunities()
    if not args:
        raise CommandError("say which community", usage)
    handle = handle_of(args[0], usage)
    more = args[1:]
    if action == "create":
        return CreateCommunity(handle, title=rest_of(text, 2))
    if action == "stats":
        if len(more) > 1 or (more and more[0].lower() not in STATS_WINDOWS):
            raise CommandError("the period is one of 7d, 30d, 90d (default 30d)", usage)
        return CommunityStats(handle, STATS_WINDOWS[more[0].lower()] if more else 30)
    if action == "token":
        if more not in ([], ["revoke"]):
            raise CommandError("/community token takes a handle and optionally revoke", usage)
        return CommunityToken(handle, revoke=bool(more))
    if action in HANDLE_ONLY:
        if more:
            raise CommandError(f"/community {action} takes only a handle", usage)
        return HANDLE_ONLY[action](handle)
    if action == "subscribe":
        if more not in ([], ["--once"]):
            raise CommandError("/community subscribe takes a handle and optionally --once", usage)
        return Subscribe(handle, once=bool(more))
    if action in ("add", "remove"):
        if len(more) > MAX_PEOPLE:  # said before reading a long list, person by person
            raise CommandError(f"at most {MAX_PEOPLE} people at once", usage)
        people = AddMembers if action == "add" else RemoveMembers
        return people(handle, tuple(user_ref(w, usage) for w in more))
    if action == "link":
        m = GROUP_RE.match(more[0]) if len(more) == 1 else None
        if m is None:
            raise CommandError("name one user group (Slack) or role (Discord) to link", usage)
        return LinkGroup(handle, m.group(1))
    # set
    if more and more[0].lower() == "escalate":
        return _escalate(handle, more[1:], usage)
    if len(more) != 2 or more[0].lower() not in SET_KEYS:
        raise CommandError(
            "say what to set: strategy, mention, capacity, owner or escalate, and the value", usage
        )
    return setting(handle, more[0], more[1])


def setting(handle: str, key: str, value: str) -> CommunityCommand:
    """`/community set <handle> strategy|mention|capacity|owner <value>` from its parts."""
    usage = USAGE["community set"]
    key, word = key.lower(), value.strip().lower()
    if key == "strategy":
        if word not in SET_KEYS["strategy"]:
            raise CommandError(f"strategy is one of {', '.join(SET_KEYS['strategy'])}", usage)
        return SetStrategy(handle, Strategy(word))
    if key == "mention":
        if word not in SET_KEYS["mention"]:
            raise CommandError("mention is one of one, available, everyone", usage)
        return SetMentionMode(handle, Mode(word))
    if key == "capacity":
        if not SMALL_NUMBER_RE.fullmatch(word) or not 1 <= int(word) <= MAX_COUNT:
            raise CommandError(f"capacity is a number from 1 to {MAX_COUNT}", usage)
        return SetCapacity(handle, int(word))
    if key == "owner":
        return MakeOwner(handle, user_ref(value.strip(), usage))
    raise CommandError(
        "say what to set: strategy, mention, capacity, owner or escalate, and the value", usage
    )


def user_ref(word: str, usage: str) -> UserRef:
    """`<@U1>`, `<@U1|alice>`, `<@!1234>` (a platform id) or `@alice` (a name)."""
    m = USER_RE.match(word)
    if not m:
        raise CommandError(f"“{clip(word)}” is not a person (mention them with @)", usage)
    if m.group(1):
        label = (m.group(2) or "").strip()[:64]
        return UserRef(user_id=m.group(1), name=label or None)
    return UserRef(name=m.group(3).lower())


def rest_of(text: str, skip_words: int) -> str:
    """The original text after `skip_words` words, spacing and line breaks kept."""
    rest = text.strip()
    for _ in range(skip_words):
        parts = rest.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()


def _escalate(handle: str, args: list[str], usage: str) -> CommunityCommand:
    """`escalate 10m @other`, `escalate 30m all`, `escalate 1h everyone`, `escalate off`."""
    if [a.lower() for a in args] == ["off"]:
        return ClearEscalation(handle)
    if len(args) != 2:
        raise CommandError("give a wait and whom to widen to, e.g. escalate 10m @on-call-db", usage)
    seconds = parse_duration(args[0])
    if seconds is None or not MIN_WAIT <= seconds <= MAX_WAIT:
        raise CommandError(f"“{clip(args[0])}” is not a wait between 1m and 7d", usage)
    return AddEscalationStep(handle, int(seconds), args[1])
