"""`:home` — the Slack home tab's read model (core/views.py) as lines of text."""

from __future__ import annotations

from core.views import Home


def home_text(h: Home) -> str:
    """Your availability, your communities with who is free, others to join, subscriptions."""
    lines = [f"You: {h.me_detail}", ""]
    if h.mine:
        lines.append("Your communities")
        for card in h.mine:
            title = f" — {card.title}" if card.title else ""
            lines.append(f"  @{card.handle}{title}: {card.available} of {card.total} available")
            for m in card.members:
                owner = " (owner)" if m.owner else ""
                lines.append(f"    {m.name}{owner}: {m.detail}")
            if card.total > len(card.members):
                lines.append(f"    … and {card.total - len(card.members)} more")
        if h.more_mine:
            lines.append(f"  … and {h.more_mine} more communities")
    else:
        lines.append("You are in no community yet: /community join <handle>")
    if h.joinable:
        lines += ["", "Others to join"]
        lines += [f"  @{handle}" + (f" — {title}" if title else "") for handle, title in h.joinable]
    if h.subscriptions:
        lines += ["", "You hear when someone is available in"]
        lines += [f"  @{handle}" + (" (once)" if once else "") for handle, once in h.subscriptions]
    return "\n".join(lines)
