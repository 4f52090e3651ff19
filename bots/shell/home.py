"""`:home` — the Slack home tab's read model (core/views.py) as lines of text."""

from __future__ import annotations

from core.texts import home as texts
from core.views import Home


def home_text(h: Home) -> str:
    """Your availability, your communities with who is free, others to join, subscriptions."""
    lines = [texts.you(h.me_detail), ""]
    lines.append(texts.MINE)
    if not h.mine:
        lines.append(f"  {texts.NO_COMMUNITY}")
    for card in h.mine:
        head = texts.community(card.handle, card.title)
        lines.append(f"  {head}: {texts.counts(card.available, card.total)}")
        for m in card.members:
            owner = " (owner)" if m.owner else ""
            lines.append(f"    {m.name}{owner}: {m.detail}")
        if card.total > len(card.members):
            lines.append(f"    {texts.more_members(card.total - len(card.members), card.handle)}")
    if h.more_mine:
        lines.append(f"  {texts.more_communities(h.more_mine)}")
    if h.joinable:
        lines += ["", texts.JOINABLE]
        lines += [f"  {texts.community(handle, title)}" for handle, title in h.joinable]
    if h.subscriptions:
        lines += ["", texts.SUBSCRIPTIONS]
        lines += [f"  {texts.subscription(handle, once)}" for handle, once in h.subscriptions]
    return "\n".join(lines)
