"""The contact database: tenants, contacts, communities, memberships, requests, deliveries."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class Strategy(StrEnum):
    """How `--one` picks among available members."""

    LEAST_RECENT = "least-recent"
    ROUND_ROBIN = "round-robin"
    RANDOM = "random"
    LONGEST_IDLE = "longest-idle"


class Mode(StrEnum):
    """What a group request resolves to."""

    ONE = "one"
    SOME = "some"
    AVAILABLE = "available"
    EVERYONE = "everyone"


class RequestState(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


OPEN_DELIVERY = (DeliveryState.PENDING, DeliveryState.SENT)


class Tenant(Model):
    """One Slack workspace or Discord guild: the wall nothing crosses."""

    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=16)
    external_id = fields.CharField(max_length=64)
    name = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

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
    strategy = fields.CharEnumField(Strategy, max_length=16, default=Strategy.LEAST_RECENT)
    mention_mode = fields.CharEnumField(Mode, max_length=16, default=Mode.AVAILABLE)
    capacity = fields.IntField(default=3)
    linked_group = fields.CharField(max_length=64, null=True)
    rr_cursor = fields.IntField(default=0)
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
    mode = fields.CharEnumField(Mode, max_length=16)
    wanted = fields.IntField(default=1)
    text = fields.TextField()
    origin_channel = fields.CharField(max_length=64, null=True)
    origin_thread = fields.CharField(max_length=64, null=True)
    origin_link = fields.CharField(max_length=512, null=True)
    state = fields.CharEnumField(RequestState, max_length=16, default=RequestState.OPEN)
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
    state = fields.CharEnumField(
        DeliveryState, max_length=16, default=DeliveryState.PENDING, db_index=True
    )
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    answered_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True, db_index=True)
    next_attempt_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    message_ref = fields.CharField(max_length=128, null=True)
    error = fields.CharField(max_length=255, null=True)
    request_id: int
    target_id: int

    class Meta:
        table = "delivery"


class Resolution(Model):
    """The audit of one resolution: who was chosen, who was skipped and why."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[Request] = fields.ForeignKeyField(
        "models.Request", related_name="resolutions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    strategy = fields.CharField(max_length=16)
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
