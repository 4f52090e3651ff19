"""`/community …` in words: what each action answers, why it refuses, and what subscribers,
pinned views and escalation descriptions say."""

from __future__ import annotations

from collections.abc import Sequence

from core.ports import Mention, Message, Part
from core.presence.availability import Verdict
from core.texts.availability import line
from core.texts.lists import listing, names
from core.texts.time import span

# -- reading --------------------------------------------------------------------------------

NONE_YET = "No communities yet. Start one: /community create <handle> [title]"


def list_line(handle: str, title: str, free: int, total: int, mine: bool) -> str:
    """`• @frontend — Reviewers: 2 of 5 available (you're in it)`."""
    return f"• @{handle}{f' — {title}' if title else ''}: {free} of {total} available" + (
        " (you're in it)" if mine else ""
    )


def card_head(
    handle: str,
    title: str,
    free: int,
    total: int,
    *,
    strategy: str,
    mention: str,
    capacity: int,
    subscribers: int,
) -> list[Part]:
    """The first lines of `/community show`: counts and every setting."""
    return [
        f"@{handle}{f' — {title}' if title else ''}: {free} of {total} available",
        f" · strategy {strategy} · @-mention asks {mention} · capacity {capacity}"
        f" · {subscribers} subscriber{'s' if subscribers != 1 else ''}",
    ]


def escalation_line(steps: str) -> str:
    return f"\nEscalation: {steps}"


def member_line(name: str, owner: bool, detail: str) -> str:
    return f"\n{name}{' (owner)' if owner else ''}: {detail}"


def and_more(count: int, *, newline: bool = True) -> str:
    """`…and 12 more`: the members a view had no room for."""
    return f"{chr(10) if newline else ''}…and {count} more"


def standing_view(
    handle: str, free: int, total: int, members: Sequence[tuple[str, Verdict]], now: float
) -> Message:
    """A community's pinned availability (no mentions, no ages: it must not ping or go stale)."""
    lines = [f"@{handle} availability — {free} of {total} available"]
    lines += [line(name, v, "UTC", now) for name, v in members]
    if total > len(members):
        lines.append(and_more(total - len(members), newline=False))
    return Message.of("\n".join(lines))


def step(after: int, target: str) -> str:
    """`after 10m: everyone available`: one escalation step."""
    whom = {"all": "everyone available", "everyone": "everyone in the community"}.get(
        target, target
    )
    return f"after {span(after)}: {whom}"


def steps(described: Sequence[str]) -> str:
    return " → ".join(described)


# -- changing -------------------------------------------------------------------------------


def created(handle: str) -> str:
    return f"Created @{handle}; you're its owner. Add people with /community add {handle} @someone."


def deleted(handle: str) -> str:
    return f"Deleted @{handle}."


def joined(handle: str, *, already: bool) -> str:
    return f"You're already in @{handle}." if already else f"You joined @{handle}."


def left(handle: str) -> str:
    return f"You left @{handle}."


def added(handle: str, new: Sequence[Mention], already: Sequence[Mention]) -> Message:
    """`Added to @x: @a, @b. Already in it: @c.`"""
    parts: list[Part] = []
    if new:
        parts += [f"Added to @{handle}: ", *listing(new, len(new)), "."]
    if already:
        parts += [
            " Already in it: " if parts else "Already in it: ",
            *listing(already, len(already)),
            ".",
        ]
    return Message(tuple(parts))


def removed(handle: str, count: int) -> str:
    return f"Removed {count} from @{handle}." if count else f"None of them were in @{handle}."


def subscribed(handle: str, *, once: bool) -> str:
    if once:
        return f"I'll tell you once when someone in @{handle} becomes available."
    return (
        f"Subscribed: I'll tell you when availability in @{handle} changes. "
        f"/community unsubscribe {handle} to stop."
    )


def unsubscribed(handle: str, *, was: bool) -> str:
    return f"Unsubscribed from @{handle}." if was else f"You weren't subscribed to @{handle}."


def now_owner(name: str, handle: str) -> str:
    return f"{name} is now an owner of @{handle}."


def setting_changed(handle: str, key: str, value: str) -> str:
    return f"@{handle}: {key} is now {value}."


def escalation_off(handle: str) -> str:
    return f"@{handle}: escalation is off."


def escalates(handle: str, steps: str) -> str:
    return f"@{handle}: an unanswered --one or --count ask escalates {steps}."


def linked(handle: str, mode: str) -> str:
    return f"Linked: mentioning that group now asks @{handle} ({mode})."


def pinned(handle: str, *, moved: bool) -> str:
    if moved:
        return (
            f"Moved @{handle}'s availability down here (the earlier one in this channel is gone)."
        )
    return f"Pinned @{handle}'s availability here; I'll keep it current."


def token_issued(handle: str, token: str) -> str:
    return (
        f"API token for @{handle} (shown once; any earlier token stops working):\n"
        f"{token}\n"
        "Send it as `Authorization: Bearer <token>` to POST /api/v1/asks; asks made with it "
        "are made on your behalf, and you are told how they go."
    )


def token_revoked(handle: str, *, had: bool) -> str:
    if not had:
        return f"@{handle} has no API token to revoke."
    return f"Revoked @{handle}'s API token: asks made with it are refused from now on."


# -- refusals (each with the usage line that works, added by CommandError) ---------------


def no_such(handle: str, hint: str = "") -> str:
    """`hint`: ` Did you mean @frontend?` for a near miss, else nothing."""
    named = handle if handle.startswith("@") else "@" + handle
    return (
        f"there is no community {named} here.{hint}"
        if hint
        else f"there is no community {named} here"
    )


def exists(handle: str) -> str:
    return f"@{handle} already exists; join it with /community join {handle}"


def owners_only(handle: str, what: str) -> str:
    return f"only owners of @{handle} can {what}"


def members_only(handle: str, what: str) -> str:
    return f"only members of @{handle} can {what}"


def still_open(handle: str, count: int) -> str:
    return f"@{handle} has {count} open request(s); delete it once they close"


def not_in(handle: str) -> str:
    return f"you're not in @{handle}"


def only_member(handle: str) -> str:
    return (
        f"you're the only member of @{handle}: leaving would strand it without "
        f"an owner; /community delete {handle} removes it instead"
    )


def last_owner(handle: str) -> str:
    return (
        f"you're the last owner of @{handle}: hand it over first "
        f"(/community set {handle} owner @someone), then leave; "
        f"or /community delete {handle}"
    )


def ownerless(handle: str) -> str:
    return f"that would leave @{handle} without an owner"


def not_a_member(name: str, handle: str) -> str:
    return f"{name} is not in @{handle}; add them first"


def group_taken(handle: str) -> str:
    return f"that group is already linked to @{handle}"


PIN_WHERE = "run /community pin in the channel where it should live"


def too_many_steps(handle: str, limit: int) -> str:
    return (
        f"@{handle} already has {limit} escalation steps; "
        f"clear them with /community set {handle} escalate off"
    )


def unknown_person(name: str) -> str:
    return f"I don't know @{name} here"


def ambiguous(name: str, tokens: Sequence[str]) -> str:
    """The question asked when a name fits several people: each is mentioned (neutral `<@id>`
    tokens, rendered per platform), so the platform shows who they are."""
    count = {2: "two", 3: "three"}.get(len(tokens), f"{len(tokens)}")
    more = "at least " if len(tokens) >= 10 else ""
    who = names(tokens, len(tokens))
    return f"{more}{count} people are called {name}: {who} — which? Mention the one you mean"


# -- pushed to subscribers (core.subscriptions) ----------------------------------------------


def someone_available(handle: str, people: Sequence[Mention]) -> Message:
    return Message((f"Someone in @{handle} is available now: ", *listing(people, len(people))))


def changed(handle: str, moves: Sequence[tuple[Mention, str]]) -> Message:
    """`@frontend: @bob is now available: online; @carol is now busy: do-not-disturb`."""
    parts: list[Part] = [f"@{handle}: "]
    for i, (person, described) in enumerate(moves):
        parts += ["; " if i else "", person, f" is now {described}"]
    return Message(tuple(parts))
