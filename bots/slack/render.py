"""Neutral messages to Slack Block Kit, within Slack's limits, nothing cut.

Text is encoded once (bots/slack/mrkdwn.py), where mass mentions die: literal text is
escaped, so `<!channel>`, `<!here>`, `<!everyone>` typed by a user reach Slack as inert
text, and user groups leave as their label. Long text is split over sections (3,000
characters each) and, past 50 blocks or 40,000 characters, over several messages.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from bots.slack.mrkdwn import USER_ID_RE, decode, encode, escape
from core.ports import Button, Mention, Message
from core.richtext import split

__all__ = ["decode", "escape", "payloads", "text_of"]

ACTION_IDS = {
    "accept": "groupcast_accept",
    "decline": "groupcast_decline",
    "subscribe-once": "groupcast_subscribe_once",
}
BUTTON_STYLE = {"accept": "primary", "decline": "danger"}
SECTION_MAX = 3000  # characters in a section's text
MESSAGE_BLOCKS = 50  # blocks in a message
MESSAGE_MAX = 40_000  # characters in a message
# Never split inside Slack markup (`<@U1>`, `<https://…|label>`) or an entity (`&amp;`).
ATOMS = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);")


def mention(m: Mention) -> str:
    """`<@U…>` notifies exactly that person; anything that is not a user id stays plain."""
    if USER_ID_RE.match(m.user_id):
        return f"<@{m.user_id}>"
    return escape(f"@{m.name}")


def text_of(message: Message) -> str:
    """The whole message as Slack mrkdwn, encoded once."""
    return "".join(mention(p) if isinstance(p, Mention) else encode(p) for p in message.parts)


def button(b: Button) -> ButtonElement:
    """A Block Kit button whose action id names what the core should do with its value."""
    return ButtonElement(
        text=b.label[:75],
        action_id=ACTION_IDS.get(b.action, f"groupcast_{b.action}"),
        value=b.value[:2000],
        style=BUTTON_STYLE.get(b.action),
    )


def payloads(message: Message) -> list[dict[str, Any]]:
    """`text` plus `blocks` for chat.postMessage / chat.update / chat.postEphemeral: one per
    Slack message needed, each within Slack's limits; the buttons ride on the last."""
    sections = split(text_of(message), SECTION_MAX, ATOMS) or [" "]
    groups: list[list[str]] = [[]]
    size = 0
    room = MESSAGE_BLOCKS - (1 if message.buttons else 0)
    for section in sections:
        if groups[-1] and (len(groups[-1]) >= room or size + len(section) > MESSAGE_MAX):
            groups.append([])
            size = 0
        groups[-1].append(section)
        size += len(section)
    out: list[dict[str, Any]] = []
    for i, group in enumerate(groups):
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=s if s.strip() else " ")) for s in group
        ]
        if message.buttons and i == len(groups) - 1:
            blocks.append(
                ActionsBlock(block_id="groupcast", elements=[button(b) for b in message.buttons])
            )
        out.append({"text": "".join(group) or " ", "blocks": [b.to_dict() for b in blocks]})
    return out
