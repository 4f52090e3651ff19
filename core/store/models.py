"""The contact database: tenants, contacts, communities, memberships, requests, deliveries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.domain import (
    OPEN_DELIVERY,
    DeliveryState,
    Mode,
    NoticeKind,
    NoticeState,
    RequestState,
    Role,
    Strategy,
)

__all__ = [
    "OPEN_DELIVERY",
    "Community",
    "Contact",
    "Delivery",
    "DeliveryState",
    "Installation",
    "LiveView",
    "Membership",
    "Mode",
    "Notice",
    "NoticeKind",
    "NoticeState",
    "OAuthState",
    "Request",
    "RequestState",
    "Resolution",
    "Role",
    "Strategy",
    "Subscription",
    "Tenant",
]


class Tenant(Model):
    """One Slack workspace or Discord guild: the wall nothing crosses."""

    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=16)
    external_id = fields.CharField(max_length=64)
    name = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set when the tenant removed the app (Slack uninstall); its data is purged
    # DATA_RETENTION_DAYS later unless it comes back first (core.retention).
    uninstalled_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "tenant"
        unique_together = (("platform", "external_id"),)


class Contact(Model):
    """A person's account on one platform, with the address information to reach them."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="contacts", on_delete=fields.CASCADE
    )
    user_id = fields.CharField(max_length=64)
    display_name = fields.CharField(max_length=128, default="")
    tz = fields.CharField(max_length=64, default="UTC")
    dm_channel = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # What the person typed about their presence (`/away`, `/busy`, `/available`, `/hours`),
    # kept here so a restart without a shared presence store does not forget it.
    override = fields.CharField(max_length=16, null=True)  # an Availability value
    override_until = fields.DatetimeField(null=True)  # None: until changed
    override_note = fields.CharField(max_length=128, default="")
    override_at = fields.DatetimeField(null=True)
    hours_start = fields.IntField(null=True)  # minute of the day; None: no working hours
    hours_end = fields.IntField(default=0)
    hours_days = fields.CharField(max_length=7, default="")  # weekday digits, 0=Monday
    hours_tz = fields.CharField(max_length=64, default="UTC")
    tenant_id: int

    class Meta:
        table = "contact"
        unique_together = (("tenant", "user_id"),)


class Community(Model):
    """A named community of interest inside one tenant."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="communities", on_delete=fields.CASCADE
    )
    handle = fields.CharField(max_length=32)
    title = fields.CharField(max_length=128, default="")
    description = fields.TextField(default="")
    # A fixed description, so a new strategy (a value of the enum) needs no migration.
    strategy = fields.CharEnumField(
        Strategy,
        max_length=16,
        default=Strategy.LEAST_RECENT,
        description="how --one picks: a name in core.strategies.REGISTRY",
    )
    mention_mode = fields.CharEnumField(Mode, max_length=16, default=Mode.AVAILABLE)
    capacity = fields.IntField(default=3)
    linked_group = fields.CharField(max_length=64, null=True)
    rr_cursor = fields.IntField(default=0)
    # Escalation steps, in order: [seconds to wait, "@handle" | "all" | "everyone"].
    escalation: list[list[object]] = fields.JSONField(default=list)
    api_token_hash = fields.CharField(max_length=64, null=True, db_index=True)  # sha256 hex
    api_token_owner_id = fields.IntField(null=True)  # the owner API asks are made on behalf of
    created_at = fields.DatetimeField(auto_now_add=True)
    tenant_id: int

    class Meta:
        table = "community"
        unique_together = (("tenant", "handle"),)


class Membership(Model):
    """A contact in a community, with the counters fairness is computed from."""

    id = fields.IntField(primary_key=True)
    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "models.Community", related_name="memberships", on_delete=fields.CASCADE
    )
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=8, default=Role.MEMBER)
    joined_at = fields.DatetimeField(auto_now_add=True)
    last_asked_at = fields.DatetimeField(null=True)
    last_accepted_at = fields.DatetimeField(null=True)
    asks = fields.IntField(default=0)
    accepts = fields.IntField(default=0)
    community_id: int
    contact_id: int

    class Meta:
        table = "membership"
        unique_together = (("community", "contact"),)


class Subscription(Model):
    """Someone following a community's availability: pushed on each change, or once."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="subscriptions", on_delete=fields.CASCADE
    )
    subscriber: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name="subscriptions", on_delete=fields.CASCADE
    )
    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "models.Community", related_name="subscriptions", on_delete=fields.CASCADE
    )
    once = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    tenant_id: int
    subscriber_id: int
    community_id: int

    class Meta:
        table = "subscription"
        unique_together = (("subscriber", "community"),)


class Request(Model):
    """A message addressed to a community, and where to tell the requester what happened."""

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="requests", on_delete=fields.CASCADE
    )
    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "models.Community", related_name="requests", on_delete=fields.CASCADE
    )
    requester: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name="requests", on_delete=fields.CASCADE
    )
    platform = fields.CharField(max_length=16, default="")
    mode = fields.CharEnumField(Mode, max_length=16)
    wanted = fields.IntField(default=1)
    text = fields.TextField()
    origin_channel = fields.CharField(max_length=64, null=True)
    origin_thread = fields.CharField(max_length=64, null=True)
    origin_link = fields.CharField(max_length=512, null=True)
    state = fields.CharEnumField(
        RequestState, max_length=16, default=RequestState.OPEN, db_index=True
    )
    # Bumped by every transition: two answers racing on one request serialise on it.
    version = fields.IntField(default=0)
    # Escalation: the steps taken so far, and when the next is due (None: none scheduled).
    step = fields.IntField(default=0)
    next_step_at = fields.DatetimeField(null=True, db_index=True)
    external_key = fields.CharField(max_length=160, null=True, db_index=True)  # an alert's key
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)
    tenant_id: int
    community_id: int
    requester_id: int

    class Meta:
        table = "request"


class Delivery(Model):
    """One message to one target, written before it is sent so nothing is lost in a crash."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[Request] = fields.ForeignKeyField(
        "models.Request", related_name="deliveries", on_delete=fields.CASCADE
    )
    target: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name="deliveries", on_delete=fields.CASCADE
    )
    platform = fields.CharField(max_length=16, default="", db_index=True)
    state = fields.CharEnumField(
        DeliveryState, max_length=16, default=DeliveryState.PENDING, db_index=True
    )
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    answered_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True, db_index=True)
    next_attempt_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)  # transient failures so far
    tries = fields.IntField(default=0)  # sends started: more than one may mean it arrived already
    claimed_by = fields.CharField(max_length=64, null=True)  # the lease token, also the fence
    claimed_until = fields.DatetimeField(null=True)
    message_ref = fields.CharField(max_length=128, null=True)
    error = fields.CharField(max_length=255, null=True)
    request_id: int
    target_id: int

    class Meta:
        table = "delivery"
        unique_together = (("request", "target"),)


class Notice(Model):
    """A message the core owes (a follow-up, an edit, a push), written in the transition's
    transaction and sent after commit, so a crash never loses one and `key` never doubles one."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=96, unique=True)
    platform = fields.CharField(max_length=16, db_index=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="notices", on_delete=fields.CASCADE
    )
    request: fields.ForeignKeyNullableRelation[Request] = fields.ForeignKeyField(
        "models.Request", related_name="notices", on_delete=fields.CASCADE, null=True
    )
    subscription_id = fields.IntField(null=True)  # a one-off subscription ends when this is sent
    kind = fields.CharEnumField(NoticeKind, max_length=8)
    outcome = fields.BooleanField(default=False)  # the one notice that tells a request's end
    recipient = fields.CharField(max_length=64)  # a user id, or the DM's owner for an edit
    # Written by nothing since tells go privately (a DM), even about a channel mention; kept
    # so that rows written before still load. Unused columns, not worth a table rewrite.
    channel = fields.CharField(max_length=64, null=True)
    thread = fields.CharField(max_length=64, null=True)
    ref = fields.CharField(max_length=128, null=True)  # the message an edit replaces
    body: dict[str, object] = fields.JSONField()
    state = fields.CharEnumField(
        NoticeState, max_length=8, default=NoticeState.PENDING, db_index=True
    )
    attempts = fields.IntField(default=0)
    tries = fields.IntField(default=0)
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=255, null=True)
    tenant_id: int
    request_id: int | None

    class Meta:
        table = "notice"


class Resolution(Model):
    """The audit of one resolution: who was chosen, who was skipped and why."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[Request] = fields.ForeignKeyField(
        "models.Request", related_name="resolutions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    strategy = fields.CharField(max_length=16)
    note = fields.CharField(max_length=128, default="")  # what prompted it: ask, re-ask, a step
    chosen: list[int] = fields.JSONField()
    skipped: list[list[object]] = fields.JSONField()
    request_id: int

    class Meta:
        table = "resolution"


class LiveView(Model):
    """A message kept current with a community's availability: one per community and channel."""

    id = fields.IntField(primary_key=True)
    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "models.Community", related_name="live_views", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=64)
    message_ref = fields.CharField(max_length=128, null=True)
    community_id: int

    class Meta:
        table = "live_view"
        unique_together = (("community", "channel"),)


class InboundEvent(Model):
    """A platform event id we have taken on, so a retry to any process is not a second request.

    `done` is false while the first taker works on it (`seen_at` is then its lease); rows older
    than the platform's retry window are pruned.
    """

    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=16)
    tenant = fields.CharField(max_length=64)
    event_id = fields.CharField(max_length=64)
    seen_at = fields.FloatField(db_index=True)
    done = fields.BooleanField(default=False)

    class Meta:
        table = "inbound_event"
        unique_together = (("platform", "tenant", "event_id"),)


class Installation(Model):
    """A workspace that installed the app by OAuth: its bot token, sealed (never stored plain).

    One row per (platform, enterprise, team); removed when the workspace uninstalls or revokes
    its tokens. The workspace's communities are not tied to this row and outlive it.
    """

    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=16)
    enterprise = fields.CharField(max_length=64, default="")
    tenant = fields.CharField(max_length=64, db_index=True)
    app_id = fields.CharField(max_length=64, default="")
    bot_id = fields.CharField(max_length=64, default="")
    bot_user_id = fields.CharField(max_length=64, default="")
    bot_scopes = fields.TextField(default="")
    bot_token_sealed = fields.TextField()  # Fernet token of the bot token
    installer_id = fields.CharField(max_length=64, default="")
    installed_at = fields.FloatField()

    class Meta:
        table = "installation"
        unique_together = (("platform", "enterprise", "tenant"),)


class OAuthState(Model):
    """An OAuth `state` handed to a browser on the install page, consumed once on the redirect."""

    id = fields.IntField(primary_key=True)
    state = fields.CharField(max_length=64, unique=True)
    expires_at = fields.FloatField(db_index=True)

    class Meta:
        table = "oauth_state"
