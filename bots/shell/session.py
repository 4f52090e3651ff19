"""The simulated workspace: act as anyone, set presence, move the clock, see every delivery."""

from __future__ import annotations

import shlex
from collections.abc import Callable

from bots.shell.platform import TENANT, Outbound, ShellPlatform
from core import texts
from core.clock import ManualClock
from core.commands import parse_duration
from core.directory import presence_key
from core.engine import Engine
from core.ports import Actor, Message, Place
from core.presence.signals import DND, IDLE, OFFLINE, ONLINE, DoNotDisturb
from core.store.models import OPEN_DELIVERY, Community, Contact, Delivery, Membership, Role, Tenant
from core.store.queries import column_ints, column_strs

CHANNEL = "general"
SEED_PEOPLE = ("alice", "bob", "carol", "dave", "erin")
SEED_COMMUNITIES = {
    "frontend": ("Frontend reviewers", "alice", ("bob", "carol", "dave")),
    "on-call-db": ("Database on-call", "erin", ("bob", "dave")),
}
STATES = {"available": ONLINE, "idle": IDLE, "busy": DND, "offline": OFFLINE}
HELP = """\
Commands work as on Slack or Discord, e.g.
  /ask-available frontend can someone review #12?      /community show frontend
  /community list   /community subscribe frontend   /away 1h lunch   /available
A line without / or : is a message in #general (try: @frontend anyone around?).
Meta-commands:
  :as <user>                         act as someone (a new name joins the workspace)
  :presence <user> <available|idle|busy|offline>
  :accept / :decline                 answer your latest ask
  :advance <duration>                move the clock (10m, 1h30m): timeouts and expiries
  :users                             everyone and their availability
  :help                              this text"""


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
            key = presence_key("shell", TENANT, str(uid))
            self.engine.tracked.add(key)
            self.engine.monitor.native(key, OFFLINE if uid == "erin" else ONLINE)
        carol = presence_key("shell", TENANT, "carol")
        self.engine.observe(carol, DoNotDisturb(None, self.clock.now() + 2 * 3600))
        self.engine.monitor.expire()
        self.engine.take_changes()  # seeding is not news to subscribers

    async def line(self, raw: str) -> bool:
        """Run one line; False when the session should end."""
        text = raw.strip()
        if not text or text.startswith("#"):
            return True
        if text in (":quit", ":q", ":exit"):
            return False
        if text.startswith(":"):
            await self.meta(text)
        elif text.startswith("/"):
            name, _, rest = text.partition(" ")
            reply = await self.engine.command(self.actor(), name, rest, Place())
            self.platform.emit(Outbound(self.user, "ephemeral", reply.plain()))
        else:
            posted = await self.platform.post(TENANT, CHANNEL, Message.of(f"{self.user}: {text}"))
            answer = await self.engine.message(self.actor(), text, Place(CHANNEL, posted, None))
            if answer is not None:
                await self.platform.post(TENANT, CHANNEL, answer)
        await self.engine.drain()
        return True

    async def meta(self, text: str) -> None:
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        cmd, args = words[0], words[1:]
        if cmd == ":help":
            self.say(HELP)
        elif cmd == ":as" and len(args) == 1 and args[0].isidentifier():
            self.user = args[0].lower()
            who = await self.engine.directory.who(self.actor())
            if who.key not in self.engine.tracked:
                self.engine.tracked.add(who.key)
            if self.engine.monitor.availability(who.key).value == "unknown":
                self.engine.monitor.native(who.key, ONLINE)
            self.say(f"You are now {self.user}.")
        elif cmd == ":presence" and len(args) == 2 and args[1] in STATES:
            who = await self.engine.directory.who(self.actor(args[0].lower()))
            self.engine.monitor.native(who.key, STATES[args[1]])
            self.say(f"{args[0]} is {args[1]} on the platform now.")
        elif cmd in (":accept", ":decline") and not args:
            ask = await self.latest_ask()
            if ask is None:
                self.say(f"{self.user} has no ask to answer.")
                return
            reply = await self.engine.answer(self.actor(), ask, cmd == ":accept")
            self.platform.emit(Outbound(self.user, "ephemeral", reply.plain()))
        elif cmd == ":advance" and len(args) == 1 and (seconds := parse_duration(args[0])):
            await self.engine.drain()  # time jumps between settled moments, never mid-send
            self.clock.advance(seconds)
            self.say(
                f"(clock moved {texts.span(seconds)} to {texts.clock_time(self.clock.now(), 'UTC', 0)} UTC)"
            )
            await self.engine.tick()
        elif cmd == ":users" and not args:
            await self.users()
        else:
            self.say(f"Not understood: {text}. Type :help for the list.")

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
            verdict = self.engine.monitor.verdict(presence_key("shell", TENANT, str(uid)))
            me = " (you)" if uid == self.user else ""
            self.say(f"  {uid}{me}: {texts.detail(verdict, 'UTC', now)}")
