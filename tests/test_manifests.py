"""The app manifests ask for exactly what the code uses: Slack's slash commands, bot events and
OAuth scopes against what bots/slack registers and calls, and both platforms' commands against
the core's grammar (least privilege: an unused scope fails here as surely as a missing one).

The Discord command tree itself is compared option by option in test_discord_units.py.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import yaml

from bots.slack import app as slack_app
from core.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
SLACK = yaml.safe_load((ROOT / "manifests" / "slack.yaml").read_text())
DISCORD = json.loads((ROOT / "manifests" / "discord.json").read_text())

# The bot scopes each Web API method needs (api.slack.com/methods); an empty set needs none.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.getPermalink": set(),
    "conversations.open": {"im:write"},  # the DM channel with a person
    # Looked up after an ambiguous post: in our DMs, and in channel threads (public or private).
    "conversations.history": {"im:history", "channels:history", "groups:history"},
    "conversations.replies": {"im:history", "channels:history", "groups:history"},
    "views.publish": set(),
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "users.getPresence": {"users:read"},
    "dnd.teamInfo": {"dnd:read"},
}

# The bot scopes each event subscription needs (api.slack.com/events).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_uninstalled": set(),
    "tokens_revoked": set(),
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
    "reaction_added": {"reactions:read"},
    "dnd_updated_user": {"dnd:read"},
    "user_change": {"users:read"},
    "user_status_changed": {"users:read"},
    "user_huddle_changed": {"users:read"},
}

CALL_RE = re.compile(r"\._?call\(\s*(?:\w+,\s*)?\"([a-z]+\.[A-Za-z]+)\"")
CLIENT_RE = re.compile(r"\bclient\.(auth|chat|conversations|users|dnd|views)_([A-Za-z]+)\(")


def methods_called() -> set[str]:
    """Every Web API method bots/slack calls, through the platform's `call` or the sdk client."""
    found: set[str] = set()
    for path in (ROOT / "bots" / "slack").glob("*.py"):
        source = path.read_text()
        found |= set(CALL_RE.findall(source))
        found |= {f"{family}.{name}" for family, name in CLIENT_RE.findall(source)}
    return found


def events_registered() -> set[str]:
    """The event types the Slack adapter listens to (bots/slack/app.py, and workspaces.py for
    OAuth installs): `app.event("x")`, or `app.event(kind)` inside `for kind in ("x", "y")`."""
    found: set[str] = set()
    for name in ("app.py", "workspaces.py"):
        found |= _events_in(ast.parse((ROOT / "bots" / "slack" / name).read_text()))
    return found


def _events_in(tree: ast.Module) -> set[str]:
    loops: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            elts = node.iter.elts if isinstance(node.iter, ast.Tuple | ast.List) else []
            if elts and all(isinstance(e, ast.Constant) for e in elts):
                loops[node.target.id] = [ast.literal_eval(e) for e in elts]
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "event"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "app"
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant):
                found.add(arg.value)
            else:
                assert isinstance(arg, ast.Name) and arg.id in loops, ast.unparse(node)
                found |= set(loops[arg.id])
    return found


def test_slack_slash_commands_are_the_registered_commands_and_the_grammar() -> None:
    declared = {c["command"].removeprefix("/") for c in SLACK["features"]["slash_commands"]}
    assert declared == set(slack_app.COMMANDS), "manifest and app.command(...) differ"
    assert declared == set(COMMANDS), "the Slack app lacks a command of the core's grammar"


def test_slack_bot_events_are_the_events_listened_to() -> None:
    declared = set(SLACK["settings"]["event_subscriptions"]["bot_events"])
    as_bolt_sees_them = {e.split(".")[0] for e in declared}  # message.channels arrives as message
    assert as_bolt_sees_them == events_registered()


def test_slack_scopes_are_exactly_those_the_calls_and_events_need() -> None:
    called = methods_called()
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES"
    events = set(SLACK["settings"]["event_subscriptions"]["bot_events"])
    needed = {"commands"} if SLACK["features"]["slash_commands"] else set()
    for method in called:
        needed |= METHOD_SCOPES[method]
    for event in events:
        needed |= EVENT_SCOPES[event]
    granted = set(SLACK["oauth_config"]["scopes"]["bot"])
    assert granted - needed == set(), "requested but unused"
    assert needed - granted == set(), "used but not requested"


def test_the_methods_table_is_not_stale() -> None:
    assert set(METHOD_SCOPES) == methods_called(), "a method no longer called is still listed"


def test_discord_commands_are_the_grammar_and_every_option_is_described() -> None:
    commands = DISCORD["commands"]
    assert {c["name"] for c in commands} == set(COMMANDS)

    def described(options: list[dict[str, object]]) -> None:
        for option in options:
            text = str(option.get("description", ""))
            assert text and text not in ("…", "..."), option["name"]
            described(option.get("options") or [])  # type: ignore[arg-type]

    for command in commands:
        assert command["description"] not in ("…", "...")
        described(command.get("options") or [])
