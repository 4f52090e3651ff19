"""The App Home tab: your availability, your communities, ones to join, your subscriptions.

Built with slack_sdk's block models (they check Block Kit's limits) and kept under the
home view's 100 blocks. Reads the core's data; every button goes back through a command.
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
from core import texts
from core.engine import Engine
from core.ports import Actor
from core.store.models import Community, Membership, Subscription

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
    """What this person would see right now; the core decides every verdict shown."""
    who = await engine.directory.who(actor)
    now = engine.clock.now()
    tz = actor.tz or "UTC"
    blocks: list[Block] = [
        HeaderBlock(text="Your availability"),
        SectionBlock(text=_md(escape(texts.detail(engine.monitor.verdict(who.key), tz, now)))),
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
    mine_ids = await Membership.filter(contact_id=who.contact_id).values_list(
        "community_id", flat=True
    )
    mine = await Community.filter(id__in=list(mine_ids), tenant_id=who.tenant_id).order_by("handle")
    if not mine:
        blocks.append(
            SectionBlock(
                text=_md("You're in no community yet. Join one below or `/community create`.")
            )
        )
    for c in mine[:MAX_COMMUNITIES]:
        roster = await engine.directory.roster(c, actor.platform, actor.tenant)
        await engine.monitor.load(m.key for m in roster)
        lines = [f"*@{escape(c.handle)}*" + (f" — {escape(c.title)}" if c.title else "")]
        for m in sorted(roster, key=lambda m: m.name.lower())[:MEMBERS_SHOWN]:
            verdict = engine.monitor.verdict(m.key)
            lines.append(f"{escape(m.name)}: {escape(texts.detail(verdict, tz, now))}")
        if len(roster) > MEMBERS_SHOWN:
            lines.append(f"…and {len(roster) - MEMBERS_SHOWN} more: `/community show {c.handle}`")
        blocks.append(SectionBlock(block_id=f"groupcast_c{c.id}", text=_md("\n".join(lines))))
    if len(mine) > MAX_COMMUNITIES:
        blocks.append(
            ContextBlock(
                elements=[_md(f"…and {len(mine) - MAX_COMMUNITIES} more: `/community list`")]
            )
        )
    others = (
        await Community.filter(tenant_id=who.tenant_id)
        .exclude(id__in=[c.id for c in mine] or [0])
        .order_by("handle")
        .limit(MAX_JOINABLE + 1)
    )
    blocks += [DividerBlock(), HeaderBlock(text="Communities to join")]
    if not others:
        blocks.append(SectionBlock(text=_md("Nothing else to join here yet.")))
    for c in others[:MAX_JOINABLE]:
        title = f" — {escape(c.title)}" if c.title else ""
        blocks.append(
            SectionBlock(
                block_id=f"groupcast_j{c.id}",
                text=_md(f"*@{escape(c.handle)}*{title}"),
                accessory=ButtonElement(text="Join", action_id=JOIN_ACTION, value=c.handle),
            )
        )
    subs = await Subscription.filter(subscriber_id=who.contact_id).values_list(
        "community__handle", "once"
    )
    blocks += [DividerBlock(), HeaderBlock(text="Your subscriptions")]
    if subs:
        text = "\n".join(f"@{escape(str(h))}" + (" (once)" if once else "") for h, once in subs)
    else:
        text = "None. `/community subscribe <handle>` to follow a community's availability."
    blocks.append(SectionBlock(text=_md(text)))
    return View(type="home", callback_id="groupcast_home", blocks=blocks[:MAX_BLOCKS])
