"""The simulated workspace: act as anyone, set presence, move the clock, see every delivery."""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable

from bots.shell.home import home_text
from bots.shell.platform import TENANT, Outbound, ShellPlatform
from core import keys, views
from core.clock import ManualClock
from core.engine import Engine
from core.ports import Actor, Message, Place
from core.presence.signals import (
    DND,
    IDLE,
    OFFLINE,
    ONLINE,
    ClearHours,
    DoNotDisturb,
    Override,
    Status,
)
from core.store.models import OPEN_DELIVERY, Community, Contact, Delivery, Membership, Role, Tenant
from core.store.queries import column_ints, column_strs
from core.texts.availability import detail
from core.texts.time import clock_time, span
from core.timewords import MAX_DURATION, parse_duration

CHANNEL = "general"
CHANNEL_RE = re.compile(r"[a-z0-9_-]{1,80}", re.IGNORECASE)
SEED_PEOPLE = ("alice", "bob", "carol", "dave", "erin")
SEED_COMMUNITIES = {
    "frontend": ("Frontend reviewers", "alice", ("bob", "carol", "dave")),
    "on-call-db": ("Database on-call", "erin", ("bob", "dave")),
}
STATES = {"available": ONLINE, "idle": IDLE, "busy": DND, "offline": OFFLINE}
HELP = """\
Commands work as on Slack or Discord, e.g.
  /ask-available frontend can someone review #12?      /community show frontend
  /community list   /community subscribe frontend   /away 1h lunch   /available   /help
A line without / or : is a message in the current channel (try: @frontend anyone around?).
Meta-commands (Tab completes, Up recalls, Ctrl-C clears the line, Ctrl-D leaves):
  :as <user>                         act as someone (a new name joins the workspace)
  :presence <user> <available|idle|busy|offline>
  :accept / :decline                 answer your latest ask
  :advance <duration>                move the clock (10m, 1h30m, at most 90d): timeouts and expiries
  :channel <name>                    post and run commands in #name (try /community pin there)
  :home                              your home page, as the Slack home tab shows it
  :users                             everyone and their availability
  :reset                             forget everything and start again with the demo people
  :help                              this text
  :quit                              leave (or Ctrl-D)"""
META = (
    ":as",
    ":presence",
    ":accept",
    ":decline",
    ":advance",
    ":channel",
    ":home",
    ":users",
    ":reset",
    ":help",
    ":quit",
)


class ShellSession:
    """Turns typed lines into engine calls; output goes through the emit callback."""

    def __init__(
        self,
        engine: Engine,
        platform: ShellPlatform,
        clock: ManualClock,
        say: Callable[[str], None],
    ) -> None:
        self.engine = engine
        self.platform = platform
        self.clock = clock
        self.say = say
        self.user = "alice"
        self.channel = CHANNEL
        self.failures = 0  # lines that were refused: `--script` exits 1 when any were
        self.people: list[str] = []  # for Tab completion, refreshed after every line
        self.handles: list[str] = []

    def actor(self, name: str | None = None) -> Actor:
        return Actor("shell", TENANT, name or self.user, name or self.user, "UTC")

    async def seed(self) -> None:
        """First run: a few people and communities. Every run: everyone's simulated presence."""
        tenant_id = await self.engine.directory.tenant_id("shell", TENANT)
        if not await Contact.filter(tenant_id=tenant_id).exists():
            for name in SEED_PEOPLE:
                await self.engine.directory.who(self.actor(name))
            for handle, (title, owner, members) in SEED_COMMUNITIES.items():
                community = await Community.create(tenant_id=tenant_id, handle=handle, title=title)
                for name in (owner, *members):
                    contact = await Contact.get(tenant_id=tenant_id, user_id=name)
                    role = Role.OWNER if name == owner else Role.MEMBER
                    await Membership.create(
                        community_id=community.id, contact_id=contact.id, role=role
                    )
            await Tenant.filter(id=tenant_id).update(name="groupcast shell")
        for uid in await column_strs(Contact.filter(tenant_id=tenant_id), "user_id"):
            key = keys.encode("shell", TENANT, str(uid))
            self.engine.tracked.add(key)
            self.engine.monitor.native(key, OFFLINE if uid == "erin" else ONLINE)
        carol = keys.encode("shell", TENANT, "carol")
        self.engine.observe(carol, DoNotDisturb(None, self.clock.now() + 2 * 3600))
        self.engine.monitor.expire()
        self.engine.take_changes()  # seeding is not news to subscribers
        await self.refresh_names()

    async def refresh_names(self) -> None:
        """People and handles as they are now, for completion."""
        tenant_id = await self.engine.directory.tenant_id("shell", TENANT)
        self.people = sorted(await column_strs(Contact.filter(tenant_id=tenant_id), "user_id"))
        self.handles = sorted(await column_strs(Community.filter(tenant_id=tenant_id), "handle"))

    async def line(self, raw: str) -> bool:
        """Run one line; False when the session should end."""
        text = raw.strip()
        if not text or text.startswith("#"):
            return True
        if text in (":quit", ":q", ":exit"):
            return False
        place = Place(self.channel)
        if text.startswith(":"):
            await self.meta(text)
        elif text.startswith("/"):
            name, _, rest = text.partition(" ")
            reply = await self.engine.command(self.actor(), name, rest, place)
            self.failures += reply.failed
            self.platform.emit(Outbound(self.user, "ephemeral", reply.plain()))
        else:
            message = Message.of(f"{self.user}: {text}")
            posted = await self.platform.post(TENANT, self.channel, message)
            answer = await self.engine.message(
                self.actor(), text, Place(self.channel, posted, None)
            )
            if answer is not None:
                await self.platform.post(TENANT, self.channel, answer)
        await self.engine.drain()
        await self.refresh_names()
        return True

    def refuse(self, text: str) -> None:
        self.failures += 1
        self.say(text)

    async def meta(self, text: str) -> None:
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        cmd, args = words[0].lower(), words[1:]
        if cmd == ":help":
            self.say(HELP)
        elif cmd == ":as" and len(args) == 1 and args[0].isidentifier():
            await self.become(args[0].lower())
        elif cmd == ":presence" and len(args) == 2 and args[1].lower() in STATES:
            who = await self.engine.directory.who(self.actor(args[0].lower()))
            self.engine.monitor.native(who.key, STATES[args[1].lower()])
            self.say(f"{args[0]} is {args[1].lower()} on the platform now.")
        elif cmd in (":accept", ":decline") and not args:
            ask = await self.latest_ask()
            if ask is None:
                self.say(f"{self.user} has no ask to answer.")
                return
            reply = await self.engine.answer(self.actor(), ask, cmd == ":accept")
            self.platform.emit(Outbound(self.user, "ephemeral", reply.plain()))
        elif cmd == ":advance" and len(args) == 1:
            await self.advance(args[0])
        elif cmd == ":channel" and len(args) == 1 and CHANNEL_RE.fullmatch(args[0].lstrip("#")):
            self.channel = args[0].lstrip("#").lower()
            self.say(f"You are in #{self.channel} now.")
        elif cmd == ":home" and not args:
            self.say(home_text(await views.home(self.engine.reads, self.actor())))
        elif cmd == ":users" and not args:
            await self.users()
        elif cmd == ":reset" and not args:
            await self.reset()
        else:
            self.refuse(self.not_understood(cmd, text))

    def not_understood(self, cmd: str, text: str) -> str:
        """Name the meta-command's shape when it was known, else the nearest one."""
        if cmd in META:
            usage = next(line.strip() for line in HELP.splitlines() if line.strip().startswith(cmd))
            return f"{cmd} needs other arguments — try: {usage.split('  ')[0]}"
        near = difflib.get_close_matches(cmd, META, n=1, cutoff=0.6)
        hint = f" Did you mean {near[0]}?" if near else ""
        return f"Not understood: {_short(text)}.{hint} Type :help for the list."

    async def become(self, name: str) -> None:
        self.user = name
        who = await self.engine.directory.who(self.actor())
        if who.key not in self.engine.tracked:
            self.engine.tracked.add(who.key)
        if self.engine.monitor.availability(who.key).value == "unknown":
            self.engine.monitor.native(who.key, ONLINE)
        self.say(f"You are now {self.user}.")

    async def advance(self, word: str) -> None:
        """Move the clock; a word that is not a duration, or is absurdly long, changes nothing."""
        seconds = parse_duration(word)
        if seconds is None or seconds <= 0:
            self.refuse(f"“{_short(word)}” is not a duration: try 10m, 2h or 1h30m")
            return
        if seconds > MAX_DURATION:
            self.refuse(f"{_short(word)} is too far: the clock moves at most 90d at a time")
            return
        await self.engine.drain()  # time jumps between settled moments, never mid-send
        self.clock.advance(seconds)
        self.say(f"(clock moved {span(seconds)} to {clock_time(self.clock.now(), 'UTC', 0)})")
        await self.engine.tick()

    async def reset(self) -> None:
        """Forget this workspace (everything cascades from its tenant) and seed it again."""
        await self.engine.drain()
        tenant_id = await self.engine.directory.tenant_id("shell", TENANT)
        for uid in await column_strs(Contact.filter(tenant_id=tenant_id), "user_id"):
            key = keys.encode("shell", TENANT, str(uid))
            for signal in (Override(None), ClearHours(), DoNotDisturb(None, None), Status("")):
                self.engine.monitor.observe(key, signal)
            self.engine.tracked.discard(key)
        await Tenant.filter(id=tenant_id).delete()
        self.engine.directory.forget()
        self.platform.forget()
        self.user, self.channel = "alice", CHANNEL
        await self.seed()
        self.say("Everything is forgotten; the demo people are back. You are alice in #general.")

    async def latest_ask(self) -> str | None:
        """The newest ask still waiting on this user (from the database: it outlives a restart)."""
        tenant_id = await self.engine.directory.tenant_id("shell", TENANT)
        got = await column_ints(
            Delivery.filter(
                target__tenant_id=tenant_id,
                target__user_id=self.user,
                state__in=OPEN_DELIVERY,
            )
            .order_by("-id")
            .limit(1),
            "id",
        )
        return str(got[0]) if got else None

    async def users(self) -> None:
        tenant_id = await self.engine.directory.tenant_id("shell", TENANT)
        now = self.clock.now()
        for uid in await column_strs(
            Contact.filter(tenant_id=tenant_id).order_by("user_id"), "user_id"
        ):
            verdict = self.engine.monitor.verdict(keys.encode("shell", TENANT, str(uid)))
            me = " (you)" if uid == self.user else ""
            self.say(f"  {uid}{me}: {detail(verdict, 'UTC', now)}")


def _short(word: str, limit: int = 40) -> str:
    return word if len(word) <= limit else word[: limit - 1] + "…"
