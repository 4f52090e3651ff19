"""What can be typed: each command's usage line (shown with every refusal) and `/help`."""

from __future__ import annotations

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


def help_text(topic: str = "") -> str:
    """Every command's shape; `/community help` lists only the community actions."""
    keys = (
        [k for k in USAGE if k.startswith("community ")]
        if topic == "community"
        else [k for k in USAGE if k != "community"]
    )
    head = "Community actions:" if topic == "community" else "What you can type:"
    return "\n".join([head, *(f"  {USAGE[k]}" for k in keys if k != "help")])


def commands_line(commands: tuple[str, ...]) -> str:
    """`/ask-available · /community · …`: the usage line of an unknown command."""
    return " · ".join(f"/{c}" for c in commands)
