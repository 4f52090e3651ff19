"""The App Home tab: your availability, your communities, ones to join, your subscriptions.

Built with slack_sdk's block models (they check Block Kit's limits) and kept under the
home view's 100 blocks. Renders the core's read model; every button goes back through a command.
"""

from __future__ import annotations

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
from core.engine import Engine
from core.ports import Actor

MAX_BLOCKS = 100  # home tab limit (docs.slack.dev/reference/views/home-tab-views)
MAX_COMMUNITIES = 30
MAX_JOINABLE = 20
MEMBERS_SHOWN = 15
HOME_ACTIONS = {
    "groupcast_home_available": ("available", ""),
    "groupcast_home_away": ("away", "1h"),
    "groupcast_home_busy": ("busy", "1h"),
}
JOIN_ACTION = "groupcast_join"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:3000] or " ")


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
        HeaderBlock(text="Your availability"),
        SectionBlock(text=_md(escape(home.me_detail))),
        ActionsBlock(
            block_id="groupcast_me",
            elements=[
                ButtonElement(
                    text="Available",
                    action_id="groupcast_home_available",
                    value="available",
                    style="primary",
                ),
                ButtonElement(text="Away 1h", action_id="groupcast_home_away", value="away"),
                ButtonElement(text="Busy 1h", action_id="groupcast_home_busy", value="busy"),
            ],
        ),
        DividerBlock(),
        HeaderBlock(text="Your communities"),
    ]
    if not home.mine:
        blocks.append(
            SectionBlock(
                text=_md("You're in no community yet. Join one below or `/community create`.")
            )
        )
    for c in home.mine:
        lines = [f"*@{escape(c.handle)}*" + (f" — {escape(c.title)}" if c.title else "")]
        lines += [f"{escape(m.name)}: {escape(m.detail)}" for m in c.members]
        if c.total > len(c.members):
            lines.append(f"…and {c.total - len(c.members)} more: `/community show {c.handle}`")
        lines.append(escape(await insights.summary(c.id, engine.clock.now())))
        if c.escalation:
            lines.append(f"Escalation: {escape(c.escalation)}")
        blocks.append(SectionBlock(block_id=f"groupcast_c{c.id}", text=_md("\n".join(lines))))
    if home.more_mine:
        blocks.append(
            ContextBlock(elements=[_md(f"…and {home.more_mine} more: `/community list`")])
        )
    blocks += [DividerBlock(), HeaderBlock(text="Communities to join")]
    if not home.joinable:
        blocks.append(SectionBlock(text=_md("Nothing else to join here yet.")))
    for handle, title in home.joinable:
        blocks.append(
            SectionBlock(
                block_id=f"groupcast_j_{handle}",
                text=_md(f"*@{escape(handle)}*" + (f" — {escape(title)}" if title else "")),
                accessory=ButtonElement(text="Join", action_id=JOIN_ACTION, value=handle),
            )
        )
    blocks += [DividerBlock(), HeaderBlock(text="Your subscriptions")]
    if home.subscriptions:
        text = "\n".join(
            f"@{escape(h)}" + (" (once)" if once else "") for h, once in home.subscriptions
        )
    else:
        text = "None. `/community subscribe <handle>` to follow a community's availability."
    blocks.append(SectionBlock(text=_md(text)))
    return View(type="home", callback_id="groupcast_home", blocks=blocks[:MAX_BLOCKS])
