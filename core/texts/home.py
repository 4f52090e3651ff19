"""A person's home page in words: Slack's App Home tab and the shell's `:home` say the same
things (each adds only its own markup)."""

from __future__ import annotations

ME = "Your availability"
MINE = "Your communities"
JOINABLE = "Communities to join"
SUBSCRIPTIONS = "Your subscriptions"
NO_COMMUNITY = "You're in no community yet. Join one below or /community create."
NOTHING_TO_JOIN = "Nothing else to join here yet."
NO_SUBSCRIPTIONS = "None. /community subscribe <handle> to follow a community's availability."
BUTTONS = {"available": "Available", "away": "Away 1h", "busy": "Busy 1h", "join": "Join"}


def you(detail: str) -> str:
    return f"You: {detail}"


def community(handle: str, title: str) -> str:
    """`@frontend — Frontend reviewers`."""
    return f"@{handle}" + (f" — {title}" if title else "")


def counts(available: int, total: int) -> str:
    return f"{available} of {total} available"


def more_members(count: int, handle: str) -> str:
    return f"…and {count} more: /community show {handle}"


def more_communities(count: int) -> str:
    return f"…and {count} more: /community list"


def subscription(handle: str, once: bool) -> str:
    return f"@{handle}" + (" (once)" if once else "")


def escalation(steps: str) -> str:
    return f"Escalation: {steps}"
