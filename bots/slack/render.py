"""Neutral messages to Slack markup and Slack syntax to the core's neutral forms, in one place.

Rendering is where mass mentions die: every plain part is escaped, so `<!channel>`,
`<!here>`, `<!everyone>` and `<!subteam^…>` typed by a user reach Slack as inert text.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from core.ports import Button, Mention, Message

ACTION_IDS = {
    "accept": "groupcast_accept",
    "decline": "groupcast_decline",
    "subscribe-once": "groupcast_subscribe_once",
}
BUTTON_STYLE = {"accept": "primary", "decline": "danger"}
# Slack section text holds at most 3000 characters.
SECTION_MAX = 3000

USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
# An individual user mention survives escaping; it names one person and never a crowd.
_ESCAPED_USER = re.compile(r"&lt;@([UW][A-Z0-9]{2,})(?:\|[^&<>]*)?&gt;")
_NEUTRAL_GROUP = re.compile(r"<group:([A-Za-z0-9]+)(?:\|([^>]*))?>")
_SLACK_SUBTEAM = re.compile(r"<!subteam\^([A-Za-z0-9]+)(?:\|([^>]*))?>")


def escape(text: str) -> str:
    """Slack's three control characters, per its 'Formatting text' page."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """A user-supplied run of text as inert mrkdwn: groups as their label, no broadcasts."""
    text = _NEUTRAL_GROUP.sub(lambda m: f"@{m.group(2) or 'group'}", text)
    return _ESCAPED_USER.sub(r"<@\1>", escape(text))


def mention(m: Mention) -> str:
    """`<@U…>` notifies exactly that person; anything that is not a user id stays plain."""
    if USER_ID_RE.match(m.user_id):
        return f"<@{m.user_id}>"
    return escape(f"@{m.name}")


def text_of(message: Message) -> str:
    """The message as Slack mrkdwn: also the notification fallback `text` of a post."""
    return "".join(mention(p) if isinstance(p, Mention) else plain(p) for p in message.parts)


def button(b: Button) -> ButtonElement:
    """A Block Kit button whose action id names what the core should do with its value."""
    return ButtonElement(
        text=b.label[:75],
        action_id=ACTION_IDS.get(b.action, f"groupcast_{b.action}"),
        value=b.value[:2000],
        style=BUTTON_STYLE.get(b.action),
    )


def blocks_of(message: Message) -> list[Block]:
    """A section with the text, then one actions block with the buttons, if any."""
    body = text_of(message)
    if len(body) > SECTION_MAX:
        body = body[: SECTION_MAX - 1] + "…"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=body or " "))]
    if message.buttons:
        blocks.append(
            ActionsBlock(block_id="groupcast", elements=[button(b) for b in message.buttons])
        )
    return blocks


def payload(message: Message) -> dict[str, Any]:
    """`text` plus `blocks` for chat.postMessage / chat.update / chat.postEphemeral."""
    return {"text": text_of(message), "blocks": [b.to_dict() for b in blocks_of(message)]}


def to_neutral(text: str) -> str:
    """Slack user-group mentions to the core's `<group:ID|label>`; user mentions already fit.

    The label loses its `@` so the core never mistakes a group's handle for a community's.
    """

    def group(m: re.Match[str]) -> str:
        label = re.sub(r"[^\w.-]", "", (m.group(2) or "").lstrip("@"))
        return f"<group:{m.group(1)}|{label}>" if label else f"<group:{m.group(1)}>"

    return _SLACK_SUBTEAM.sub(group, text)


def subteams(text: str) -> list[str]:
    """Ids of the user groups a Slack message mentions."""
    return [m.group(1) for m in _SLACK_SUBTEAM.finditer(text)]
