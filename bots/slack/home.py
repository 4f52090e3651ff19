"""The App Home tab: your availability, your communities, ones to join, your subscriptions.

Built with slack_sdk's block models (they check Block Kit's limits) and kept under the
home view's 100 blocks. Renders the core's read model; every button runs a typed command.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from bots.slack.render import escape
from core import insights, views
from core.commands import SetAvailability
from core.engine import Engine
from core.ports import Actor
from core.presence.availability import Availability
from core.texts import home as texts

MAX_BLOCKS = 100  # home tab limit (docs.slack.dev/reference/views/home-tab-views)
MAX_COMMUNITIES = 30
MAX_JOINABLE = 20
MEMBERS_SHOWN = 15
HOME_ACTIONS = {  # the home tab's buttons, as the typed commands they run
    "groupcast_home_available": SetAvailability(None, None, ""),
    "groupcast_home_away": SetAvailability(Availability.OFFLINE, 3600, ""),
    "groupcast_home_busy": SetAvailability(Availability.BUSY, 3600, ""),
}
JOIN_ACTION = "groupcast_join"
COMMAND_RE = re.compile(r"(/community [a-z]+(?: (?:&lt;handle&gt;|[a-z0-9_-]{2,32}))?)")


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:3000] or " ")


def _words(text: str) -> str:
    """The core's wording as mrkdwn: escaped, each slash command shown as code."""
    return COMMAND_RE.sub(r"`\1`", escape(text))


def _title(handle: str, title: str) -> str:
    return f"*@{escape(handle)}*" + (f" — {escape(title)}" if title else "")


async def home_view(engine: Engine, actor: Actor) -> View:
    """Render the core's home read model as Block Kit; the core decides every verdict shown."""
    home = await views.home(
        engine.reads,
        actor,
        communities=MAX_COMMUNITIES,
        members=MEMBERS_SHOWN,
        joinable=MAX_JOINABLE,
    )
    blocks: list[Block] = [
        HeaderBlock(text=texts.ME),
        SectionBlock(text=_md(escape(home.me_detail))),
        ActionsBlock(
            block_id="groupcast_me",
            elements=[
                ButtonElement(
                    text=texts.BUTTONS["available"],
                    action_id="groupcast_home_available",
                    value="available",
                    style="primary",
                ),
                ButtonElement(
                    text=texts.BUTTONS["away"], action_id="groupcast_home_away", value="away"
                ),
                ButtonElement(
                    text=texts.BUTTONS["busy"], action_id="groupcast_home_busy", value="busy"
                ),
            ],
        ),
        DividerBlock(),
        HeaderBlock(text=texts.MINE),
    ]
    if not home.mine:
        blocks.append(SectionBlock(text=_md(_words(texts.NO_COMMUNITY))))
    for c in home.mine:
        lines = [_title(c.handle, c.title)]
        lines += [f"{escape(m.name)}: {escape(m.detail)}" for m in c.members]
        if c.total > len(c.members):
            lines.append(_words(texts.more_members(c.total - len(c.members), c.handle)))
        lines.append(escape(await insights.summary(c.id, engine.clock.now())))
        if c.escalation:
            lines.append(escape(texts.escalation(c.escalation)))
        blocks.append(SectionBlock(block_id=f"groupcast_c{c.id}", text=_md("\n".join(lines))))
    if home.more_mine:
        blocks.append(ContextBlock(elements=[_md(_words(texts.more_communities(home.more_mine)))]))
    blocks += [DividerBlock(), HeaderBlock(text=texts.JOINABLE)]
    if not home.joinable:
        blocks.append(SectionBlock(text=_md(_words(texts.NOTHING_TO_JOIN))))
    for handle, title in home.joinable:
        blocks.append(
            SectionBlock(
                block_id=f"groupcast_j_{handle}",
                text=_md(_title(handle, title)),
                accessory=ButtonElement(
                    text=texts.BUTTONS["join"], action_id=JOIN_ACTION, value=handle
                ),
            )
        )
    blocks += [DividerBlock(), HeaderBlock(text=texts.SUBSCRIPTIONS)]
    if home.subscriptions:
        subs = "\n".join(texts.subscription(h, once) for h, once in home.subscriptions)
        blocks.append(SectionBlock(text=_md(escape(subs))))
    else:
        blocks.append(SectionBlock(text=_md(_words(texts.NO_SUBSCRIPTIONS))))
    return View(type="home", callback_id="groupcast_home", blocks=blocks[:MAX_BLOCKS])
