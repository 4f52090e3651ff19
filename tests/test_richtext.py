"""The neutral text form, mention detection in prose, splitting, and each platform's codec."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bots.discord import markup
from bots.shell.testing import Workspace
from bots.slack import mrkdwn
from bots.slack.render import ATOMS, payloads
from core import mentions, richtext
from core.ports import Message
from core.store.models import Contact, Membership

TYPED_SLACK = "R&amp;D <https://x.y/?a=1&amp;b=2|link> <#C1|general>"


def test_slack_text_decodes_once_and_encodes_back_to_what_slack_sent() -> None:
    neutral = mrkdwn.decode(TYPED_SLACK)
    assert neutral == "R&D <https://x.y/?a=1&b=2|link> <#C1|general>"
    assert mrkdwn.encode(neutral) == TYPED_SLACK
    assert richtext.readable(neutral) == "R&D link (https://x.y/?a=1&b=2) #general"
    assert mrkdwn.decode("&amp;lt;b&amp;gt;") == "&lt;b&gt;"  # typed entities stay typed
    assert mrkdwn.encode(mrkdwn.decode("&amp;lt;")) == "&amp;lt;"


def test_slack_groups_and_broadcasts() -> None:
    assert mrkdwn.decode("<!subteam^S1|@fe-team> hi") == "<group:S1|fe-team> hi"
    assert mrkdwn.encode("<group:S1|fe-team>") == "@fe-team"
    assert mrkdwn.decode("<!here> <!channel>") == "<!here> <!channel>"
    assert mrkdwn.encode("<!here> <!channel>") == "&lt;!here&gt; &lt;!channel&gt;"


def test_discord_content_round_trips_and_roles_count_only_when_mentioned() -> None:
    typed = "R&D <https://x.y/?a=1&b=2> <#7100000000000000> <@!7300000000000000> <a:ok:7000000000000000>"
    neutral = markup.decode(typed)
    assert "<@7300000000000000>" in neutral and "<emoji:a:ok:7000000000000000>" in neutral
    assert markup.encode(neutral) == typed.replace("<@!", "<@")
    assert markup.decode("<@&7200000000000000>", ["7200000000000000"]) == "<group:7200000000000000>"
    assert "group:" not in markup.decode("<@&7200000000000000>")
    assert markup.encode("<group:7200000000000000|oncall> @everyone") == "@oncall @\u200beveryone"


def test_literal_token_lookalikes_stay_text() -> None:
    assert mentions.groups(markup.decode("<group:123> please")) == []
    assert mentions.groups(mrkdwn.decode("&lt;group:123&gt;")) == []


def test_mentions_only_in_prose() -> None:
    text = (
        "see https://www.npmjs.com/package/@frontend/ui and `npm i @on-call-db/cli`\n"
        "```\n@infra\n```\nmail bob@design.io, ask @Backend and (@ops)"
    )
    assert mentions.handles(text) == ["backend", "ops"]
    assert mentions.handles("<https://x.y/@frontend|@frontend>") == []
    assert mentions.handles("```unterminated @frontend") == []
    assert mentions.groups("`<group:S1>` <group:S2|fe>") == ["S2"]
    assert not mentions.addresses_group("no handles at all")
    assert mentions.addresses_group("x", ["R1"])


@given(st.text())
def test_mention_detection_never_raises(text: str) -> None:
    for h in mentions.handles(text):
        assert re.fullmatch(r"[a-z0-9_-]{2,32}", h)
    mentions.groups(text)
    mentions.addresses_group(text)


@given(st.text())
def test_codecs_never_raise_and_neutral_parses_back(text: str) -> None:
    for neutral in (mrkdwn.decode(text), markup.decode(text, ["1"]), text):
        assert "".join(richtext.token(s) for s in richtext.parse(neutral)) == neutral
        mrkdwn.encode(neutral)
        markup.encode(neutral)
        richtext.readable(neutral)


@given(st.text(alphabet=st.sampled_from("ab &<>\n@"), max_size=3000), st.integers(16, 400))
def test_split_keeps_everything_within_the_limit(text: str, limit: int) -> None:
    chunks = richtext.split(text, limit, ATOMS)
    assert all(len(c) <= limit for c in chunks)
    assert "".join(chunks) == text


def test_a_code_block_cut_in_two_is_closed_and_reopened() -> None:
    text = "before\n```\n" + "x = 1\n" * 100 + "```\nafter"
    first, *rest = richtext.split(text, 300)
    assert first.endswith("\n```") and rest[0].startswith("```\n")
    assert all(c.count("```") % 2 == 0 for c in [first, *rest])


def test_split_never_breaks_slack_markup() -> None:
    text = mrkdwn.encode(" ".join(["<https://x.y/?a=1&b=2|a link & more>"] * 300))
    for chunk in richtext.split(text, 3000, ATOMS):
        assert chunk.count("<") == chunk.count(">")
        assert not re.search(r"&(a|am|l|g)?$", chunk)


def test_a_huge_slack_message_becomes_several_messages_within_limits() -> None:
    got = payloads(Message.of("& " * 60_000))
    assert len(got) >= 2
    for p in got:
        assert len(p["blocks"]) <= 50 and len(p["text"]) <= 40_000
        assert all(len(b["text"]["text"]) <= 3000 for b in p["blocks"])
    assert "".join(p["text"] for p in got) == "&amp; " * 60_000


async def test_in_the_shell_a_shared_name_gets_a_question_and_changes_nothing(
    workspace: Workspace,
) -> None:
    await workspace.run(":as sam", ":as alice")
    tenant = await workspace.engine.directory.tenant_id("shell", "local")
    await Contact.create(tenant_id=tenant, user_id="samuel", display_name="Sam")
    before = await Membership.all().count()
    t = await workspace.run("/community add frontend @sam")
    assert "two people are called sam: @sam, @samuel — which?" in t.reply()
    assert await Membership.all().count() == before
